"""The fake backend scripts results and keeps files in memory; the base class's rules
(paths, closed state) hold for it as for real backends."""

from __future__ import annotations

import pytest

from taskgym import ExecResult, SandboxClosedError, UnknownNameError, make_sandbox, sandbox_names
from taskgym.sandboxes import register_sandbox, resolve_sandbox_name
from taskgym.sandboxes.fake import FakeSandbox


def test_fake_records_calls_and_answers_with_the_handler() -> None:
    box = FakeSandbox(lambda argv, stdin: ExecResult(0, stdout=stdin[::-1]))
    assert box.run(["rev"], stdin="abc").out == "cba"
    assert box.run("echo hi").exit_code == 0
    assert box.calls == [(["rev"], b"abc"), (["/bin/sh", "-c", "echo hi"], b"")]


def test_fake_files_and_path_rules() -> None:
    box = make_sandbox("fake")
    box.write_file("./a//b.txt", "x")
    assert box.read_file("a/b.txt") == b"x"
    with pytest.raises(FileNotFoundError):
        box.read_file("missing")
    with pytest.raises(OSError, match="max_bytes"):
        box.read_file("a/b.txt", max_bytes=0)
    with pytest.raises(ValueError, match="relative"):
        box.write_file("/etc/x", "y")
    box.close()
    with pytest.raises(SandboxClosedError):
        box.run(["true"])


def test_names_resolve_and_unknown_names_list_the_known_ones() -> None:
    assert resolve_sandbox_name("auto") == "local"
    assert {"auto", "local", "fake"} <= set(sandbox_names())
    with pytest.raises(UnknownNameError, match="choose one of: 'auto', 'fake', 'local'"):
        make_sandbox("firecracker")
    with pytest.raises(UnknownNameError):
        make_sandbox(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="other than 'auto'"):
        register_sandbox("auto", FakeSandbox)


def test_a_registered_backend_is_made_by_name() -> None:
    from taskgym.sandboxes import _BACKENDS

    register_sandbox("scripted", FakeSandbox)
    try:
        box = make_sandbox("scripted", handler=lambda argv, stdin: ExecResult(7))
        assert box.run(["x"]).exit_code == 7
    finally:
        _BACKENDS.pop("scripted")
