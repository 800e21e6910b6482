"""Attacks on the grading of Harbor tasks, with only shell commands (the agent's actions):
reading the hidden tests, processes left to rewrite files or the reward once the tests
run, rewards and test files planted before grading, reward files the tests copy from
the agent's work (huge, NaN, out of range, not numbers), tests made to hang, tools the
tests use tampered with, links out of the state a separate verifier receives, and the
network. Each is played on a real Docker engine."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.attacks.harbor.common import DONE, MARKER, WRONG, require_runsc, write_task
from tests.helpers import play

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Make = Callable[..., Any]


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("harbor-attacks")
    write_task(root, "answer")
    write_task(root, "answer-separate", separate=True)
    # A verifier image that holds an answer of its own, for links to point at.
    bait = "RUN mkdir -p /opt && echo 42 > /opt/answer\n"
    write_task(root, "answer-separate-bait", separate=True, verifier_setup=bait)
    copy_score = "#!/bin/bash\ncp /app/score /logs/verifier/reward.txt\n"
    write_task(root, "score-txt", test_sh=copy_score)
    copy_json = "#!/bin/bash\ncp /app/score.json /logs/verifier/reward.json\n"
    write_task(root, "score-json", test_sh=copy_json)
    runs_agent_code = "#!/bin/bash\nbash /app/check.sh && echo 1 > /logs/verifier/reward.txt\n"
    hang = write_task(root, "hang", test_sh=runs_agent_code)
    toml = (hang / "task.toml").read_text()
    (hang / "task.toml").write_text(toml.replace("timeout_sec = 20.0", "timeout_sec = 3.0", 1))
    python_test = (
        '#!/bin/bash\npython3 -c "import sys; '
        "sys.exit(open('/app/answer.txt').read() != '42\\n')\" "
        "&& echo 1 > /logs/verifier/reward.txt\n"
    )
    write_task(root, "python-check", test_sh=python_test)
    write_task(root, "python-check-separate", test_sh=python_test, separate=True)
    pytest_test = (
        "#!/bin/bash\nif python3 -m pytest -q -p no:cacheprovider /tests/test_answer.py; then\n"
        "  echo 1 > /logs/verifier/reward.txt\nelse\n  echo 0 > /logs/verifier/reward.txt\nfi\n"
    )
    pytest_task = write_task(root, "pytest-check", test_sh=pytest_test)
    (pytest_task / "tests" / "test_answer.py").write_text(
        "def test_answer():\n    assert open('/app/answer.txt').read() == '42\\n'\n"
    )
    # test.sh runs the agent's program, as tests of a script or a CLI do.
    agent_code = (
        "#!/bin/bash\nif bash /app/check.sh; then echo 1 > /logs/verifier/reward.txt; "
        "else echo 0 > /logs/verifier/reward.txt; fi\n"
    )
    write_task(root, "agent-check", test_sh=agent_code)
    write_task(root, "storage", toml="[environment]\nstorage_mb = 64\n")
    # test.sh runs the agent's program as nobody and judges its output itself.
    as_nobody = (
        "#!/bin/bash\nout=$(setpriv --reuid=65534 --regid=65534 --clear-groups /app/check)\n"
        'if [ "$out" = 42 ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n'
    )
    write_task(root, "nobody-check", test_sh=as_nobody)
    public = '[environment]\nnetwork_mode = "public"\n'
    write_task(root, "public-network", toml=public)
    return root


def test_the_reference_and_nothing(make_env: Make, tasks: Path) -> None:
    env = make_env(tasks)
    for task in ("answer", "answer-separate"):
        assert play(env, task, [DONE, "submit"])[0] == 1.0
        assert play(env, task, ["submit"])[0] == 0.0
        assert play(env, task, [WRONG, "submit"])[0] == 0.0


# -- the tests stay hidden until the last turn ---------------------------------------------


@pytest.mark.parametrize("task", ["answer", "answer-separate"])
def test_the_agent_cannot_read_the_tests(make_env: Make, tasks: Path, task: str) -> None:
    env = make_env(tasks)
    look = [
        "ls -la / /tests /logs /logs/verifier 2>&1",
        f"grep -rIl {MARKER} / --exclude-dir=proc --exclude-dir=sys 2>/dev/null; echo searched",
        "cat /tests/* 2>&1; find / -name test.sh -not -path '/proc/*' 2>/dev/null",
        DONE,
        "submit",
    ]
    reward, _, observations = play(env, task, look)
    assert reward == 1.0
    assert "searched" in observations[1]
    assert not any(MARKER in observation for observation in observations)


# -- nothing the agent left runs while the tests do -------------------------------------


# Each waits until the tests would be running (submit, then grading starts), then acts:
# nothing is right when the episode ends.
DAEMONS = {
    "a loop that writes the answer": "nohup bash -c 'sleep 1; while :; do "
    "echo 42 > /app/answer.txt; sleep 0.05; done' >/dev/null 2>&1 &",
    "a loop that writes the reward": "setsid bash -c 'sleep 1; while :; do "
    "mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; sleep 0.05; done' "
    ">/dev/null 2>&1 < /dev/null &",
    "a late writer, double-forked, ignoring signals": "( trap '' TERM INT HUP; setsid bash -c "
    "\"trap '' TERM INT HUP; sleep 1.5; echo 42 > /app/answer.txt; mkdir -p /logs/verifier; "
    'echo 1 > /logs/verifier/reward.txt" & ) >/dev/null 2>&1',
}


@pytest.mark.parametrize("daemon", list(DAEMONS))
@pytest.mark.parametrize("task", ["answer", "answer-separate"])
def test_processes_left_running_are_stopped_before_the_tests(
    make_env: Make, tasks: Path, task: str, daemon: str
) -> None:
    env = make_env(tasks)
    reward, verdict, _ = play(env, task, [WRONG, DAEMONS[daemon], "submit"])
    assert reward == 0.0, verdict


# -- /tests and /logs/verifier are the grader's ---------------------------------------------


PLANTED = {
    "reward.txt": "mkdir -p /logs/verifier && echo 1 > /logs/verifier/reward.txt",
    "reward.json": "mkdir -p /logs/verifier && echo '{\"reward\": 1}' > /logs/verifier/reward.json",
    "read-only reward": "mkdir -p /logs/verifier && echo 1 > /logs/verifier/reward.txt && "
    "chmod 444 /logs/verifier/reward.txt && chattr +i /logs/verifier/reward.txt 2>/dev/null; true",
    "a link for /logs/verifier": "mkdir -p /app/mine /logs && echo 1 > /app/mine/reward.txt && "
    "ln -sfn /app/mine /logs/verifier",
    "a link for /logs": "mkdir -p /app/logs/verifier && echo 1 > /app/logs/verifier/reward.txt "
    "&& rm -rf /logs && ln -s /app/logs /logs",
    "rm made a no-op": "mkdir -p /logs/verifier && echo 1 > /logs/verifier/reward.txt && "
    "mv /bin/rm /bin/rm.real && ln -s /bin/true /bin/rm",
    "a /tests of its own": "mkdir -p /tests && printf '#!/bin/bash\\necho 1 > "
    "/logs/verifier/reward.txt\\n' > /tests/test.sh && chmod +x /tests/test.sh",
}


@pytest.mark.parametrize("planted", list(PLANTED))
def test_rewards_and_tests_planted_before_grading_count_for_nothing(
    make_env: Make, tasks: Path, planted: str
) -> None:
    env = make_env(tasks)
    reward, verdict, _ = play(env, "answer", [WRONG, PLANTED[planted], "submit"])
    assert reward == 0.0, verdict
    reason = verdict["details"]["reason"]
    assert "no /logs/verifier/reward" in reason or "made afresh" in reason


def test_a_container_broken_for_good_earns_nothing_and_raises_nothing(
    make_env: Make, tasks: Path
) -> None:
    """The container's main process is the image's sleep: without it the container
    cannot start again for the tests. Removing it changes the tests' tools, so the
    tests run in a fresh container (the job was done: 1.0); where the env lets the
    agent change /usr/bin, the agent broke its own machine: 0.0, nothing raised."""
    env = make_env(tasks)
    broken = [DONE, "rm -f /usr/bin/sleep /bin/sleep", "submit"]
    reward, verdict, _ = play(env, "answer", broken)
    assert reward == 1.0, verdict
    assert "/usr/bin/sleep" in verdict["details"]["tools_changed"]
    env = make_env(tasks, agent_may_change=["/usr/bin"])
    reward, verdict, _ = play(env, "answer", broken)
    assert reward == 0.0
    reason = verdict["details"]["reason"]  # which step finds it depends on timing
    assert "could not be started again" in reason or "is not running" in reason, reason
    assert play(env, "answer", [DONE, "submit"])[0] == 1.0  # the next episode is as new


# -- reward files are read strictly ----------------------------------------------------------


SCORES = {
    "NaN": ("score-txt", "echo nan > /app/score", "not finite"),
    "more than 1": ("score-txt", "echo 7 > /app/score", "outside"),
    "a word": ("score-txt", "echo full > /app/score", "no number"),
    "100 MB": ("score-txt", "head -c 100000000 /dev/zero | tr '\\0' 1 > /app/score", "larger"),
    # test.sh copies /dev/zero until the per-file limit (1 GiB) stops it
    "a link to a device": ("score-txt", "ln -s /dev/zero /app/score", "larger"),
    "JSON Infinity": ("score-json", "echo '{\"reward\": Infinity}' > /app/score.json", "not JSON"),
    "JSON true": ("score-json", "echo '{\"reward\": true}' > /app/score.json", "not a number"),
    "JSON 1e400": ("score-json", "echo '{\"reward\": 1e400}' > /app/score.json", "not finite"),
}


@pytest.mark.parametrize("score", list(SCORES))
def test_bad_reward_files_earn_nothing(make_env: Make, tasks: Path, score: str) -> None:
    task, command, why = SCORES[score]
    env = make_env(tasks)
    reward, verdict, _ = play(env, task, [command, "submit"])
    assert reward == 0.0
    assert why in verdict["details"]["reason"], verdict


def test_a_good_score_file_is_read(make_env: Make, tasks: Path) -> None:
    env = make_env(tasks)
    assert play(env, "score-txt", ["echo 1 > /app/score", "submit"])[0] == 1.0
    reward, verdict, _ = play(env, "score-json", ["echo 0.5 > /app/score.json", "submit"])
    assert reward == 0.0
    assert verdict["details"]["reward"] == 0.5


# -- a hang costs the agent, not the grader ----------------------------------------------------


def test_tests_made_to_hang_end_at_the_verifier_time_out(make_env: Make, tasks: Path) -> None:
    env = make_env(tasks)
    hang = "printf 'while :; do :; done\\n' > /app/check.sh"
    started = time.monotonic()
    reward, verdict, _ = play(env, "hang", [hang, "submit"])
    assert reward == 0.0
    assert "ran out of its 3 s" in verdict["details"]["reason"]
    assert time.monotonic() - started < 60  # a generous bound: never a hung grader


# -- tools the tests use ------------------------------------------------------------------------


TAMPER = (
    "mv /usr/bin/python3 /usr/bin/python3.real && printf '#!/bin/sh\\nexit 0\\n' > "
    "/usr/bin/python3 && chmod +x /usr/bin/python3"
)
_EXIT_0 = "import os; os._exit(0)"
# Each makes python3 (or pytest) report success whatever it checks; the path it
# changes is what the grader must name.
TAMPERS = {
    "python3 replaced": ("python-check", TAMPER, "/usr/bin/python3"),
    "python3 shadowed earlier on PATH": (
        "python-check",
        "printf '#!/bin/sh\\nexit 0\\n' > /usr/local/bin/python3 "
        "&& chmod +x /usr/local/bin/python3",
        "/usr/local/bin/python3",
    ),
    "a .pth that runs code at start-up": (
        "python-check",
        f"echo '{_EXIT_0}' > /usr/lib/python3/dist-packages/zz.pth",
        "/usr/lib/python3/dist-packages/zz.pth",
    ),
    "usercustomize in root's user site": (
        "python-check",
        'd=$(python3 -c "import site; print(site.getusersitepackages())") && mkdir -p "$d" '
        f'&& echo "{_EXIT_0}" > "$d/usercustomize.py"',
        "usercustomize.py",
    ),
    "a loader preload": (
        "python-check",
        "echo /usr/lib/x86_64-linux-gnu/libc.so.6 > /etc/ld.so.preload",
        "/etc/ld.so.preload",
    ),
    "pytest's configuration at the top of the tree": (
        "pytest-check",
        "printf '[pytest]\\n' > /pytest.ini && printf 'import pytest\\n"
        "@pytest.hookimpl(hookwrapper=True)\\ndef pytest_runtest_makereport(item, call):\\n"
        '    outcome = yield\\n    outcome.get_result().outcome = "passed"\\n\' > /conftest.py',
        "/conftest.py",
    ),
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_tools_the_agent_changed_do_not_grade_it(make_env: Make, tasks: Path, tamper: str) -> None:
    """In Harbor's shared mode the tests would run with the agent's tools; the grader
    sees the change through the engine and runs them in a fresh container of the
    task's image instead, with the agent's working directory: the tampering earns
    nothing, the job done still earns 1.0."""
    task, command, path = TAMPERS[tamper]
    env = make_env(tasks)
    reward, verdict, _ = play(env, task, [WRONG, command, "submit"])
    assert reward == 0.0, verdict
    assert any(path in p for p in verdict["details"]["tools_changed"]), verdict
    reward, verdict, _ = play(env, task, [DONE, command, "submit"])
    assert reward == 1.0, verdict


@pytest.mark.parametrize(
    "tamper", ["python3 replaced", "pytest's configuration at the top of the tree"]
)
def test_paths_the_agent_may_change_are_trusted_and_fool_the_tests(
    make_env: Make, tasks: Path, tamper: str
) -> None:
    """``agent_may_change`` (the env's, or a task's ``[metadata.taskgym]``) lets the
    agent change those paths with the tests still in its container: the attack then
    wins, which shows it is real and why the option is for install tasks only."""
    task, command, _ = TAMPERS[tamper]
    env = make_env(tasks, agent_may_change=["/usr/bin", "/pytest.ini", "/conftest.py"])
    reward, verdict, _ = play(env, task, [WRONG, command, "submit"])
    assert reward == 1.0, verdict
    assert "tools_changed" not in verdict["details"]


def test_ordinary_work_keeps_the_tests_in_the_agents_container(make_env: Make, tasks: Path) -> None:
    """Files in the working directory, /etc, /opt, /tmp and home are the agent's work:
    the tests run where it left them (no fresh container)."""
    env = make_env(tasks)
    work = "mkdir -p /opt/x /root/notes && echo a > /etc/motd && echo b > /root/notes/n && "
    reward, verdict, _ = play(env, "answer", [work + DONE, "submit"])
    assert reward == 1.0, verdict
    assert "tools_changed" not in verdict["details"]


def test_a_separate_verifier_runs_untouched_tools(make_env: Make, tasks: Path) -> None:
    env = make_env(tasks)
    reward, verdict, _ = play(env, "python-check-separate", [WRONG, TAMPER, "submit"])
    assert reward == 0.0, verdict
    assert play(env, "python-check-separate", [DONE, TAMPER, "submit"])[0] == 1.0


# -- the agent's code that the tests run ---------------------------------------------------------


REWRITER = (
    "printf '#!/bin/bash\\n(setsid bash -c \"while :; do echo 1 > /logs/verifier/reward.txt "
    "2>/dev/null; sleep 0.01; done\" > /dev/null 2>&1 &)\\nexit 1\\n' > /app/check.sh"
)


def test_a_logs_directory_the_agent_owns_is_taken_back(make_env: Make, tasks: Path) -> None:
    """The agent gives /logs to nobody; its program, which the tests run as nobody,
    would then swap /logs/verifier for a directory of its own holding reward.json (read
    before the tests' reward.txt). The grader makes /logs root's again."""
    env = make_env(tasks)
    program = "printf '#!/bin/sh\\necho {}\\n' > /app/check && chmod 755 /app/check"
    assert play(env, "nobody-check", [program.format(42), "submit"])[0] == 1.0
    assert play(env, "nobody-check", [program.format(41), "submit"])[0] == 0.0
    swap = (
        "mkdir -p /logs && chown 65534:65534 /logs && printf '#!/bin/bash\\n"
        "mv /logs/verifier /logs/old && mkdir /logs/verifier && "
        "echo 1 > /logs/verifier/reward.json\\necho 41\\n' > /app/check && chmod 755 /app/check"
    )
    reward, verdict, _ = play(env, "nobody-check", [swap, "submit"])
    assert reward == 0.0, verdict


@pytest.mark.parametrize("task", ["agent-check", "answer-separate"])
def test_a_process_the_tests_started_cannot_rewrite_the_reward(
    make_env: Make, tasks: Path, task: str
) -> None:
    """The agent's program, run by the tests, leaves a process that keeps writing 1.0
    over the reward the tests wrote: the runner finds it still running when test.sh
    ends (0.0, and the reason), and every process is killed before the reward is read."""
    env = make_env(tasks)
    if task == "answer-separate":  # its tests do not run /app/check.sh: the control
        assert play(env, task, [WRONG, REWRITER, "submit"])[0] == 0.0
        return
    reward, verdict, _ = play(env, task, [REWRITER, "submit"])
    assert reward == 0.0, verdict
    assert "still ran when it ended" in verdict["details"]["reason"], verdict
    honest = "printf '#!/bin/bash\\nexit 0\\n' > /app/check.sh"
    assert play(env, task, [honest, "submit"])[0] == 1.0


def test_links_out_of_the_carried_state_are_dropped(make_env: Make, tasks: Path) -> None:
    """The separate verifier receives /app through a filter: a link that leaves it (to a
    file of the verifier's own image, here one that holds 42) is not carried."""
    env = make_env(tasks)
    for target in ("/opt/answer", "../opt/answer"):
        link = f"mkdir -p /opt && echo 42 > /opt/answer && ln -sf {target} /app/answer.txt"
        reward, verdict, _ = play(env, "answer-separate-bait", [link, "submit"])
        assert reward == 0.0, (target, verdict)
    assert play(env, "answer-separate-bait", [DONE, "submit"])[0] == 1.0


# -- limits -------------------------------------------------------------------------------------


def test_files_past_the_tasks_storage_stop_the_container(make_env: Make, tasks: Path) -> None:
    """storage_mb = 64. Where the engine caps the writable layer, the write fails; here
    (overlay2 on ext4) the watcher finds the layer past the cap within a few seconds
    and kills the container: the episode ends, is graded, and nothing is raised."""
    env = make_env(tasks)
    fill = "head -c 300000000 /dev/zero > /app/big; echo wrote"
    actions = [fill, "sleep 6; echo still here", DONE, "submit"]
    reward, verdict, observations = play(env, "storage", actions)
    said = "\n".join(observations)
    if "No space left" not in said:  # watched, not capped: the container was stopped
        assert "storage_mb, 64 MB" in said, said
        assert "still here" not in said
        assert reward == 0.0, verdict  # the job (DONE) was never run
    assert play(env, "storage", [DONE, "submit"])[0] == 1.0  # a new container


# -- the network ----------------------------------------------------------------------------------


def test_no_network_by_default_even_where_the_task_allows_it(make_env: Make, tasks: Path) -> None:
    env = make_env(tasks)
    probe = 'python3 -c "import socket; print(sorted(n for _, n in socket.if_nameindex()))"'
    reward, _, observations = play(env, "public-network", [probe, DONE, "submit"])
    assert reward == 1.0
    assert "['lo']" in observations[0]


# -- under gVisor -----------------------------------------------------------------------------


def test_the_same_holds_under_gvisor(make_env: Make, tasks: Path) -> None:
    """gVisor keeps a cache of the container's files: what the grader makes from the host
    must still be what the tests see there."""
    require_runsc()
    env = make_env(tasks, runtime="runsc")
    for task in ("answer", "answer-separate"):
        assert play(env, task, [DONE, "submit"])[0] == 1.0
        look = f"ls /tests; grep -rIl {MARKER} / --exclude-dir=proc --exclude-dir=sys; echo done"
        reward, verdict, observations = play(
            env, task, [look, WRONG, PLANTED["reward.txt"], "submit"]
        )
        assert reward == 0.0, verdict
        assert MARKER not in observations[0]
        late = DAEMONS["a late writer, double-forked, ignoring signals"]
        assert play(env, task, [WRONG, late, "submit"])[0] == 0.0
