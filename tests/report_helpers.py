"""What the tests of taskgym report share: a chat agent's run against the scripted
server (tests/openai_server.py), hostile markup for its replies, and a real headless
Chromium that opens a page, dumps the document it built, and measures it with a probe."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taskgym.agents import make_agent
from taskgym.run_file import open_run_file, write_record
from taskgym.runner import run_episodes
from tests.conftest import missing
from tests.openai_server import ChatServer

# Markup a model might write to run code in whoever opens the report: it closes the
# elements a transcript might sit in, then opens elements that would set the title.
HOSTILE = (
    "<script>document.title='pwned-script'</script>"
    "</textarea></pre></details><img src=x onerror=\"document.title='pwned-img'\">"
    "<svg onload=\"document.title='pwned-svg'\"></svg>"
    '<a href="javascript:document.title=1" onmouseover="document.title=2">x</a>'
)


def chat_run(
    path: Path,
    reply: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    episodes: int = 5,
    samples: int = 1,
) -> None:
    """The openai agent (model ``scripted-7b``, USD 2 and 8 a million tokens in and out)
    on ArithmeticEasy-v0 against a chat server answering ``reply``, written to ``path``."""
    with ChatServer(reply) as server, open_run_file(path) as out:
        agent = make_agent(
            "openai", model="scripted-7b", base_url=server.url, price_in=2.0, price_out=8.0
        )
        played = run_episodes(
            "taskgym/ArithmeticEasy-v0", agent, episodes=episodes, samples=samples
        )
        for record in played:
            write_record(out, record)


def chromium() -> str:
    """Chromium's path; a skip (a failure where CI requires it) where it is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        missing("chromium", "chromium is not installed (apt-get install chromium)")
    assert browser is not None
    return browser


def browse(page: Path, *what: str, width: int = 1200) -> str:
    """Chromium's run of ``page``: with ``--dump-dom``, the document its scripts left."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},900"]
    flags.append(f"--user-data-dir={page.parent / 'profile'}")
    result = subprocess.run(
        [chromium(), *flags, *what, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


# Measures the page as laid out: every bar against its track and axis, every label
# against the box it is in, and whatever in the document could run code.
_PROBE = """<script>
const box = (e) => e.getBoundingClientRect();
const found = {bars: [], labels: [], overlaps: [], scripts: document.scripts.length,
  handlers: [], images: document.querySelectorAll('img, svg, iframe, object').length,
  title: document.title, pageWidth: document.documentElement.scrollWidth,
  viewWidth: document.documentElement.clientWidth};
for (const e of document.querySelectorAll('*'))
  for (const a of e.attributes)
    if (a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value)) found.handlers.push(a.name);
for (const chart of document.querySelectorAll('.chart')) {
  const axis = chart.querySelector('.axis');
  for (const track of chart.querySelectorAll('.track')) {
    const bar = track.querySelector('.bar');
    found.bars.push({chart: chart.id, value: +bar.dataset.value, track: box(track),
      bar: box(bar), axis: axis ? box(axis) : null});
  }
  for (const label of chart.querySelectorAll('.label, .bar-run, .value, .bin')) {
    found.labels.push({text: label.textContent, scroll: label.scrollWidth,
      client: label.clientWidth, box: box(label)});
  }
  for (const group of chart.querySelectorAll('.group')) {
    const label = group.querySelector('.label');
    if (!label) continue;
    for (const track of group.querySelectorAll('.track'))
      if (box(label).right > box(track).left) found.overlaps.push(label.textContent);
  }
}
document.body.setAttribute('data-probe', JSON.stringify(found));
</script></body>"""


def probe(page: Path, width: int = 1200) -> dict[str, Any]:
    """The page's measures in Chromium at ``width`` pixels: a copy of it that carries
    the probe, without the Content-Security-Policy that would stop the probe (and
    anything else) from running."""
    text = page.read_text(encoding="utf-8")
    probed = page.with_name(page.stem + f"-probe-{width}.html")
    without_policy = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    assert without_policy != text
    probed.write_text(without_policy.replace("</body>", _PROBE), encoding="utf-8")
    dom = browse(probed, "--dump-dom", width=width)
    found = re.search(r'<body data-probe="([^"]*)"', dom)
    assert found, dom[:2000]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result
