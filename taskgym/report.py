"""``taskgym report A.jsonl [B.jsonl ...]``: run files as one self-contained HTML page.

A *run* is the episodes of one agent (and model) in one file: a file of several agents'
episodes holds several runs, and several files are compared run by run. The page has

- the runs: episodes, envs, mean reward, pass rate, turns, wall time, and the tokens,
  requests and cost the agent reported (where it did);
- per env, each run side by side: a bar chart of mean reward drawn to scale (0 to 1,
  widened only when a reward spec pays outside it) and a table;
- pass@1 and pass@k with their 95% intervals (:mod:`taskgym.evaluation`) for runs that
  played a problem several times;
- per task, each run's reward, the tasks where the runs differ first and marked;
- the distribution of rewards and turns of each run;
- each episode's transcript (a chat agent's messages, else the prompt, actions and
  observations), its verdict and what the agent reported.

Charts are HTML boxes sized in percent of their axis, so a bar's length is its value and
a long env id wraps in its column instead of running into the bars. The page loads
nothing (styles inline, no script, no image) and forbids itself scripts and loads by its
Content-Security-Policy; everything taken from a run file is HTML-escaped, since
transcripts hold whatever agents and sandboxes wrote.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from taskgym.errors import ConfigError
from taskgym.evaluation import PassAtK, pass_at_k_table, solved

__all__ = [
    "DEFAULT_TRANSCRIPTS",
    "EnvRow",
    "Run",
    "Usage",
    "group_runs",
    "render_html",
    "summary_rows",
    "usage",
]

Record = Mapping[str, Any]

DEFAULT_TRANSCRIPTS = 100
"""Episodes a run whose transcripts the page holds, unless told otherwise."""
_TEXT_CHARS = 4000  # of each action, observation or message shown on the page
_BLOCKS = 300  # actions, observations or messages an episode shown on the page
_COLORS = ("#3b6fc4", "#e07b28", "#3a9b5a", "#b8443f", "#7d5bb5", "#8c6d31", "#c55a9d", "#555")
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class EnvRow:
    env_id: str
    episodes: int
    mean_reward: float
    pass_rate: float
    mean_turns: float
    failed: int
    """Episodes with no verdict at all (a run's failures are not in its file; this
    counts records whose verdict is empty)."""


@dataclass(frozen=True)
class Run:
    """The episodes of one agent (and model) in one run file."""

    name: str
    """How the page names the run: the file, and the agent when the file holds several."""
    path: str
    agent: str
    model: str | None
    records: list[Record] = field(default_factory=list)


@dataclass(frozen=True)
class Usage:
    """What the agent reported spending over a run's episodes (sums)."""

    episodes: int
    """Episodes that reported usage."""
    requests: int
    prompt_tokens: int
    completion_tokens: int
    tokens: int
    cost_usd: float | None
    """None when no episode reported a cost."""


def summary_rows(records: Sequence[Record]) -> list[EnvRow]:
    """One row an env, in order of first appearance."""
    rows = []
    for env_id, group in _by_env(records).items():
        rewards = [float(r["reward"]) for r in group]
        rows.append(
            EnvRow(
                env_id=env_id,
                episodes=len(group),
                mean_reward=sum(rewards) / len(group),
                pass_rate=sum(map(solved, group)) / len(group),
                mean_turns=sum(len(r["actions"]) for r in group) / len(group),
                failed=sum(not r.get("verdict") for r in group),
            )
        )
    return rows


def group_runs(files: Mapping[str, Sequence[Record]]) -> list[Run]:
    """The runs of run files (name -> records): one a file and agent (and model), in
    order of first appearance."""
    runs = []
    for path, records in files.items():
        groups: dict[tuple[str, str | None], list[Record]] = {}
        for record in records:
            groups.setdefault(_agent_of(record), []).append(record)
        for (agent, model), group in groups.items():
            name = path if len(groups) == 1 else f"{path} · {_agent_label(agent, model)}"
            runs.append(Run(name, path, agent, model, group))
    return runs


