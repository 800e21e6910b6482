"""``taskgym doctor``: which sandboxes, images, checkers and extras work on this machine,
and what to install for the others.

Each component is probed the way taskgym uses it (bubblewrap's real chain, the Docker
engine and its images, ``coqc`` and ``pytest`` as a sandbox finds them), so that a
component reported working works for the envs. ``taskgym doctor`` alone exits 0: it
reports, and nothing is required of a machine (``local`` works everywhere);
``taskgym doctor NAME ...`` exits 1 when one of the components named is missing, so
that a script can require them.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from taskgym.errors import TaskgymError, UnknownNameError
from taskgym.sandboxes import AUTO_ORDER, make_sandbox, unavailable_reason

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands

_BWRAP_FIX = "apt-get install bubblewrap (Debian/Ubuntu)"
_DOCKER_FIX = (
    "apt-get install docker.io, start dockerd, pip install 'taskgym[docker]', taskgym images build"
)
_RUNSC_FIX = (
    "apt-get install runsc, then register it with dockerd "
    '(daemon.json: {"runtimes": {"runsc": {"path": "/usr/bin/runsc"}}})'
)
_IMAGES = ("sandbox", "shell-tools")
_NO_ENGINE = "no Docker engine here (see the docker sandbox)"
# (extra, the module it brings, the distribution to read the version of, what needs it);
# the docker extra is the docker sandbox's row.
_EXTRAS = (
    ("sympy", "sympy", "sympy", "MathGenSymbolic-v0, symbolic math answers"),
    ("ray", "ray", "ray", "--executor ray"),
    ("datasets", "datasets", "datasets", "taskgym.trainers.to_dataset"),
    ("trl", "trl", "trl", "trl_reward, trl_environment (TRL's GRPOTrainer)"),
    ("skyrl", "skyrl_gym", "skyrl-gym", "skyrl_env, register_skyrl_envs (SkyRL-gym)"),
    ("reasoning-gym", "reasoning_gym", "reasoning-gym", "ReasoningGym-v0"),
    ("openenv", "openenv", "openenv-core", "taskgym serve, Remote-v0 (OpenEnv)"),
)


@dataclass(frozen=True)
class Finding:
    """One row of the report: a component, whether it works here, and if not why and
    what to install."""

    component: str
    name: str
    """What to pass to ``taskgym doctor NAME`` to ask about it."""
    works: bool
    needed_by: str
    detail: str = ""
    """Why it does not work, or what works (a version, a backend)."""
    fix: str = ""


def add_parser(sub: Subcommands) -> None:
    names = sorted(_PROBES)
    p = sub.add_parser(
        "doctor",
        help="which sandboxes, images, checkers and extras work here, and what to install",
        description="Probe each component taskgym can use and say what to install for the "
        "missing ones. Exits 0, or, with NAMEs, 1 if one of those is missing.",
    )
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"only these components; exit 1 if one is missing ({', '.join(names)})",
    )
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    for name in args.names:
        if name not in _PROBES:
            raise UnknownNameError("component", name, _PROBES)
    findings = [f for name in args.names or _PROBES for f in _PROBES[name]()]
    if args.json:
        for finding in findings:
            print(json.dumps(asdict(finding)))
    else:
        _print(findings)
    missing = [f for f in findings if not f.works]
    return 1 if args.names and missing else 0


def _print(findings: list[Finding]) -> None:
    width = max(len(f.component) for f in findings)
    for f in findings:
        status = "works  " if f.works else "MISSING"
        print(f"{f.component.ljust(width)}  {status}  {f.needed_by}")
        pad = " " * (width + 2)
        if f.detail:
            print(f"{pad}{'' if f.works else 'why: '}{f.detail}")
        if not f.works and f.fix:
            print(f"{pad}fix: {f.fix}")
    missing = sum(not f.works for f in findings)
    print(f"\n{len(findings) - missing} of {len(findings)} work here.")


# -- probes: each yields its findings ---------------------------------------------------


def _sandbox(name: str, needed_by: str, fix: str) -> Finding:
    reason = unavailable_reason(name)
    return Finding(f"{name} sandbox", name, reason is None, needed_by, reason or "", fix)


def _local() -> Iterator[Finding]:
    yield Finding(
        "local sandbox",
        "local",
        True,
        "trusted code only; auto's fallback for tasks without hidden tests",
        "hides no host file and blocks no network",
    )


def _bwrap() -> Iterator[Finding]:
    yield _sandbox(
        "bwrap", "untrusted code; auto picks it, tasks with hidden tests need it", _BWRAP_FIX
    )


def _docker() -> Iterator[Finding]:
    yield _sandbox("docker", "sandbox='docker', ShellTools-v0", _DOCKER_FIX)


def _images() -> Iterator[Finding]:
    engine = _docker_engine_reason()
    for image in _IMAGES:
        tag = f"taskgym/{image}:latest"
        reason = _NO_ENGINE if engine else _image_reason(tag)
        fix = "" if engine else "taskgym images build"
        needed_by = "the docker sandbox" if image == "sandbox" else "ShellTools-v0"
        yield Finding(f"image {tag}", "images", reason is None, needed_by, reason or "", fix)


def _docker_engine_reason() -> str | None:
    from taskgym.sandboxes.images import docker_command  # noqa: PLC0415 - docker only

    try:
        result = _run([docker_command(), "version", "--format", "{{.Server.APIVersion}}"])
    except TaskgymError as e:
        return str(e)
    return None if result.returncode == 0 else f"no Docker engine answers ({result.stderr[:200]})"


def _image_reason(tag: str) -> str | None:
    from taskgym.sandboxes.images import image_exists  # noqa: PLC0415 - docker only

    return None if image_exists(tag) else f"the image {tag} is missing"


def _runsc() -> Iterator[Finding]:
    needed_by = "DockerSandbox(runtime='runsc'): gVisor's kernel under the container"
    reason, fix = (_NO_ENGINE, "") if _docker_engine_reason() else (None, _RUNSC_FIX)
    if reason is None:
        from taskgym.sandboxes.images import docker_command  # noqa: PLC0415 - docker only

        runtimes = _run([docker_command(), "info", "--format", "{{json .Runtimes}}"]).stdout
        if "runsc" not in runtimes:
            reason = "gVisor's runsc is not registered with the Docker engine"
    yield Finding("gVisor runsc", "runsc", reason is None, needed_by, reason or "", fix)


def _in_sandbox(backend: str, argv: list[str]) -> str | None:
    """None if ``argv`` succeeds in a new sandbox of ``backend``, else its last error line."""
    try:
        with make_sandbox(backend) as box:
            result = box.run(argv)
    except TaskgymError as e:
        return str(e)
    if result.ok:
        return None
    lines = (result.err or result.out).strip().splitlines()
    return lines[-1] if lines else f"exit code {result.exit_code}"


def _checker_backend() -> str:
    """Where checkers run by default: what ``auto`` picks for a task without hidden tests
    (local, the last of AUTO_ORDER, always works)."""
    return next(b for b in AUTO_ORDER if unavailable_reason(b) is None)


def _checker(name: str, label: str, programs: tuple[str, ...], needed_by: str, fix: str) -> Finding:
    """Whether the default sandbox finds each of ``programs`` on its PATH."""
    backend = _checker_backend()
    reason = _in_sandbox(backend, ["sh", "-c", " && ".join(f"command -v {p}" for p in programs)])
    if reason is not None:
        reason = f"{' or '.join(programs)} is not found in the {backend} sandbox"
    detail = reason or f"in the {backend} sandbox"
    component = f"{label} ({', '.join(programs)})"
    return Finding(component, name, reason is None, needed_by, detail, fix)


def _coq() -> Iterator[Finding]:
    coq_envs = "CoqProofs-v0, CoqTactics-v0, CoqGen-v0, CoqTheorems-v0"
    yield _checker("coq", "Coq", ("coqc", "coqtop"), coq_envs, "apt-get install coq")


def _lean() -> Iterator[Finding]:
    fix = "a Lean 4 toolchain where the sandbox finds it, e.g. /usr/local/bin (docs/math.md)"
    yield _checker("lean", "Lean 4", ("lean",), "LeanTheorems-v0", fix)


def _pytest() -> Iterator[Finding]:
    """pytest as project tasks run it: by the python3 of each sandbox that works here."""
    for backend in ("local", "bwrap", "docker"):
        if unavailable_reason(backend) is not None:
            continue
        reason = _in_sandbox(backend, ["python3", "-c", "import pytest"])
        fix = "taskgym images build" if backend == "docker" else "apt-get install python3-pytest"
        yield Finding(
            f"pytest in the {backend} sandbox",
            "pytest",
            reason is None,
            "CodeProject-v0 (its hidden tests run pytest in the sandbox)",
            reason or "",
            fix,
        )


def _extra(extra: str, module: str, dist: str, needed_by: str) -> Callable[[], Iterator[Finding]]:
    def probe() -> Iterator[Finding]:
        found = importlib.util.find_spec(module) is not None
        detail = ""
        if found:
            try:
                detail = f"{dist} {importlib.metadata.version(dist)}"
            except importlib.metadata.PackageNotFoundError:
                detail = f"{module} importable"
        yield Finding(
            f"extra [{extra}]",
            extra,
            found,
            needed_by,
            detail or f"{module} is not installed",
            f"pip install 'taskgym[{extra}]'",
        )

    return probe


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return subprocess.CompletedProcess(argv, 1, "", str(e))


# Each name ``taskgym doctor NAME`` takes, in the order of the report.
_PROBES: dict[str, Callable[[], Iterator[Finding]]] = {
    "local": _local,
    "bwrap": _bwrap,
    "docker": _docker,
    "images": _images,
    "runsc": _runsc,
    "pytest": _pytest,
    "coq": _coq,
    "lean": _lean,
    **{extra: _extra(extra, m, d, why) for extra, m, d, why in _EXTRAS},
}
