"""``taskgym doctor``: what works here, probed for real, and what to install for the rest."""

from __future__ import annotations

import importlib.util
import json
import shutil
from typing import Any

import pytest

from taskgym.cli import main
from taskgym.sandboxes import unavailable_reason
from tests.conftest import REQUIRED_BACKENDS

COMPONENTS = {"local", "bwrap", "docker", "images", "runsc", "pytest", "coq", "lean"}
EXTRAS = {"sympy", "ray", "datasets", "trl", "skyrl", "reasoning-gym", "openenv"}


def findings(capsys: pytest.CaptureFixture[str], *names: str) -> list[dict[str, Any]]:
    assert main(["doctor", "--json", *names]) in (0, 1)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_it_reports_every_component_as_the_envs_would_find_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = findings(capsys)
    assert {f["name"] for f in found} == COMPONENTS | EXTRAS
    by_name = {f["name"]: f for f in found}
    assert by_name["local"]["works"]
    for backend in ("bwrap", "docker"):
        assert by_name[backend]["works"] is (unavailable_reason(backend) is None), backend
    assert by_name["coq"]["works"] is (shutil.which("coqtop") is not None)
    for f in found:
        assert f["works"] or (f["detail"] and (f["fix"] or "Docker engine" in f["detail"])), f
    for extra in EXTRAS - {"skyrl", "reasoning-gym", "openenv"}:
        assert by_name[extra]["works"] is (importlib.util.find_spec(extra) is not None), extra


def test_what_ci_requires_is_reported_working(capsys: pytest.CaptureFixture[str]) -> None:
    """Where TASKGYM_REQUIRE_BACKENDS names components (CI), doctor finds them all."""
    names = sorted(REQUIRED_BACKENDS & (COMPONENTS | EXTRAS))
    if not names:
        pytest.skip("TASKGYM_REQUIRE_BACKENDS names no component of taskgym doctor")
    assert main(["doctor", *names]) == 0, capsys.readouterr().out


def test_the_text_report_says_why_and_what_to_install(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["doctor", "local", "sympy"]) in (0, 1)
    out = capsys.readouterr().out
    assert out.startswith("local sandbox") and "works" in out and "extra [sympy]" in out
    assert "of 2 work here" in out


@pytest.mark.usefixtures("no_bwrap")
def test_a_missing_component_asked_for_exits_1_with_the_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["doctor", "bwrap"]) == 1
    out = capsys.readouterr().out
    assert "MISSING" in out and "why: bubblewrap is not installed (test)" in out
    assert "fix: apt-get install bubblewrap" in out
    assert main(["doctor"]) == 0  # a report alone never fails
    capsys.readouterr()


def test_a_missing_extra_names_the_pip_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sympy" else real(name, *a)
    )
    [sympy] = findings(capsys, "sympy")
    assert not sympy["works"] and sympy["fix"] == "pip install 'taskgym[sympy]'"
    assert main(["doctor", "sympy"]) == 1
    capsys.readouterr()


def test_an_unknown_component_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "firecracker"]) == 2
    err = capsys.readouterr().err
    assert "unknown component 'firecracker'" in err and "'bwrap'" in err