def usage(records: Iterable[Record]) -> Usage | None:
    """The requests, tokens and cost the agent reported over ``records``; None when no
    episode reported any (agents that are not models)."""
    reported = [_stats(r) for r in records]
    reported = [s for s in reported if _USAGE_KEYS & set(s)]
    if not reported:
        return None
    prompt = sum(_int(s.get("prompt_tokens")) for s in reported)
    completion = sum(_int(s.get("completion_tokens")) for s in reported)
    tokens = sum(
        _int(s.get("total_tokens", s.get("tokens")))
        or _int(s.get("prompt_tokens")) + _int(s.get("completion_tokens"))
        for s in reported
    )
    costs = [float(s["cost_usd"]) for s in reported if _is_number(s.get("cost_usd"))]
    return Usage(
        episodes=len(reported),
        requests=sum(_int(s.get("requests")) for s in reported),
        prompt_tokens=prompt,
        completion_tokens=completion,
        tokens=tokens,
        cost_usd=sum(costs) if costs else None,
    )


_USAGE_KEYS = frozenset(
    {"requests", "prompt_tokens", "completion_tokens", "tokens", "total_tokens", "cost_usd"}
)


def render_html(
    runs: Sequence[Run] | Sequence[Record],
    title: str,
    *,
    transcripts: int = DEFAULT_TRANSCRIPTS,
) -> str:
    """The report page of ``runs`` (or of one run file's records), with the transcripts
    of up to ``transcripts`` episodes a run (those of the tasks where runs differ
    first)."""
    if not runs:
        raise ConfigError("nothing to report: no episodes")
    chosen = (
        [r for r in runs if isinstance(r, Run)]
        if isinstance(runs[0], Run)
        else group_runs({"run": [r for r in runs if not isinstance(r, Run)]})
    )
    return _Page(chosen, title, transcripts).html()


