"""What only the local backend does: its fallback path without util-linux, and its rule
that only root may choose another user."""

from __future__ import annotations

import os
import subprocess
import time

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


def test_as_root_a_sandbox_never_takes_a_uid_someone_else_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A uid of the sandbox's own is scrubbed and killed at reset: it must never be a
    user's, a rootless container's (subordinate ids) or one that runs processes."""
    if os.geteuid() != 0:
        pytest.skip("sandboxes get a uid of their own only as root")
    from taskgym import SandboxError
    from taskgym.sandboxes import local

    busy = subprocess.Popen(
        ["setpriv", "--reuid=123457", "--regid=123457", "--clear-groups", "sleep", "30"]
    )
    try:
        time.sleep(0.1)
        for taken in ((65534, 65534), (123457, 123457)):  # an account; a uid that runs
            monkeypatch.setattr(local, "_UID_RANGE", taken)
            with pytest.raises(SandboxError, match="no free uid"):
                LocalSandbox()
        monkeypatch.setattr(local, "_UID_RANGE", (123458, 123458))
        monkeypatch.setattr(local, "_subordinate_ids", lambda: [(123400, 123500)])
        with pytest.raises(SandboxError, match="no free uid"):
            LocalSandbox()
    finally:
        busy.kill()
        busy.wait()
    monkeypatch.undo()
    with LocalSandbox() as box:
        assert 100_000 <= box.uid <= 199_999
