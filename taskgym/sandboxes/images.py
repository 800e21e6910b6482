"""Images for the docker sandbox, built without a registry.

``build_base_image`` makes a minimal Debian root file system with ``debootstrap`` (Python
3 and bash included) and imports it with ``docker import``; ``build_image`` builds a
Dockerfile kept in ``taskgym/sandboxes/images/<name>/`` ``FROM`` it. Both are what
``taskgym images build`` runs. Users with a registry can build the same Dockerfiles with
``--build-arg BASE=python:3.11-slim`` (plus pytest, for project tasks).

The base image's tag names what it holds (``-pytest``: Debian's python3-pytest, which
project tasks need); an image built FROM a base carries the base's id in a label and is
rebuilt when the base changes, so that an old image on a machine is never used by mistake.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from taskgym.errors import SandboxUnavailableError

__all__ = [
    "BASE_IMAGE",
    "IMAGES_DIR",
    "SANDBOX_IMAGE",
    "build_base_image",
    "build_image",
    "docker_command",
    "image_exists",
]

BASE_IMAGE = "taskgym/base:bookworm-pytest"
_BASE_LABEL = "org.taskgym.base-id"
SANDBOX_IMAGE = "taskgym/sandbox:latest"
IMAGES_DIR = Path(__file__).with_name("images")
_DEFAULT_MIRROR = "http://deb.debian.org/debian"


def image_exists(tag: str) -> bool:
    return _inspect(tag, "{{.Id}}") is not None


def _inspect(tag: str, template: str) -> str | None:
    """One field of an image (a Go template of ``docker image inspect``); None if the
    image does not exist."""
    result = subprocess.run(
        [docker_command(), "image", "inspect", "--format", template, tag],
        capture_output=True,
        check=False,
        timeout=60,
    )
    return result.stdout.decode().strip() if result.returncode == 0 else None


def build_base_image(
    tag: str = BASE_IMAGE,
    *,
    suite: str = "bookworm",
    mirror: str | None = None,
    force: bool = False,
) -> str:
    """Make ``tag`` from a debootstrap'd Debian (minbase, plus python3, pytest and bash).

    Needs root, ``debootstrap`` and a running Docker engine; takes a few minutes and
    reaches only the Debian mirror (the one apt uses here, by default). Returns ``tag``.
    """
    if image_exists(tag) and not force:
        return tag
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise SandboxUnavailableError("debootstrap is not installed: apt-get install debootstrap")
    with tempfile.TemporaryDirectory(prefix="taskgym-rootfs-", dir="/var/tmp") as root:
        _run(
            [
                debootstrap,
                "--variant=minbase",
                "--include=python3,python3-pytest,bash",
                suite,
                root,
                mirror or _apt_mirror(),
            ]
        )
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(Path(root, cache), ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        try:
            _run(
                [docker_command(), "import", "--change", 'CMD ["/bin/bash"]', "-", tag],
                stdin=tar.stdout,
            )
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            tar.wait()
    return tag


def build_image(
    name: str = "sandbox", *, tag: str | None = None, base: str = BASE_IMAGE, force: bool = False
) -> str:
    """Build the Dockerfile in ``images/<name>/`` ``FROM base``; returns the tag. An
    image already built from this very base is kept unless ``force``."""
    tag = tag or f"taskgym/{name}:latest"
    context = IMAGES_DIR / name
    if not (context / "Dockerfile").is_file():
        known = sorted(p.name for p in IMAGES_DIR.iterdir() if (p / "Dockerfile").is_file())
        raise SandboxUnavailableError(f"no Dockerfile for image {name!r}; known: {known}")
    lines = (context / "Dockerfile").read_text(encoding="utf-8").splitlines()
    with_source = "# taskgym: source" in lines[:3]
    base_id = _inspect(base, "{{.Id}}") or base  # a registry's base: its name
    # An image that holds taskgym itself is rebuilt when taskgym's source changes too.
    stamp = f"{base_id} source={_source_digest()}" if with_source else base_id
    built_from = _inspect(tag, '{{index .Config.Labels "' + _BASE_LABEL + '"}}')
    if built_from == stamp and not force:
        return tag
    # A Dockerfile whose first line is "# taskgym: network" installs packages: its build
    # gets the host's network. Every other build has none.
    network = "host" if lines and lines[0].strip() == "# taskgym: network" else "none"
    with _context_with_source(context, with_source) as where:
        _run(
            [
                docker_command(),
                "build",
                "--network",
                network,
                "--build-arg",
                f"BASE={base}",
                "--label",
                f"{_BASE_LABEL}={stamp}",
                "-t",
                tag,
                ".",
            ],
            cwd=where,
        )
    return tag


@contextlib.contextmanager
def _context_with_source(context: Path, wanted: bool) -> Iterator[Path]:
    """``context``, or (for a Dockerfile that says ``# taskgym: source``, the server's
    image) a copy of it with taskgym's source as ``src/`` and the wheels of taskgym and
    its openenv extra as ``wheels/``, to install without an index."""
    if not wanted:
        yield context
        return
    root = _SOURCE_ROOT
    if not (root / "pyproject.toml").is_file():
        raise SandboxUnavailableError(
            f"the image {context.name!r} installs taskgym from its source: build it from a "
            "checkout of taskgym (pip install -e .), not from an installed wheel"
        )
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    with tempfile.TemporaryDirectory(prefix="taskgym-image-") as where:
        shutil.copy(context / "Dockerfile", where)
        src = Path(where, "src")
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(root / name, src / name)
        shutil.copytree(root / "taskgym", src / "taskgym", ignore=junk)
        # The wheels of taskgym and of its openenv extra, made here with this machine's
        # pip (its index, its certificates), so the image installs them offline.
        wheels = Path(where, "wheels")
        _run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheels), f"{src}[openenv]"])
        shutil.rmtree(src)  # in the wheels now
        yield Path(where)


_SOURCE_ROOT = Path(__file__).resolve().parents[2]
"""A checkout's root (pyproject.toml, taskgym/), where taskgym runs from one."""


def _source_digest() -> str:
    """A digest of taskgym's source (its package files and pyproject.toml)."""
    digest = hashlib.sha256()
    package = _SOURCE_ROOT / "taskgym"
    files = [_SOURCE_ROOT / "pyproject.toml", *sorted(package.rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(_SOURCE_ROOT)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _apt_mirror() -> str:
    """The Debian mirror apt is configured with, so the build reaches what apt reaches."""
    for path in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        try:
            text = path.read_text()
        except OSError:
            continue
        match = re.search(r"(?m)^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+/debian)/?\s", text)
        if match:
            return match.group(1)
    return _DEFAULT_MIRROR


def docker_command() -> str:
    """The path of the ``docker`` command, or SandboxUnavailableError saying how to get it."""
    path = shutil.which("docker")
    if path is None:
        raise SandboxUnavailableError(
            "the docker command is not installed (Debian: apt-get install docker.io)"
        )
    return path


def _run(argv: list[str], **kwargs: object) -> None:
    result = subprocess.run(argv, capture_output=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        err = (result.stderr or b"").decode(errors="replace")[-2000:]
        raise SandboxUnavailableError(f"{argv[0]} {argv[1]} failed ({result.returncode}): {err}")