class _Page:
    """The page of some runs, section by section."""

    def __init__(self, runs: Sequence[Run], title: str, transcripts: int) -> None:
        for run in runs:
            _check(run)
        self.runs, self.title, self.transcripts = list(runs), title, transcripts
        self.envs = list(dict.fromkeys(str(r["env_id"]) for run in runs for r in run.records))
        self.domain = _reward_domain(runs)
        self.tasks = _task_table(runs)
        self.anchors: dict[tuple[int, int], str] = {}  # (run, record) -> its transcript
        self.shown = [self._shown(i, run) for i, run in enumerate(self.runs)]

    def html(self) -> str:
        parts = [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(self.title)}</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{_e(self.title)}</h1>",
            self._runs_table(),
            self._per_env(),
            self._pass_at_k(),
            self._per_task(),
            self._distributions(),
            self._episodes(),
            "</body></html>",
        ]
        return "\n".join(p for p in parts if p)

    # -- the runs --------------------------------------------------------------------

    def _runs_table(self) -> str:
        episodes = sum(len(run.records) for run in self.runs)
        head = (
            f"<p>{episodes} episodes of {len(self.envs)} env(s) in {len(self.runs)} run(s)."
            f"{self._scale_note()}</p>"
        )
        used = [usage(run.records) for run in self.runs]
        columns = ["run", "agent", "model", "episodes", "envs", "mean reward", "pass rate"]
        columns += ["mean turns", "wall time"]
        if any(used):
            columns += ["requests", "tokens (in + out)", "cost (USD)"]
        columns += ["sandbox", "taskgym"]
        rows = []
        for i, (run, spent) in enumerate(zip(self.runs, used, strict=True)):
            rewards = [float(r["reward"]) for r in run.records]
            cells = [
                self._run_cell(i),
                _e(run.agent),
                _e(run.model or "-"),
                str(len(run.records)),
                str(len({str(r["env_id"]) for r in run.records})),
                f"{_mean(rewards):.3f}",
                f"{_mean([float(solved(r)) for r in run.records]):.1%}",
                f"{_mean([float(len(r['actions'])) for r in run.records]):.2f}",
                f"{sum(_float(r.get('seconds')) for r in run.records):.1f}s",
            ]
            if any(used):
                cells += _usage_cells(spent)
            cells.append(_e(_distinct(r.get("sandbox") or "none" for r in run.records)))
            cells.append(_e(_distinct(r.get("taskgym_version") or "?" for r in run.records)))
            rows.append(cells)
        return head + "<h2>Runs</h2>" + _table(columns, rows, table_id="runs")

    def _scale_note(self) -> str:
        low, high = self.domain
        if (low, high) == (0.0, 1.0):
            return ""
        return f" Rewards here reach outside 0..1, so reward axes run from {low:g} to {high:g}."

    def _run_cell(self, i: int) -> str:
        swatch = f'<span class="swatch" style="background:{_COLORS[i % len(_COLORS)]}"></span>'
        name = f'<span class="run-name">{_e(self.runs[i].name)}</span>'
        return f'<span class="run">{swatch}{name}</span>'

    # -- per env -------------------------------------------------------------------

    def _per_env(self) -> str:
        rows_of = [{row.env_id: row for row in summary_rows(run.records)} for run in self.runs]
        chart = []
        table = []
        for env_id in self.envs:
            present = [(i, rows[env_id]) for i, rows in enumerate(rows_of) if env_id in rows]
            chart.append(
                (env_id, [(i, row.mean_reward, f"{row.mean_reward:.3f}") for i, row in present])
            )
            for i, row in present:
                spent = usage(r for r in self.runs[i].records if r["env_id"] == env_id)
                table.append(
                    [
                        _e(env_id),
                        self._run_cell(i),
                        str(row.episodes),
                        f"{row.mean_reward:.3f}",
                        f"{row.pass_rate:.1%}",
                        f"{row.mean_turns:.2f}",
                        str(row.failed),
                        _number(spent.tokens) if spent else "-",
                        _cost(spent),
                    ]
                )
        columns = ["env", "run", "episodes", "mean reward", "pass rate", "mean turns"]
        columns += ["no verdict", "tokens", "cost (USD)"]
        # Columns that would say nothing (no episode without a verdict, no agent that
        # reported usage) are left out.
        keep = [
            n
            for n, name in enumerate(columns)
            if name not in ("no verdict", "tokens", "cost (USD)")
            or any(row[n] not in ("0", "-") for row in table)
        ]
        columns = [columns[n] for n in keep]
        table = [[row[n] for n in keep] for row in table]
        return (
            "<h2>Mean reward per env</h2>"
            + self._chart(chart, self.domain, chart_id="reward-chart")
            + "<h2>Per env</h2>"
            + _table(columns, table, table_id="summary")
        )

    def _chart(
        self,
        groups: Sequence[tuple[str, Sequence[tuple[int, float, str]]]],
        domain: tuple[float, float],
        chart_id: str,
    ) -> str:
        """Horizontal bars to scale: a group a label (an env), a bar a run in it."""
        several = len(self.runs) > 1
        out = [f'<div class="chart{" several" if several else ""}" id="{chart_id}">']
        for label, bars in groups:
            out.append(f'<div class="group"><div class="label">{_e(label)}</div><div>')
            for i, value, text in bars:
                name = f'<div class="bar-run">{self._run_cell(i)}</div>' if several else ""
                out.append(
                    f'<div class="bar-row">{name}{_track(value, domain, _COLORS[i % 8])}'
                    f'<div class="value">{text}</div></div>'
                )
            out.append("</div></div>")
        run_column = "<div></div>" if several else ""
        out.append(
            f'<div class="group axis-row"><div></div><div class="bar-row">{run_column}'
            f"{_axis(domain)}<div></div></div></div>"
        )
        out.append("</div>")
        return "".join(out)

    # -- pass@k --------------------------------------------------------------------

    def _pass_at_k(self) -> str:
        most = max(_samples_a_problem(run.records) for run in self.runs)
        if most < 2:
            return ""
        ks = sorted({1, most} | ({10} if most > 10 else set()))
        rows, chart = [], []
        tables = [pass_at_k_table(run.records, ks) for run in self.runs]
        for env_id in self.envs:
            bars: list[tuple[int, float, str]] = []
            for i, table in enumerate(tables):
                for entry in (e for e in table if e.env_id == env_id):
                    rows.append(_pass_row(entry, self._run_cell(i), ks))
                    top = max(entry.pass_at)
                    bars.append((i, entry.pass_at[top], f"pass@{top} {entry.pass_at[top]:.3f}"))
            chart.append((env_id, bars))
        columns = ["env", "run", "problems", "samples a problem"]
        columns += [f"pass@{k} [95% interval]" for k in ks]
        return (
            "<h2>pass@k</h2><p>Runs that played a problem several times: pass@k is the "
            "chance that one of k samples solves it (unbiased, averaged over problems; "
            "intervals from a bootstrap over problems, where there are enough).</p>"
            + _table(columns, rows, table_id="pass-at-k")
            + self._chart(chart, (0.0, 1.0), chart_id="pass-chart")
        )

    # -- per task ------------------------------------------------------------------

    def _per_task(self) -> str:
        several = len(self.runs) > 1
        keys = sorted(self.tasks, key=lambda key: not self._differ(key) if several else False)
        differing = sum(self._differ(key) for key in keys) if several else 0
        rows, classes = [], []
        for key in keys:
            cells = [_e(key[0]), _e(key[1])]
            for i in range(len(self.runs)):
                cells.append(self._task_cell(i, self.tasks[key].get(i, [])))
            rows.append(cells)
            classes.append("differs" if several and self._differ(key) else "")
        names = [self._run_cell(i) for i in range(len(self.runs))]
        note = (
            f"<p>{differing} of {len(keys)} task(s) have different rewards in different runs; "
            "they come first, marked.</p>"
            if several
            else f"<p>{len(keys)} task(s).</p>"
        )
        return (
            "<h2>Per task</h2>"
            + note
            + _table(["env", "task", *names], rows, table_id="tasks", row_classes=classes)
        )

    def _differ(self, key: tuple[str, str]) -> bool:
        means = {
            round(_mean([float(r["reward"]) for _, r in v]), 9) for v in self.tasks[key].values()
        }
        return len(means) > 1

    def _task_cell(self, run: int, episodes: Sequence[tuple[int, Record]]) -> str:
        if not episodes:
            return "-"
        reward = _mean([float(r["reward"]) for _, r in episodes])
        text = f"{reward:.3f}"
        if len(episodes) > 1:
            text += f" ({sum(solved(r) for _, r in episodes)}/{len(episodes)} solved)"
        anchor = next(
            (self.anchors[(run, j)] for j, _ in episodes if (run, j) in self.anchors), None
        )
        return f'<a href="#{anchor}">{text}</a>' if anchor else text

    # -- distributions ---------------------------------------------------------------

    def _distributions(self) -> str:
        out = ['<h2>Rewards and turns</h2><div class="panels">']
        for i, run in enumerate(self.runs):
            rewards = [float(r["reward"]) for r in run.records]
            turns = [len(r["actions"]) for r in run.records]
            out.append(f'<div class="panel"><h3>{self._run_cell(i)}</h3>')
            out.append("<h4>rewards</h4>" + _histogram(_reward_bins(rewards, self.domain), i))
            out.append("<h4>turns</h4>" + _histogram(_turn_bins(turns), i))
            out.append("</div>")
        out.append("</div>")
        return "".join(out)

    # -- transcripts -----------------------------------------------------------------

    def _shown(self, i: int, run: Run) -> list[int]:
        """The records of run ``i`` whose transcripts the page holds, in order: those of
        tasks where the runs differ first, then the others, up to the limit."""
        order = list(range(len(run.records)))
        if len(self.runs) > 1:
            order.sort(key=lambda j: not self._differ(_task_key(run.records[j])))
        chosen = sorted(order[: self.transcripts])
        for j in chosen:
            self.anchors[(i, j)] = f"episode-{i}-{j}"
        return chosen

    def _episodes(self) -> str:
        out = ["<h2>Episodes</h2>"]
        for i, run in enumerate(self.runs):
            shown = self.shown[i]
            out.append(
                f'<h3>{self._run_cell(i)}</h3><p class="note">{len(shown)} of '
                f"{len(run.records)} episode transcripts"
                + (
                    ""
                    if len(shown) == len(run.records)
                    else " (taskgym report --transcripts N holds more)"
                )
                + ".</p>"
            )
            for env_id in self.envs:
                mine = [j for j in shown if run.records[j]["env_id"] == env_id]
                if mine:
                    out.append(f"<h4>{_e(env_id)}</h4>")
                    out.extend(_transcript(run.records[j], self.anchors[(i, j)]) for j in mine)
        return "\n".join(out)


