"""The sandbox backends a benchmark compares: those that can run on this machine."""

from __future__ import annotations

from taskgym.sandboxes import unavailable_reason

BACKENDS = ("local", "bwrap", "docker")


def usable_backends() -> list[str]:
    """The backends that can run here, in order; each one that cannot is said, with why."""
    usable = []
    for backend in BACKENDS:
        reason = unavailable_reason(backend)
        if reason is None:
            usable.append(backend)
        else:
            print(f"# {backend} skipped: {reason}")
    return usable
