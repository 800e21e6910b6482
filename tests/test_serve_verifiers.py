"""verifiers' OpenEnv taskset (``vf-eval`` with ``env.taskset.id = "openenv"`` and
``base_url``) plays an episode against a running ``taskgym serve``, its model the
project's OpenAI-compatible test server: verifiers' own runner, harness and client."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing, require_module

require_module("openenv", "openenv")
require_module("verifiers", "verifiers")

from tests.openai_server import ChatServer, completion  # noqa: E402
from tests.serving_helpers import reference, serving  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENV_ID = "taskgym/Arithmetic-v0"

# verifiers 0.4.0's OpenEnv taskset reads GenericEnvClient._base_url, which no release
# of openenv-core (0.2.x, 0.3.0) has: it fails before it reaches any server. This adds
# that one attribute to OpenEnv's client, in the vf-eval process only; all else is real.
COMPAT = """\
from openenv.core.env_client import EnvClient
if not hasattr(EnvClient, "_base_url"):
    EnvClient._base_url = property(lambda self: self._ws_url[: -len("/ws")])
"""


def run_eval(tmp: Path, server_url: str, model_url: str, *, compat: bool) -> dict[str, Any]:
    """One ``vf-eval`` of the openenv taskset; its trace."""
    config = tmp / "eval.toml"
    config.write_text(
        f'model = "scripted"\n'
        f'[client]\nbase_url = "{model_url}"\napi_key_var = "TASKGYM_FAKE_KEY"\n'
        f'[env.taskset]\nid = "openenv"\nbase_url = "{server_url}"\nresets = [{{seed = 5}}]\n'
        f'[env.player]\nharness = {{id = "null"}}\n'
        f'[env.player.runtime]\ntype = "subprocess"\n'
    )
    env = {**os.environ, "TASKGYM_FAKE_KEY": "unused"}
    if compat:
        (tmp / "compat").mkdir(exist_ok=True)
        (tmp / "compat" / "sitecustomize.py").write_text(COMPAT)
        env["PYTHONPATH"] = str(tmp / "compat")
    out = tmp / ("out-compat" if compat else "out")
    subprocess.run(
        ["vf-eval", "@", str(config), "--no-push", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    (traces,) = out.glob("*/traces.jsonl")
    (episode,) = [json.loads(line) for line in traces.read_text().splitlines()]
    return dict(episode)


def test_verifiers_openenv_taskset_plays_an_episode_on_taskgym_serve(tmp_path: Path) -> None:
    if shutil.which("uv") is None:  # verifiers' runtime starts its chat program with uv
        missing("verifiers", "uv is not installed: pip install 'taskgym[verifiers]'")
    answer = reference(ENV_ID, seed=5)[0]
    reply = completion(f"<think>add them</think>{answer}")
    with ChatServer(lambda body: reply) as model, serving([ENV_ID]) as served:
        broken = run_eval(tmp_path, served.url, model.url, compat=False)
        assert "_base_url" in json.dumps(broken["errors"])  # the bug above, still there
        assert not model.requests

        episode = run_eval(tmp_path, served.url, model.url, compat=True)
        assert episode["ok"], episode["errors"]
        (trace,) = episode["traces"]
        assert trace["rewards"]["openenv_reward"]["score"] == 1.0
        assert served.sessions() == 0
    # verifiers sent the model our reset observation and the action schema
    first = json.loads(model.requests[0]["messages"][-1]["content"])
    assert first["observation"]["env_id"] == ENV_ID
    assert first["action_schema"]["required"] == ["text"]