def _check(run: Run) -> None:
    """Refuse records the page cannot show, naming the first (a run file edited by
    hand, or not one: load_run checks only that the fields are there)."""
    for number, record in enumerate(run.records, 1):
        problem = _problem(record)
        if problem:
            raise ConfigError(
                f"{run.path}: episode record {number} {problem}; is this a run file "
                "written by taskgym run --out?"
            )


def _problem(record: Record) -> str | None:
    if not _is_number(record.get("reward")) or not math.isfinite(record["reward"]):
        return f"has the reward {record.get('reward')!r}, not a finite number"
    for key in ("actions", "observations"):
        if not isinstance(record.get(key), list):
            return f"has {key} that are not a list"
    rewards = record.get("rewards") or []
    if not isinstance(rewards, list) or not all(_is_number(r) for r in rewards):
        return "has rewards that are not a list of numbers"
    return None


def _pass_row(entry: PassAtK, run_cell: str, ks: Sequence[int]) -> list[str]:
    cells = [_e(entry.env_id), run_cell, str(entry.problems), str(entry.samples)]
    for k in ks:
        if k not in entry.pass_at:
            cells.append("-")
            continue
        low_high = entry.interval.get(k)
        interval = f" [{low_high[0]:.3f}, {low_high[1]:.3f}]" if low_high else ""
        cells.append(f"{entry.pass_at[k]:.3f}{interval}")
    return cells


