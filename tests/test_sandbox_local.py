"""What only the local backend does: its fallback path without util-linux, and its rule
that only root may choose another user."""

from __future__ import annotations

import os

import pytest

from taskgym import Limits
from taskgym.sandboxes.local import LocalSandbox

PY = "/usr/bin/python3"


def test_non_root_user_cannot_ask_for_another_uid() -> None:
    if os.geteuid() == 0:
        pytest.skip("only meaningful without root")
    from taskgym import SandboxError

    with pytest.raises(SandboxError, match="needs root"):
        LocalSandbox(run_as_uid=os.geteuid() + 1)


def test_preexec_fallback_applies_the_same_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where util-linux's prlimit is missing, a preexec_fn applies the limits."""
    monkeypatch.setattr("shutil.which", lambda name: None)
    box = LocalSandbox()
    try:
        assert box._prlimit is None
        result = box.run(
            [PY, "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"],
            limits=Limits(memory_bytes=300 * 1024 * 1024),
        )
        assert int(result.out) == 300 * 1024 * 1024
        if os.geteuid() == 0:  # a uid of the sandbox's own
            assert box.run(["id", "-u"]).out.strip() == str(box.uid) != "65534"
    finally:
        box.close()


def test_tmpfs_quota_needs_root() -> None:
    if os.geteuid() == 0:
        pytest.skip("only meaningful without root")
    from taskgym import SandboxUnavailableError

    with pytest.raises(SandboxUnavailableError, match="need root"):
        LocalSandbox(disk_bytes=1024 * 1024)
