"""Harbor-v0 on a real Docker engine: every bundled task passes the conformance checks
(its reference earns 1.0, nothing and noise earn nothing, solve.sh short of its last
command earns less), images are built once and cached by content, and the container
keeps the task's workdir, user and limits."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import gymnasium as gym
import pytest

import taskgym  # noqa: F401 - registers the envs
from taskgym.envs.harbor.container import HarborContainer
from taskgym.envs.harbor.images import build_task_image
from taskgym.envs.harbor.tasks import BUNDLED_HARBOR_TASKS, HarborTask
from taskgym.errors import ConfigError, SandboxUnavailableError
from taskgym.sandboxes.images import BASE_IMAGE
from taskgym.testing import check_task
from tests.attacks.harbor.common import DONE, require_runsc, write_task
from tests.attacks.harbor.conftest import require_docker
from tests.helpers import play

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BUNDLED = sorted(p.name for p in Path(BUNDLED_HARBOR_TASKS).iterdir() if p.is_dir())


@pytest.mark.parametrize("task", BUNDLED)
def test_each_bundled_task_conforms(task: str) -> None:
    require_docker()
    check_task("taskgym/Harbor-v0", seeds=1, tasks=str(Path(BUNDLED_HARBOR_TASKS) / task))


def test_another_tasks_reference_earns_nothing() -> None:
    require_docker()
    check_task("taskgym/Harbor-v0", seeds=2)


def test_images_are_cached_by_content(tmp_path: Path) -> None:
    require_docker()
    directory = write_task(tmp_path, "cached")
    context = directory / "environment"
    first = build_task_image(context, "cached", {"*": BASE_IMAGE}, timeout=300)
    assert build_task_image(context, "cached", {"*": BASE_IMAGE}, timeout=300) == first
    (context / "extra.txt").write_text("a new file in the context\n")
    assert build_task_image(context, "cached", {"*": BASE_IMAGE}, timeout=300) != first


def test_an_unbuildable_dockerfile_says_why(tmp_path: Path) -> None:
    require_docker()
    directory = write_task(tmp_path, "offline")
    (directory / "environment" / "Dockerfile").write_text(
        "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y cowsay\n"
    )
    with pytest.raises(SandboxUnavailableError, match="builds have no network"):
        build_task_image(directory / "environment", "offline", {"*": BASE_IMAGE}, timeout=300)


def test_a_missing_base_image_says_how_to_map_it(tmp_path: Path) -> None:
    require_docker()
    directory = write_task(tmp_path, "unmapped")
    with pytest.raises(SandboxUnavailableError, match="base_images"):
        build_task_image(directory / "environment", "unmapped", {"*": None}, timeout=300)


def test_base_images_option_maps_the_from_line(tmp_path: Path) -> None:
    """A task FROM an image this machine lacks runs on the image named for it."""
    require_docker()
    directory = write_task(tmp_path, "mapped")
    (directory / "environment" / "Dockerfile").write_text(
        "FROM registry.example.org/team/python:3.12\nWORKDIR /app\n"
    )
    mapping = {"registry.example.org/team/python:3.12": BASE_IMAGE}
    env = gym.make("taskgym/Harbor-v0", tasks=str(directory), base_images=mapping)
    try:
        assert play(env, "mapped", [DONE, "submit"])[0] == 1.0
    finally:
        env.close()


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="base_images"):
        HarborTask(base_images={"ubuntu": 3})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="not both"):
        HarborTask(tasks=BUNDLED_HARBOR_TASKS, path=BUNDLED_HARBOR_TASKS)


def test_the_container_keeps_workdir_user_and_files(tmp_path: Path) -> None:
    require_docker()
    task = HarborTask(tasks=str(Path(BUNDLED_HARBOR_TASKS) / "photos-by-month"))
    image = task.image_of("photos-by-month")
    with HarborContainer(image, user="worker", memory_mb=256) as box:
        assert box.inside_workdir == "/app"
        assert box.run(["id", "-un"]).out == "worker\n"
        assert box.run(["pwd"]).out == "/app\n"
        box.write_file("made/here.txt", "hi\n")
        assert box.read_file("made/here.txt") == b"hi\n"
        template = "{{.HostConfig.Memory}} {{.HostConfig.NetworkMode}}"
        inspect = ["docker", "inspect", "--format", template, box.name]
        limits = subprocess.run(inspect, capture_output=True, text=True, check=True).stdout.split()
        assert limits == [str(256 * 2**20), "none"]
        box.run("sleep 300 >/dev/null 2>&1 &")
        listing = 'for p in /proc/[0-9]*; do tr "\\0" " " < "$p/cmdline"; echo; done'
        assert "sleep 300" in box.run(["bash", "-c", listing]).out
        box.stop_everything()
        assert "sleep 300" not in box.run(["bash", "-c", listing]).out
        assert box.read_file("made/here.txt") == b"hi\n"  # files kept
        box.reset()
        with pytest.raises(FileNotFoundError):
            box.read_file("made/here.txt")


def test_a_copied_task_directory_runs(tmp_path: Path) -> None:
    """A task directory anywhere (not the bundled path) builds and plays."""
    require_docker()
    copy = tmp_path / "fix-median"
    shutil.copytree(Path(BUNDLED_HARBOR_TASKS) / "fix-median", copy)
    env = gym.make("taskgym/Harbor-v0", path=str(copy))
    try:
        problem = env.unwrapped.task.get("fix-median")  # type: ignore[attr-defined]
        assert play(env, "fix-median", list(problem.solution))[0] == 1.0
    finally:
        env.close()


def test_every_bundled_reference_under_gvisor() -> None:
    require_docker()
    require_runsc()
    env = gym.make("taskgym/Harbor-v0", runtime="runsc")
    try:
        for task in BUNDLED:
            problem = env.unwrapped.task.get(task)  # type: ignore[attr-defined]
            reward, verdict, _ = play(env, task, list(problem.solution))
            assert reward == 1.0, (task, verdict)
    finally:
        env.close()


def test_a_prebuilt_docker_image_is_mapped(tmp_path: Path) -> None:
    """A task that names a prebuilt image: without a Dockerfile, the image it maps to."""
    require_docker()
    prebuilt = "registry.example.org/team/prebuilt:1"
    toml = f'[environment]\ndocker_image = "{prebuilt}"\nworkdir = "/app"\n'
    directory = write_task(tmp_path, "prebuilt", toml=toml)
    (directory / "environment" / "Dockerfile").unlink()
    env = gym.make("taskgym/Harbor-v0", tasks=str(directory), base_images={prebuilt: BASE_IMAGE})
    try:
        assert env.unwrapped.task.image_of("prebuilt") == BASE_IMAGE  # type: ignore[attr-defined]
        assert play(env, "prebuilt", [DONE, "submit"])[0] == 1.0
    finally:
        env.close()