def _transcript(record: Record, anchor: str) -> str:
    verdict = record.get("verdict") or {}
    outcome = "solved" if solved(record) else "not solved"
    head = (
        f"episode {record.get('episode', '?')} · task {record.get('task_id', '?')} · "
        f"reward {float(record['reward']):.3f} ({outcome}) · {len(record['actions'])} turn(s)"
        f" · seed {record.get('seed', '?')}"
        + (f" · sample {record['sample']}" if "sample" in record else "")
        + (" · truncated" if record.get("truncated") else "")
    )
    lines = [f'<details class="episode" id="{anchor}"><summary>{_e(head)}</summary>']
    messages = record.get("messages") or []
    blocks = _messages(messages) if isinstance(messages, list) and messages else _steps(record)
    lines.extend(blocks[:_BLOCKS])
    if len(blocks) > _BLOCKS:
        lines.append(f'<p class="note">[... {len(blocks) - _BLOCKS} more not shown]</p>')
    lines.append(_block("verdict", json.dumps(verdict, indent=1, ensure_ascii=False), "verdict"))
    for key in ("agent_stats", "options", "agent_options"):
        if record.get(key):
            lines.append(_block(key.replace("_", " "), json.dumps(record[key], ensure_ascii=False)))
    lines.append("</details>")
    return "\n".join(lines)


