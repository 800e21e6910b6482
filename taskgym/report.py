"""``taskgym report RUN.jsonl``: a run file as one self-contained HTML page and a table.

The page has, for each env: episodes, mean reward, pass rate (episodes whose verdict
is solved) and mean turns; a bar chart of mean reward per env; the distribution of
rewards and of turns; and each env's worst and best episodes with their transcripts.
Charts are inline SVG and the page carries its own styles: it opens from disk, offline,
in any browser, and prints. Everything from the run file is HTML-escaped, since
transcripts hold whatever agents and sandboxes wrote.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["EnvRow", "render_html", "summary_rows"]

_TRANSCRIPT_CHARS = 4000  # of each action or observation shown on the page
_SHOWN_EPISODES = 2  # worst and best, each, per env


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


def summary_rows(records: Sequence[dict[str, Any]]) -> list[EnvRow]:
    """One row an env, in order of first appearance."""
    rows = []
    for env_id, group in _by_env(records).items():
        rewards = [float(r["reward"]) for r in group]
        rows.append(
            EnvRow(
                env_id=env_id,
                episodes=len(group),
                mean_reward=sum(rewards) / len(group),
                pass_rate=sum(bool((r.get("verdict") or {}).get("solved")) for r in group)
                / len(group),
                mean_turns=sum(len(r["actions"]) for r in group) / len(group),
                failed=sum(not r.get("verdict") for r in group),
            )
        )
    return rows


def _by_env(records: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The records of each env, envs in order of first appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(str(record["env_id"]), []).append(record)
    return groups


def render_html(records: Sequence[dict[str, Any]], title: str) -> str:
    """The report page for ``records``."""
    rows = summary_rows(records)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{len(records)} episodes of {len(rows)} env(s).</p>",
        '<h2>Per env</h2><table id="summary"><thead><tr><th>env</th><th>episodes</th>'
        "<th>mean reward</th><th>pass rate</th><th>mean turns</th></tr></thead><tbody>",
    ]
    for row in rows:
        parts.append(
            f"<tr><td>{_e(row.env_id)}</td><td>{row.episodes}</td>"
            f"<td>{row.mean_reward:.3f}</td><td>{row.pass_rate:.1%}</td>"
            f"<td>{row.mean_turns:.2f}</td></tr>"
        )
    parts.append("</tbody></table>")
    parts.append("<h2>Mean reward per env</h2>")
    parts.append(_bars([(r.env_id, r.mean_reward) for r in rows]))
    parts.append("<h2>Rewards</h2>")
    parts.append(_histogram([float(r["reward"]) for r in records], "reward"))
    parts.append("<h2>Turns</h2>")
    parts.append(_histogram([float(len(r["actions"])) for r in records], "turns"))
    parts.append("<h2>Worst and best episodes</h2>")
    for env_id, episodes_of_env in _by_env(records).items():
        group = sorted(episodes_of_env, key=lambda r: (float(r["reward"]), -len(r["actions"])))
        chosen = group[:_SHOWN_EPISODES]
        best = [r for r in group[-_SHOWN_EPISODES:] if not any(r is c for c in chosen)]
        parts.append(f"<h3>{_e(env_id)}</h3>")
        for label, episodes in (("worst", chosen), ("best", best[::-1])):
            for record in episodes:
                parts.append(_transcript(record, label))
    parts.append("</body></html>")
    return "\n".join(parts)


def _transcript(record: dict[str, Any], label: str) -> str:
    verdict = record.get("verdict") or {}
    head = (
        f"{label}: episode {record.get('episode', '?')}, task {record.get('task_id', '?')}, "
        f"reward {float(record['reward']):.3f}, {len(record['actions'])} turn(s)"
    )
    lines = [f'<details class="episode"><summary>{_e(head)}</summary>']
    observations = list(record["observations"])
    if observations:
        lines.append(f'<pre class="observation">{_clip(observations[0])}</pre>')
    for i, action in enumerate(record["actions"]):
        lines.append(f'<pre class="action">&gt; {_clip(action)}</pre>')
        if i + 1 < len(observations) and observations[i + 1]:
            lines.append(f'<pre class="observation">{_clip(observations[i + 1])}</pre>')
    lines.append(f'<pre class="verdict">verdict: {_clip(json.dumps(verdict, indent=1))}</pre>')
    lines.append("</details>")
    return "\n".join(lines)


def _bars(values: Sequence[tuple[str, float]], fmt: str = ".3f") -> str:
    top = max([v for _, v in values] + [1e-9])
    width, bar_height = 640, 22
    height = bar_height * len(values) + 10
    out = [f'<svg class="chart" width="{width}" height="{height}" role="img">']
    for i, (name, value) in enumerate(values):
        y = 5 + i * bar_height
        length = 0 if top <= 0 else max(value, 0) / top * (width - 320)
        out.append(
            f'<text x="0" y="{y + 15}">{_e(name[-40:])}</text>'
            f'<rect x="300" y="{y + 3}" width="{length:.1f}" height="{bar_height - 6}"></rect>'
            f'<text x="{305 + length:.1f}" y="{y + 15}">{value:{fmt}}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _histogram(values: Iterable[float], what: str, bins: int = 10) -> str:
    data = list(values)
    low, high = min(data), max(data)
    if high == low:
        counts = [(f"{low:g}", len(data))]
    else:
        step = (high - low) / bins
        counts_by_bin = [0] * bins
        for value in data:
            counts_by_bin[min(int((value - low) / step), bins - 1)] += 1
        counts = [
            (f"{low + i * step:.3g}-{low + (i + 1) * step:.3g}", n)
            for i, n in enumerate(counts_by_bin)
        ]
    return _bars([(f"{what} {label}", float(n)) for label, n in counts], fmt=".0f")


def _clip(text: object) -> str:
    value = str(text)
    if len(value) > _TRANSCRIPT_CHARS:
        value = value[:_TRANSCRIPT_CHARS] + f"\n[... {len(value) - _TRANSCRIPT_CHARS} more]"
    return _e(value)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 4px 10px; }
th { background: #f3f3f3; } td:not(:first-child) { text-align: right; }
.chart rect { fill: #4a7bd0; } .chart text { font-size: 12px; }
pre { white-space: pre-wrap; margin: 4px 0; padding: 6px; border-radius: 4px; }
.action { background: #eef4ff; } .observation { background: #f6f6f6; }
.verdict { background: #fff7e6; } details { margin: 8px 0; }
"""
