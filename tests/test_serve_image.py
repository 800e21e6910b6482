"""The server's image (``taskgym images build`` makes ``taskgym/serve`` offline): a
container of it, run as docs/serving.md says, serves a math and a shell episode (bwrap
sandboxes inside the container) to OpenEnv's client, and ``docker stop`` ends it."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid

import pytest

from tests.conftest import missing, require_backend, require_module

require_module("openenv", "openenv")

from openenv import GenericEnvClient  # noqa: E402

from taskgym.sandboxes.images import image_exists  # noqa: E402
from tests.serving_helpers import free_port, healthy, reference, wait_until  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

IMAGE = "taskgym/serve:latest"
MATH, SHELL = "taskgym/Arithmetic-v0", "taskgym/Shell-v0"
# What bubblewrap's namespaces need inside a container (docs/serving.md).
FOR_BWRAP = [
    "--cap-add", "SYS_ADMIN",
    "--security-opt", "seccomp=unconfined",
    "--security-opt", "apparmor=unconfined",
    "--security-opt", "systempaths=unconfined",
]  # fmt: skip


def test_a_container_of_the_serve_image_plays_episodes_and_stops_on_sigterm() -> None:
    require_backend("docker")
    if not image_exists(IMAGE):
        missing("docker", f"the image {IMAGE} is not built: taskgym images build")
    port, name = free_port(), f"taskgym-serve-test-{uuid.uuid4().hex[:8]}"
    # The host's network: CI's Docker engine has no bridge to publish a port through.
    run = ["docker", "run", "-d", "--rm", "--name", name, "--network", "host", *FOR_BWRAP]
    serve = [IMAGE, MATH, SHELL, "--host", "127.0.0.1", "--port", str(port)]
    subprocess.run([*run, *serve], check=True, capture_output=True)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: healthy(url), limit=60), "the container's server never answered"
        (answer,) = reference(MATH, seed=9)
        shell = reference(SHELL, seed=2)

        async def play() -> tuple[float, float]:
            async with GenericEnvClient(base_url=url) as env:
                await env.reset(seed=9, env_id=MATH)
                math = await env.step({"text": answer})
                await env.reset(seed=2, env_id=SHELL)
                for action in shell:
                    result = await env.step({"text": action})
                assert math.done and result.done
                return float(math.reward or 0.0), float(result.reward or 0.0)

        assert asyncio.run(play()) == (1.0, 1.0)
        start = time.monotonic()
        subprocess.run(["docker", "stop", "-t", "30", name], check=True, capture_output=True)
        assert time.monotonic() - start < 25  # SIGTERM ended it, not the kill after 30 s
    finally:
        subprocess.run(["docker", "rm", "-f", name], check=False, capture_output=True)
