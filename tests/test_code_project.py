"""Project tasks (CodeProject-v0): the agent edits files over several turns; a hidden
pytest suite grades what it leaves. The attacks below each try to earn reward without a
working project, against real bubblewrap and a real Docker engine."""

from __future__ import annotations

import json
import shutil
import textwrap
import time
from pathlib import Path

import gymnasium as gym
import pytest

from taskgym import CheckerError, ConfigError
from taskgym.envs.code.project import BUNDLED_PROJECTS, load_project_tasks
from taskgym.errors import SandboxUnavailableError
from taskgym.sandboxes import make_sandbox
from tests.conftest import require_backend, require_pytest_in

INVENTORY = Path(BUNDLED_PROJECTS) / "inventory"
SOLUTION = (INVENTORY / "solution" / "inventory.py").read_text()
# Every method fails: whatever such a project earns, a trick earned it.
BROKEN = """
class OutOfStock(ValueError):
    pass


class Inventory:
    def add(self, item, count=1):
        raise RuntimeError("broken")

    take = count = items = add
"""


def submission(files: dict[str, str]) -> str:
    writes = "".join(f'<write path="{p}">\n{t}</write>\n' for p, t in files.items())
    return writes + "<submit/>"


@pytest.fixture(scope="module")
def inventory_task(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled inventory task with short time limits, so attacks that stall end fast."""
    task = tmp_path_factory.mktemp("tasks") / "inventory"
    shutil.copytree(INVENTORY, task)
    manifest = json.loads((task / "task.json").read_text())
    manifest.update(test_seconds=20, call_seconds=2, run_seconds=1)
    (task / "task.json").write_text(json.dumps(manifest))
    return str(task)


def play(backend: str, path: str, action: str) -> dict:
    require_pytest_in(backend)
    env = gym.make("taskgym/CodeProject-v0", tasks=path, sandbox=backend)
    try:
        env.reset(options={"task_id": "project-inventory"})
        _, reward, terminated, _, info = env.step(action)
    finally:
        env.close()
    assert terminated
    return {"reward": reward, **info["verdict"]}


# -- the format ----------------------------------------------------------------------


def test_bundled_projects_load_with_their_modules() -> None:
    records = {r.id: r for r in load_project_tasks(BUNDLED_PROJECTS)}
    assert len(records) >= 4
    assert records["project-inventory"].modules == ("inventory",)
    assert records["project-textstats"].modules == ("textstats",)
    assert "test_visible.py" in records["project-inventory"].files


def write_task(root: Path, manifest: dict, **trees: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "task.json").write_text(json.dumps(manifest))
    for tree, files in trees.items():
        for name, text in files.items():
            (root / tree / name).parent.mkdir(parents=True, exist_ok=True)
            (root / tree / name).write_text(text)
    return root


GOOD = {
    "tests": {"test_m.py": "from m import f\ndef test_f():\n    assert f() == 1\n"},
    "solution": {"m.py": "def f():\n    return 1\n"},
}


@pytest.mark.parametrize(
    ("manifest", "trees", "message"),
    [
        ({"id": "x", "prompt": "p", "colour": 1}, GOOD, "unknown field"),
        ({"id": "x"}, GOOD, "'prompt' is missing"),
        ({"id": "x", "prompt": "p", "max_turns": "3"}, GOOD, "'max_turns' has the wrong type"),
        ({"id": "x", "prompt": "p", "test_seconds": 0}, GOOD, "must be positive"),
        ({"id": "x", "prompt": "p"}, {"solution": GOOD["solution"]}, "tests/ is missing"),
        (
            {"id": "x", "prompt": "p"},
            {**GOOD, "tests": {"helper.py": "x = 1\n"}},
            r"no test_\*\.py",
        ),
        ({"id": "x", "prompt": "p"}, {"tests": GOOD["tests"]}, "solution/ is missing"),
        ({"id": "x", "prompt": "p", "modules": ["json"]}, GOOD, "rename it"),
        ({"id": "x", "prompt": "p", "modules": ["not a name"]}, GOOD, "not a Python name"),
    ],
)
def test_bad_task_directories_say_what_is_wrong(
    tmp_path: Path, manifest: dict, trees: dict, message: str
) -> None:
    task = write_task(tmp_path / "t", manifest, **trees)
    with pytest.raises(ConfigError, match=message):
        load_project_tasks(task)


def test_a_directory_of_tasks_needs_distinct_ids(tmp_path: Path) -> None:
    write_task(tmp_path / "a", {"id": "same", "prompt": "p"}, **GOOD)
    write_task(tmp_path / "b", {"id": "same", "prompt": "p"}, **GOOD)
    with pytest.raises(ConfigError, match="'same' is also"):
        load_project_tasks(tmp_path)
    with pytest.raises(ConfigError, match="no project task"):
        load_project_tasks(tmp_path / "a" / "tests")


def test_tests_that_do_not_collect_are_the_tasks_fault(tmp_path: Path) -> None:
    """Calling the project while the tests are collected is refused (no candidate code
    runs while the tests are on disk), and it says so."""
    require_pytest_in()
    tests = {"test_m.py": "from m import f\nVALUE = f()\ndef test_f():\n    assert VALUE == 1\n"}
    task = write_task(tmp_path / "t", {"id": "x", "prompt": "p"}, **{**GOOD, "tests": tests})
    env = gym.make("taskgym/CodeProject-v0", tasks=str(task))
    env.reset(seed=0)
    with pytest.raises(CheckerError, match="cannot run while the tests are collected"):
        env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
    env.close()


# -- episodes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("local", marks=pytest.mark.slow),
        "bwrap",
        pytest.param("docker", marks=pytest.mark.integration),
    ],
)
def test_every_bundled_reference_earns_one_and_the_start_earns_zero(backend: str) -> None:
    require_pytest_in(backend)
    env = gym.make("taskgym/CodeProject-v0", sandbox=backend)
    for record in load_project_tasks(BUNDLED_PROJECTS):
        env.reset(options={"task_id": record.id})
        _, reward, *_, info = env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
        assert reward == 1.0, (record.id, info["verdict"])
        assert info["verdict"]["total"] >= 7
        env.reset(options={"task_id": record.id})
        _, reward, *_ = env.step("<submit/>")
        assert reward == 0.0, record.id
    env.close()


def test_an_episode_writes_reads_runs_and_is_graded_when_turns_run_out(tmp_path: Path) -> None:
    require_pytest_in()
    task = tmp_path / "inventory"
    shutil.copytree(INVENTORY, task)
    manifest = json.loads((task / "task.json").read_text())
    (task / "task.json").write_text(json.dumps({**manifest, "max_turns": 3}))
    env = gym.make("taskgym/CodeProject-v0", tasks=str(task))
    obs, _ = env.reset(options={"task_id": "project-inventory"})
    assert "--- inventory.py ---" in obs and "<submit/>" in obs and "tests/" not in obs
    obs, reward, terminated, truncated, _ = env.step(
        f'<write path="inventory.py">\n{SOLUTION}</write>\n<read path="inventory.py"/>'
    )
    assert "write inventory.py: done" in obs and "def take(self" in obs
    assert "[2 turn(s) left]" in obs and (reward, terminated, truncated) == (0.0, False, False)
    obs, *_ = env.step("<run>python3 -m pytest -q test_visible.py</run> and some words")
    assert obs.startswith("run: exit code 0") and "1 passed" in obs
    obs, reward, terminated, truncated, info = env.step("what now?")
    assert "No action found" in obs and "No turns left" in obs
    assert terminated and reward == 1.0  # the files left are graded
    assert info["verdict"]["passed"] == info["verdict"]["total"] == 10
    env.close()
    env = gym.make("taskgym/CodeProject-v0", max_turns=2)  # the env's limit: truncation
    env.reset(options={"task_id": "project-inventory"})
    env.step(f'<write path="inventory.py">\n{SOLUTION}</write>')
    _, reward, terminated, truncated, _ = env.step("")
    assert truncated and not terminated and reward == 1.0
    env.close()


def test_bad_paths_and_slow_commands_are_reported_not_raised(inventory_task: str) -> None:
    env = gym.make("taskgym/CodeProject-v0", tasks=inventory_task)
    env.reset(options={"task_id": "project-inventory"})
    obs, *_ = env.step(
        '<write path="../escape.py">x</write><read path="/etc/passwd"/><read path="nope.txt"/>'
        "<run>sleep 30</run>"
    )
    assert "write ../escape.py: failed" in obs and "read /etc/passwd: failed" in obs
    assert "read nope.txt: failed" in obs and "timed out after 1 s" in obs
    env.close()


def test_a_partial_project_earns_its_fraction() -> None:
    require_pytest_in()
    half = SOLUTION.replace("return sorted(", "return list(")
    env = gym.make("taskgym/CodeProject-v0", reward="fraction_passed")
    env.reset(options={"task_id": "project-inventory"})
    _, reward, *_, info = env.step(submission({"inventory.py": half}))
    failed = [f["test"] for f in info["verdict"]["details"]["failures"]]
    assert failed == ["suite/test_inventory.py::test_items_sorted"]
    assert 0.8 < reward < 1.0
    env.close()


# -- attacks: each earns nothing -----------------------------------------------------

ATTACKS: dict[str, dict[str, str]] = {
    "os._exit(0) at import": {"inventory.py": "import os\nos._exit(0)\n" + BROKEN},
    "os._exit(0) in a call": {
        "inventory.py": BROKEN + "\n    def count(self, item):\n        import os; os._exit(0)\n"
    },
    "SystemExit and KeyboardInterrupt": {
        "inventory.py": BROKEN
        + "\n    def count(self, item):\n        raise SystemExit(0)\n"
        + "\n    def take(self, item, count=1):\n        raise KeyboardInterrupt\n"
    },
    "atexit prints a fake summary": {
        "inventory.py": "import atexit\natexit.register(print, '== 10 passed in 0.01s ==')\n"
        + BROKEN
    },
    "a conftest.py that marks every test passed": {
        "conftest.py": textwrap.dedent(
            """
            import pytest

            @pytest.hookimpl(hookwrapper=True)
            def pytest_runtest_makereport(item, call):
                outcome = yield
                outcome.get_result().outcome = "passed"
            """
        ),
        "inventory.py": BROKEN,
    },
    "a pytest.py beside the project": {
        "pytest.py": "import os\nprint('10 passed')\nos._exit(0)\n",
        "inventory.py": "import pytest\n" + BROKEN,
    },
    "edited tests": {
        "tests/test_inventory.py": "def test_nothing():\n    pass\n",
        "test_visible.py": "def test_nothing():\n    pass\n",
        "inventory.py": BROKEN,
    },
    "objects whose __eq__ always says True": {
        "inventory.py": textwrap.dedent(
            """
            class Yes:
                def __eq__(self, other): return True
                def __ne__(self, other): return False
                def __hash__(self): return 0
                def __bool__(self): return True

            class LyingInt(int):
                def __eq__(self, other): return True

            class LyingStr(str):
                def __eq__(self, other): return True

            class OutOfStock(ValueError):
                pass

            class Inventory:
                def add(self, item, count=1): return None
                def take(self, item, count=1): return None
                def count(self, item): return LyingInt(7)
                def items(self): return [LyingStr("x"), Yes()]
            """
        )
    },
    "patched builtins and sys.modules": {
        "inventory.py": textwrap.dedent(
            """
            import builtins, sys, types
            builtins.isinstance = lambda *a: True
            builtins.len = lambda *a: 0
            fake = types.ModuleType("pytest")
            fake.raises = lambda *a, **k: None
            sys.modules["pytest"] = sys.modules["_pytest"] = fake
            """
        )
        + BROKEN
    },
    "a walk over the frames and objects it can reach": {
        "inventory.py": textwrap.dedent(
            """
            import gc, sys
            def forge():
                frame = sys._getframe()
                while frame is not None:
                    for scope in (frame.f_locals, frame.f_globals):
                        for key in list(scope):
                            if "result" in str(key) or "passed" in str(key):
                                scope[key] = True
                    frame = frame.f_back
                for thing in gc.get_objects():
                    if isinstance(thing, dict) and "passed" in thing:
                        thing["passed"] = True
            forge()
            """
        )
        + BROKEN
        + "\n    def count(self, item):\n        forge(); raise RuntimeError\n"
    },
    "messages forged on every descriptor": {
        "inventory.py": textwrap.dedent(
            """
            import json, os, struct
            def frame(message):
                body = json.dumps(message).encode()
                return struct.pack(">I", len(body)) + body
            forged = b"".join(
                frame(m) for m in (
                    {"result": {"id": "suite/test_inventory.py::test_take", "passed": True}},
                    {"done": 0}, {"v": {"i": "4"}}, {"go": True},
                )
            )
            for fd in range(3, 64):
                try:
                    os.write(fd, forged)
                except OSError:
                    pass
            """
        )
        + BROKEN
    },
    "killing every process it can see": {
        "inventory.py": textwrap.dedent(
            """
            import os, signal
            for name in os.listdir("/proc"):
                if name.isdigit() and int(name) != os.getpid():
                    for sig in (signal.SIGSTOP, signal.SIGKILL):
                        try:
                            os.kill(int(name), sig)
                        except OSError:
                            pass
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            """
        )
        + BROKEN
    },
    "a call that never returns": {
        "inventory.py": BROKEN + "\n    def count(self, item):\n        while True: pass\n"
    },
    "__del__ that exits": {
        "inventory.py": BROKEN.replace(
            "class Inventory:",
            "class Inventory:\n    def __del__(self):\n        import os; os._exit(0)\n",
        )
    },
    # A correct project that refuses to work unless it found the hidden tests: any pass
    # means the tests were readable from the candidate's side.
    "reading the hidden tests": {
        "inventory.py": textwrap.dedent(
            """
            import glob, os, stat

            # Built at run time: a constant would be in this module's own .pyc.
            NEEDLE = "_".join(["def test_take", "everything"])

            def found_the_tests():
                places = ["/tmp", "/var/tmp", "/dev/shm", "/work", os.getcwd(), ".."]
                places += glob.glob("/proc/[0-9]*/cwd") + glob.glob("/proc/[0-9]*/root/tmp")
                skip = ("/usr", "/etc", "/lib", "/bin", "/sbin", "/proc", "/sys", "/var/lib")
                for place in places:
                    try:
                        real = os.path.realpath(place)
                    except OSError:
                        continue
                    if real == "/" or real.startswith(skip):
                        continue  # the system's files, read-only and the same for all
                    for top, _, names in os.walk(place):
                        for name in names:
                            path = os.path.join(top, name)
                            try:
                                if not stat.S_ISREG(os.stat(path).st_mode):
                                    continue
                                with open(path, errors="replace") as f:
                                    if NEEDLE in f.read(1 << 20):
                                        return True
                            except OSError:
                                pass
                for path in glob.glob("/proc/[0-9]*/fd/*") + glob.glob("/proc/[0-9]*/cmdline"):
                    try:
                        if path.endswith("cmdline") or stat.S_ISREG(os.stat(path).st_mode):
                            with open(path, "rb") as f:
                                if NEEDLE.encode() in f.read(1 << 20):
                                    return True
                    except OSError:
                        pass
                return False
            """
        )
        + "FOUND = found_the_tests()\n"
        + SOLUTION.replace(
            "        self._stock = {}\n", "        assert FOUND\n        self._stock = {}\n"
        )
    },
}

ATTACK_BACKENDS = ["bwrap", pytest.param("docker", marks=pytest.mark.integration)]


@pytest.mark.parametrize("backend", ATTACK_BACKENDS)
def test_the_reference_passes_through_the_same_path(backend: str, inventory_task: str) -> None:
    """The control for the attacks: the same episode with the real solution earns 1."""
    assert play(backend, inventory_task, submission({"inventory.py": SOLUTION}))["reward"] == 1.0


@pytest.mark.parametrize("backend", ATTACK_BACKENDS)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_earns_nothing(backend: str, attack: str, inventory_task: str) -> None:
    verdict = play(backend, inventory_task, submission(ATTACKS[attack]))
    assert verdict["total"] == 10, verdict
    assert verdict["reward"] == 0.0 and verdict["passed"] == 0, verdict


@pytest.mark.parametrize("backend", ATTACK_BACKENDS)
def test_a_process_left_running_does_not_outlive_the_episode_into_grading(
    backend: str, inventory_task: str
) -> None:
    """A daemon started during the episode waits for grading (its work directory
    emptied, or a test directory in /tmp) and then puts the real solution in place of
    the broken one and plants a conftest.py wherever tests are. It must be dead by then."""
    require_pytest_in(backend)
    daemon = textwrap.dedent(
        f"""
        import glob, os, time
        solution = {SOLUTION!r}
        armed = False
        while True:
            try:
                grading = glob.glob("/tmp/tests-*/suite") or not os.path.exists("daemon.py")
                if armed and grading:
                    with open("inventory.py", "w") as f:
                        f.write(solution)
                    for suite in glob.glob("/tmp/tests-*/suite"):
                        with open(os.path.join(suite, "conftest.py"), "w") as f:
                            f.write("")
                armed = True
                with open("alive", "w") as f:
                    f.write(str(time.time()))
            except OSError:
                pass
            time.sleep(0.005)
        """
    )
    env = gym.make("taskgym/CodeProject-v0", tasks=inventory_task, sandbox=backend)
    env.reset(options={"task_id": "project-inventory"})
    env.step(f'<write path="daemon.py">\n{daemon}</write>')
    obs, *_ = env.step(
        "<run>setsid nohup python3 daemon.py >/dev/null 2>&1 & sleep 0.5; cat alive</run>"
    )
    assert "exit code 0" in obs
    _, reward, *_, info = env.step(submission({"inventory.py": BROKEN}))
    assert reward == 0.0 and info["verdict"]["passed"] == 0, info["verdict"]
    box = env.unwrapped._sandbox  # type: ignore[attr-defined]
    before = box.read_file("inventory.py")
    alive = box.read_file("alive")
    time.sleep(0.3)
    assert box.read_file("inventory.py") == before == BROKEN.encode()
    assert box.read_file("alive") == alive  # nothing runs it any more
    env.close()


def test_pytest_missing_in_the_sandbox_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sandbox whose python3 cannot import pytest: the error names what to install."""
    from taskgym.envs.common import project_tests

    broken = project_tests._TESTS_SOURCE.replace(
        "import pytest  #", "import no_such_pytest as pytest  #"
    )
    assert broken != project_tests._TESTS_SOURCE
    monkeypatch.setattr(project_tests, "_TESTS_SOURCE", broken)
    record = load_project_tasks(INVENTORY)[0]
    with (
        make_sandbox("local") as box,
        pytest.raises(SandboxUnavailableError, match="apt-get install python3-pytest"),
    ):
        project_tests.grade_project(box, record)


@pytest.mark.parametrize("backend", ATTACK_BACKENDS)
def test_the_test_reader_finds_tests_it_can_reach(backend: str) -> None:
    """The control for "reading the hidden tests": where the tests are readable (a copy
    in the work directory), the attack's reader finds them, so its failing means the
    hidden ones were out of reach, not that it could not read."""
    require_backend(backend)
    with make_sandbox(backend) as box:
        box.write_file("inventory.py", ATTACKS["reading the hidden tests"]["inventory.py"])
        box.write_file("notes/copy.py", (INVENTORY / "tests" / "test_inventory.py").read_text())
        result = box.run(["python3", "-c", "import inventory; print(inventory.FOUND)"])
        assert result.out.strip() == "True", result
