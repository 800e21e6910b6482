"""A sandbox's zygotes, one per purpose, started on first use: what tasks that grade
programs call (:func:`zygote_for`), and the scrub that keeps them warm between episodes
(:func:`scrub_for_next_episode`)."""

from __future__ import annotations

import threading
import weakref

from taskgym.sandboxes.base import Sandbox
from taskgym.sandboxes.zygote.client import Zygote

__all__ = ["scrub_for_next_episode", "zygote_for"]

# A sandbox's zygotes by purpose: assert-style grading keeps the tests and the candidate
# in zygotes of their own, so no process the candidate descends from ever held the tests.
_ZYGOTES: weakref.WeakKeyDictionary[Sandbox, dict[str, Zygote]] = weakref.WeakKeyDictionary()
_ZYGOTES_LOCK = threading.Lock()


def zygote_for(sandbox: Sandbox, purpose: str = "programs") -> Zygote:
    """The zygote of ``sandbox`` for ``purpose``, started on first use and again after
    the sandbox was reset (which stops it): what tasks that grade programs call in
    ``check``."""
    with _ZYGOTES_LOCK:
        zygotes = _ZYGOTES.setdefault(sandbox, {})
        zygote = zygotes.get(purpose)
        if zygote is None or not zygote.usable:
            zygote = Zygote(sandbox)
            zygotes[purpose] = zygote
        return zygote


def scrub_for_next_episode(sandbox: Sandbox) -> bool:
    """Whether ``sandbox`` was made as new for another episode by its running zygotes
    (kept warm); False means the caller must reset it (see
    :meth:`Zygote.scrub <taskgym.sandboxes.zygote.Zygote.scrub>`)."""
    with _ZYGOTES_LOCK:
        zygotes = list(_ZYGOTES.get(sandbox, {}).values())
    return bool(zygotes) and all(zygote.scrub() for zygote in zygotes)
