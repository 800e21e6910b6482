"""A fast grader process ("zygote"): a warm Python inside a sandbox that forks a child
per program, so grading a program costs a fork instead of an interpreter start.

The zygote runs inside the sandbox's boundary (``python3 -I -S``, started through the
sandbox like any command) and never in the caller's process: forking a trainer that
holds a model would copy its page tables at every program. Its side of the protocol is
:mod:`taskgym.inside.zygote_server`. The host's side, by concern:

- :mod:`~taskgym.sandboxes.zygote.process`: one zygote process kept alive (start,
  one exchange at a time, restart);
- :mod:`~taskgym.sandboxes.zygote.client`: :class:`Zygote`, what is done with it
  (run a program, open a session, scrub);
- :mod:`~taskgym.sandboxes.zygote.sessions`: programs that talk while they run,
  several opened at once (:func:`sessions`);
- :mod:`~taskgym.sandboxes.zygote.pairing`: two zygotes whose sessions talk directly;
- :mod:`~taskgym.sandboxes.zygote.per_sandbox`: a sandbox's zygotes by purpose
  (:func:`zygote_for`) and the scrub between episodes.

Examples:
    >>> from taskgym.sandboxes import make_sandbox
    >>> from taskgym.sandboxes.zygote import Zygote
    >>> with make_sandbox("local") as box, Zygote(box) as zygote:
    ...     zygote.run("print(input()[::-1])", stdin="olleh").execution.out
    'hello\\n'
"""

from __future__ import annotations

from taskgym.sandboxes.zygote.client import ProgramResult, Zygote
from taskgym.sandboxes.zygote.pairing import pair_zygotes, paired
from taskgym.sandboxes.zygote.per_sandbox import scrub_for_next_episode, zygote_for
from taskgym.sandboxes.zygote.sessions import Opening, PeerError, ZygoteSession, sessions

__all__ = [
    "Opening",
    "PeerError",
    "ProgramResult",
    "Zygote",
    "ZygoteSession",
    "pair_zygotes",
    "paired",
    "scrub_for_next_episode",
    "sessions",
    "zygote_for",
]
