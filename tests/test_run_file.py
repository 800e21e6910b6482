"""A run file records what it takes to repeat its run: the make options, the agent's
settings (never its secrets), the sandbox the env used, wall times and taskgym's
version; every way of playing episodes writes the same fields."""

from __future__ import annotations

from taskgym import __version__
from taskgym.agents import make_agent
from taskgym.parallel import EpisodePool, EpisodeSpec, make_executor
from taskgym.run_file import public_options
from taskgym.runner import run_episodes
from tests.helpers import timeless

EASY = "taskgym/ArithmeticEasy-v0"
OPTIONS = {"reward": "binary", "max_action_chars": 5000}


def test_a_record_holds_what_repeats_it() -> None:
    (record,) = run_episodes(EASY, make_agent("oracle"), episodes=1, seed=7, make_kwargs=OPTIONS)
    line = record.to_json()
    assert line["options"] == OPTIONS and line["seed"] == 7
    assert line["sandbox"] is None  # arithmetic runs nothing
    assert line["taskgym_version"] == __version__
    assert line["seconds"] > 0 and line["rewards"] == [1.0]


def test_an_executor_and_the_pool_record_the_same_fields() -> None:
    plain = timeless(run_episodes(EASY, make_agent("oracle"), episodes=2, make_kwargs=OPTIONS))
    specs = [EpisodeSpec(EASY, seed=i, episode=i, kwargs=OPTIONS) for i in range(2)]
    with make_executor("inline", concurrency=2) as executor:
        assert timeless(r.record for r in executor.map(specs)) == plain
    with EpisodePool(concurrency=1) as pool, pool.start(specs[0]) as episode:
        solution = plain[0]["actions"][0]
        episode.step(solution)
        (pooled,) = timeless([episode.record])
    assert {k: v for k, v in pooled.items() if k != "agent"} == {
        k: v for k, v in plain[0].items() if k != "agent"
    }


def test_secrets_never_reach_a_run_file() -> None:
    options = {"model": "m", "api_key": "sk-1", "API_TOKEN": "t", "client_secret": "s"}
    assert public_options(options) == {"model": "m"}
    spec = EpisodeSpec(
        EASY, actions=("<answer>1</answer>",), agent_options={"apiKey": "sk", "seed": 1}
    )
    with make_executor("inline") as executor:
        (result,) = executor.map([spec])
    assert result.record is not None and result.record.agent_options == {"seed": 1}
