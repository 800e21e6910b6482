"""The fake backend scripts results and keeps files in memory; the base class's rules
(paths, closed state) hold for it as for real backends."""

from __future__ import annotations

import pytest

from taskgym import ExecResult, SandboxClosedError, UnknownNameError, make_sandbox, sandbox_names
from taskgym.sandboxes import SANDBOXES, register_sandbox, resolve_sandbox_name
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
    assert resolve_sandbox_name("local") == "local"
    assert {"auto", "bwrap", "docker", "local", "fake"} <= set(sandbox_names())
    with pytest.raises(UnknownNameError, match="choose one of: 'auto', 'bwrap', 'docker'"):
        make_sandbox("firecracker")
    with pytest.raises(UnknownNameError):
        make_sandbox(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="other than 'auto'"):
        register_sandbox("auto", FakeSandbox)


def test_a_registered_backend_is_made_by_name() -> None:
    register_sandbox("scripted", FakeSandbox)
    try:
        box = make_sandbox("scripted", handler=lambda argv, stdin: ExecResult(7))
        assert box.run(["x"]).exit_code == 7
    finally:
        SANDBOXES.unregister("scripted")


def test_auto_prefers_bwrap_and_falls_back_to_local_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from taskgym import sandboxes

    monkeypatch.setattr(sandboxes, "_warned_fallback", False)
    monkeypatch.setattr(sandboxes, "unavailable_reason", lambda name: None)
    assert resolve_sandbox_name("auto") == "bwrap"
    monkeypatch.setattr(
        sandboxes, "unavailable_reason", lambda name: "not installed" if name == "bwrap" else None
    )
    with caplog.at_level("WARNING", logger="taskgym"):
        assert resolve_sandbox_name("auto") == "local"
        assert resolve_sandbox_name("auto") == "local"
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "bwrap: not installed" in warnings[0]


def test_auto_raises_when_no_backend_works(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskgym import SandboxUnavailableError, sandboxes

    monkeypatch.setattr(sandboxes, "unavailable_reason", lambda name: f"{name} is broken")
    with pytest.raises(SandboxUnavailableError, match="bwrap: bwrap is broken; local: local"):
        resolve_sandbox_name("auto")


def test_docker_probe_explains_a_missing_engine_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from taskgym.sandboxes import docker as docker_backend

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    docker_backend.docker_unavailable_reason.cache_clear()
    try:
        reason = docker_backend.docker_unavailable_reason("any-image")
        assert reason is not None and (
            "no Docker engine answers" in reason or "not installed" in reason
        )
    finally:
        docker_backend.docker_unavailable_reason.cache_clear()