def _steps(record: Record) -> list[str]:
    """The prompt, then each action with the observation and reward it brought."""
    observations = [str(o) for o in record["observations"]]
    rewards = list(record.get("rewards") or [])
    lines = [_block("prompt", observations[0])] if observations else []
    for i, action in enumerate(record["actions"]):
        paid = f" (reward {float(rewards[i]):g})" if i < len(rewards) else ""
        lines.append(_block(f"action {i + 1}{paid}", str(action), "action"))
        if i + 1 < len(observations) and observations[i + 1]:
            lines.append(_block("observation", observations[i + 1]))
    return lines


def _messages(messages: Sequence[Any]) -> list[str]:
    """A chat agent's conversation, message by message, tool calls included."""
    lines = []
    for message in messages:
        if not isinstance(message, Mapping):
            lines.append(_block("message", json.dumps(message, ensure_ascii=False)))
            continue
        role = str(message.get("role", "?"))
        name = message.get("name") or message.get("tool_call_id")
        label = role + (f" ({name})" if name else "")
        for key in ("reasoning_content", "reasoning"):
            if message.get(key):
                lines.append(_block(f"{label}: reasoning", str(message[key]), "reasoning"))
        content = _content_text(message.get("content"))
        calls = message.get("tool_calls")
        if content or not calls:
            lines.append(_block(label, content, _role_class(role)))
        for call in calls if isinstance(calls, list) else []:
            lines.append(_block(f"{label}: tool call", _call_text(call), "action"))
    return lines


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: text shown, others as JSON
        return "\n".join(
            str(part["text"])
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
            else json.dumps(part, ensure_ascii=False)
            for part in content
        )
    return json.dumps(content, ensure_ascii=False)


def _call_text(call: Any) -> str:
    function = call.get("function") if isinstance(call, Mapping) else None
    if isinstance(function, Mapping):
        return f"{function.get('name', '?')}({function.get('arguments', '')})"
    return json.dumps(call, ensure_ascii=False)


def _role_class(role: str) -> str:
    return {"assistant": "action", "system": "system", "tool": "observation"}.get(
        role, "observation"
    )


def _block(label: str, text: str, kind: str = "observation") -> str:
    return (
        f'<div class="block {kind}"><div class="who">{_e(label)}</div>'
        f"<pre>{_clip(text)}</pre></div>"
    )


# -- charts -----------------------------------------------------------------------------


def _track(value: float, domain: tuple[float, float], color: str) -> str:
    """A bar from 0 to ``value`` on an axis over ``domain``, in percent of its width."""
    low, high = domain
    zero, end = _percent(0.0, domain), _percent(min(max(value, low), high), domain)
    left, width = min(zero, end), abs(end - zero)
    ticks = "".join(
        f'<div class="grid" style="left:{_percent(t, domain):.4g}%"></div>' for t in _ticks(domain)
    )
    return (
        f'<div class="track">{ticks}<div class="bar" data-value="{value:.6g}" '
        f'style="left:{left:.4g}%;width:{width:.4g}%;background:{color}"></div></div>'
    )


def _axis(domain: tuple[float, float]) -> str:
    labels = "".join(
        f'<span class="tick" style="left:{_percent(t, domain):.4g}%">{t:g}</span>'
        for t in _ticks(domain)
    )
    return f'<div class="axis">{labels}</div>'


def _ticks(domain: tuple[float, float]) -> list[float]:
    low, high = domain
    return [round(low + (high - low) * i / 4, 6) for i in range(5)]


def _percent(value: float, domain: tuple[float, float]) -> float:
    low, high = domain
    return (value - low) / (high - low) * 100


