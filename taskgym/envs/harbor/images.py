"""A Harbor task's image: its ``environment/Dockerfile`` (or ``tests/Dockerfile``, for
a separate verifier) built with the Docker engine, offline.

Machines without a registry cannot pull the images a Dockerfile's ``FROM`` names
(``ubuntu:24.04``, ``python:3.12-slim``). ``base_images`` maps them to local images
before the build: ``{"ubuntu:24.04": "taskgym/base:bookworm-pytest"}``; the key ``"*"``
maps every image not named, and by default every image maps to taskgym's offline base
(:data:`DEFAULT_BASE_IMAGES`, built by ``taskgym images build`` with debootstrap). A
mapping to ``None`` (``{"*": None}``) leaves the names as they are, for machines with a
registry. Only ``FROM`` lines are rewritten: stage names stay, and ``COPY --from=`` an
image still needs that image.

Images are cached by content: the tag is the hash of the rewritten Dockerfile, every
file of the build context (path, mode, bytes) and the ids of the base images, so a task
that changes is rebuilt and one that does not is built once. Builds get no network.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from taskgym.errors import ConfigError, SandboxUnavailableError
from taskgym.sandboxes.images import BASE_IMAGE, docker_command

__all__ = [
    "DEFAULT_BASE_IMAGES",
    "BaseImages",
    "build_task_image",
    "map_base_image",
    "rewrite_from_lines",
]

BaseImages = Mapping[str, str | None]
DEFAULT_BASE_IMAGES: dict[str, str | None] = {"*": BASE_IMAGE}
"""Every registry image a task names maps to taskgym's offline base image."""
_LABEL = "org.taskgym.harbor-task"
_FROM = re.compile(
    r"^(?P<head>\s*FROM\s+(?:--\S+\s+)*)(?P<image>\S+)(?P<tail>(?:\s+AS\s+(?P<stage>\S+))?\s*)$",
    re.IGNORECASE,
)


def map_base_image(image: str, base_images: BaseImages) -> str:
    """The local image that stands for ``image`` (itself where nothing maps it)."""
    if image in base_images:
        return base_images[image] or image
    if image.startswith("taskgym/"):
        return image  # taskgym's own images are local already
    mapped = base_images.get("*")
    return mapped or image


def rewrite_from_lines(dockerfile: str, base_images: BaseImages) -> tuple[str, list[str]]:
    """``dockerfile`` with each ``FROM`` image mapped (stage names and ``scratch``
    kept), and the images it now starts from."""
    stages: set[str] = set()
    bases: list[str] = []
    lines = []
    for line in dockerfile.splitlines():
        match = _FROM.match(line)
        if match is None:
            lines.append(line)
            continue
        image = match.group("image")
        if image.lower() == "scratch" or image in stages or "$" in image:
            mapped = image
        else:
            mapped = map_base_image(image, base_images)
            bases.append(mapped)
        if match.group("stage"):
            stages.add(match.group("stage"))
        lines.append(f"{match.group('head')}{mapped}{match.group('tail')}")
    return "\n".join(lines) + "\n", bases


def build_task_image(
    context: Path,
    name: str,
    base_images: BaseImages,
    *,
    timeout: float,
) -> str:
    """Build ``context/Dockerfile`` (its ``FROM`` lines mapped) as
    ``taskgym/harbor-<name>:<content hash>``, unless that tag exists; return the tag."""
    text = (context / "Dockerfile").read_text("utf-8")
    rewritten, bases = rewrite_from_lines(text, base_images)
    digest = hashlib.sha256(rewritten.encode())
    for base in bases:
        digest.update(f"\0base {base} {_image_id(base, name)}".encode())
    _hash_context(context, digest)
    tag = f"taskgym/harbor-{_tag_name(name)}:{digest.hexdigest()[:16]}"
    if _image_id(tag, name, missing_ok=True):
        return tag
    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", encoding="utf-8") as file:
        file.write(rewritten)
        file.flush()
        argv = [
            docker_command(), "build", "--network", "none", "--file", file.name,
            "--label", f"{_LABEL}={name}", "--tag", tag, str(context),
        ]  # fmt: skip
        try:
            result = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise SandboxUnavailableError(
                f"building the image of Harbor task {name!r} took more than its "
                f"build_timeout_sec={timeout:g}"
            ) from e
    if result.returncode != 0:
        log = (result.stderr or b"").decode(errors="replace")[-3000:]
        raise SandboxUnavailableError(
            f"the image of Harbor task {name!r} did not build ({context}/Dockerfile, FROM "
            f"mapped to {bases}; builds have no network here, so a RUN that downloads "
            f"fails: map its base to an image that has what it needs): {log}"
        )
    return tag


def _hash_context(context: Path, digest: hashlib._Hash) -> None:
    for path in sorted(context.rglob("*")):
        relative = path.relative_to(context).as_posix()
        if path.is_symlink():
            digest.update(f"\0link {relative} {path.readlink()}".encode())
        elif path.is_file():
            digest.update(f"\0file {relative} {path.stat().st_mode & 0o777:o}\0".encode())
            digest.update(path.read_bytes())


def _image_id(image: str, task: str, *, missing_ok: bool = False) -> str:
    result = subprocess.run(
        [docker_command(), "image", "inspect", "--format", "{{.Id}}", image],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 0:
        return result.stdout.decode().strip()
    if missing_ok:
        return ""
    raise SandboxUnavailableError(
        f"Harbor task {task!r} starts from the image {image}, which is not on this machine "
        "and cannot be pulled here: build taskgym's base (taskgym images build) or map the "
        "task's FROM image to a local one with base_images={'IMAGE': 'LOCAL'}"
    )


def _tag_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-.")
    if not cleaned:
        raise ConfigError(f"the task name {name!r} gives no image name")
    return cleaned[:100]