def _histogram(bins: Sequence[tuple[str, int]], run: int) -> str:
    top = max([n for _, n in bins] + [1])
    rows = [
        f'<div class="bar-row hist"><div class="bin">{_e(label)}</div>'
        f"{_track(n, (0.0, float(top)), _COLORS[run % 8])}"
        f'<div class="value">{n}</div></div>'
        for label, n in bins
    ]
    return f'<div class="chart histogram">{"".join(rows)}</div>'


def _reward_bins(rewards: Sequence[float], domain: tuple[float, float]) -> list[tuple[str, int]]:
    """Counts in ten bins over the reward axis; a bin's top is in the next bin but the
    last's (so 1.0 counts in 0.9-1)."""
    low, high = domain
    step = (high - low) / 10
    counts = [0] * 10
    for reward in rewards:
        counts[min(max(int((reward - low) / step), 0), 9)] += 1
    return [
        (f"{low + i * step:.3g} to {low + (i + 1) * step:.3g}", n) for i, n in enumerate(counts)
    ]


def _turn_bins(turns: Sequence[int]) -> list[tuple[str, int]]:
    """A bin a turn count where there are few, else ten bins."""
    low, high = min(turns), max(turns)
    if high - low < 12:
        return [(str(t), sum(1 for x in turns if x == t)) for t in range(low, high + 1)]
    step = (high - low + 1) / 10
    counts = [0] * 10
    for t in turns:
        counts[min(int((t - low) / step), 9)] += 1
    edges = [low + round(i * step) for i in range(11)]
    return [(f"{edges[i]}-{max(edges[i], edges[i + 1] - 1)}", n) for i, n in enumerate(counts)]


# -- data -------------------------------------------------------------------------------


def _by_env(records: Sequence[Record]) -> dict[str, list[Record]]:
    """The records of each env, envs in order of first appearance."""
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(str(record["env_id"]), []).append(record)
    return groups


def _task_key(record: Record) -> tuple[str, str]:
    return str(record["env_id"]), str(record.get("task_id", "?"))


def _task_table(runs: Sequence[Run]) -> dict[tuple[str, str], dict[int, list[tuple[int, Record]]]]:
    """Each (env, task): each run's episodes of it (record index, record)."""
    table: dict[tuple[str, str], dict[int, list[tuple[int, Record]]]] = {}
    for i, run in enumerate(runs):
        for j, record in enumerate(run.records):
            table.setdefault(_task_key(record), {}).setdefault(i, []).append((j, record))
    return table


def _samples_a_problem(records: Sequence[Record]) -> int:
    """The samples a problem of the run's best-sampled env: the fewest episodes any of
    its tasks has (what bounds k there). An env whose seeds drew one problem twice but
    others once has 1."""
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        counts[_task_key(record)] = counts.get(_task_key(record), 0) + 1
    fewest: dict[str, int] = {}
    for (env_id, _), count in counts.items():
        fewest[env_id] = min(fewest.get(env_id, count), count)
    return max(fewest.values(), default=0)


def _reward_domain(runs: Sequence[Run]) -> tuple[float, float]:
    """0..1, widened to hold every reward and mean (a reward spec may pay outside)."""
    rewards = [float(r["reward"]) for run in runs for r in run.records]
    return min([0.0, *rewards]), max([1.0, *rewards])


def _agent_of(record: Record) -> tuple[str, str | None]:
    options = record.get("agent_options")
    model = _stats(record).get("model") or (
        options.get("model") if isinstance(options, Mapping) else None
    )
    return str(record.get("agent", "?")), (str(model) if model else None)


def _agent_label(agent: str, model: str | None) -> str:
    return f"{agent} ({model})" if model else agent


def _stats(record: Record) -> Mapping[str, Any]:
    stats = record.get("agent_stats")
    return stats if isinstance(stats, Mapping) else {}


def _usage_cells(spent: Usage | None) -> list[str]:
    if spent is None:
        return ["-"] * 3
    split = f"{_number(spent.prompt_tokens)} + {_number(spent.completion_tokens)}"
    return [_number(spent.requests), f"{_number(spent.tokens)} ({split})", _cost(spent)]


def _cost(spent: Usage | None) -> str:
    return "-" if spent is None or spent.cost_usd is None else f"{spent.cost_usd:.4f}"


def _number(value: int) -> str:
    return f"{value:,}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int(value: Any) -> int:
    return int(value) if _is_number(value) else 0


def _float(value: Any) -> float:
    return float(value) if _is_number(value) else 0.0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _distinct(values: Iterable[object]) -> str:
    return ", ".join(dict.fromkeys(str(v) for v in values))


def _table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    table_id: str,
    row_classes: Sequence[str] = (),
) -> str:
    """A table of cells already escaped (columns are markup too: run names)."""
    head = "".join(f"<th>{c if '<' in c else _e(c)}</th>" for c in columns)
    body = []
    for n, row in enumerate(rows):
        kind = row_classes[n] if n < len(row_classes) and row_classes[n] else ""
        attr = f' class="{kind}"' if kind else ""
        body.append(f"<tr{attr}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return (
        f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _clip(text: object) -> str:
    value = str(text)
    if len(value) > _TEXT_CHARS:
        value = value[:_TEXT_CHARS] + f"\n[... {len(value) - _TEXT_CHARS} more characters]"
    return _e(value)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
h1, h2, h3, h4, p { overflow-wrap: anywhere; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; text-align: left; } td { overflow-wrap: break-word; }
td .run { white-space: nowrap; }
td:not(:first-child):not(:nth-child(2)) { text-align: right; }
tr.differs td { background: #fff3cd; } tr.differs td:first-child { border-left: 4px solid #e0a800; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .4em;
  border-radius: 2px; vertical-align: baseline; }
.chart { margin: 8px 0; max-width: 900px; }
.chart .group { display: grid; grid-template-columns: minmax(6em, 16em) minmax(10em, 1fr);
  gap: 2px 12px; align-items: center; padding: 3px 0; border-bottom: 1px dotted #e4e4e4; }
.chart .label { overflow-wrap: anywhere; font-size: 13px; }
.chart .bar-row { display: grid; grid-template-columns: minmax(0, 1fr) 7.5em; gap: 8px;
  align-items: center; }
.chart.several .bar-row { grid-template-columns: minmax(4em, 11em) minmax(0, 1fr) 7.5em; }
.bar-run { font-size: 12px; overflow-wrap: anywhere; }
.track { position: relative; height: 16px; background: #f4f6f9; }
.track .grid { position: absolute; top: 0; bottom: 0; width: 1px; background: #dde2ea; }
.track .bar { position: absolute; top: 2px; bottom: 2px; min-width: 0; }
.value { font-size: 12px; font-variant-numeric: tabular-nums; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.axis-row { border-bottom: none; }
.axis { position: relative; height: 1.2em; font-size: 11px; color: #555; }
.tick { position: absolute; transform: translateX(-50%); }
.panels { display: flex; flex-wrap: wrap; gap: 16px; }
.panel { flex: 1 1 320px; min-width: 0; border: 1px solid #e4e4e4; padding: 0 10px 8px; }
.histogram .bar-row { grid-template-columns: 7em minmax(0, 1fr) 3.5em; }
.bin { font-size: 12px; text-align: right; }
details.episode { margin: 6px 0; border: 1px solid #e4e4e4; padding: 4px 8px; }
details.episode:target { outline: 2px solid #e0a800; }
summary { cursor: pointer; overflow-wrap: anywhere; }
.block { margin: 4px 0; } .who { font-size: 11px; color: #666; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; padding: 6px;
  border-radius: 4px; }
.action pre { background: #eef4ff; } .observation pre { background: #f6f6f6; }
.system pre { background: #f0f0e8; } .reasoning pre { background: #f7f0fb; }
.verdict pre { background: #fff7e6; } .note { color: #555; }
"""
