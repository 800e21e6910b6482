"""Reading Harbor tasks: task.toml as Harbor's own models read it, the FROM mapping of
their Dockerfiles, strict reward files, and task directories refused with a reason.

The cross-check with Harbor's ``TaskConfig`` runs where the ``harbor`` package imports:
installed (Python 3.12+), or its wheel named by ``TASKGYM_HARBOR_WHEEL`` (``pip
download harbor==0.26.0 --no-deps --python-version 3.12 --only-binary=:all:``), whose
models import on Python 3.11 too. CI sets that variable and requires it (``harbor`` in
TASKGYM_REQUIRE_BACKENDS).
"""

from __future__ import annotations

import copy
import importlib
import io
import os
import sys
import tarfile
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib

from taskgym.envs.harbor.config import config_from_mapping, read_task_config
from taskgym.envs.harbor.container import CarryTooLarge, _filter_tar
from taskgym.envs.harbor.images import map_base_image, rewrite_from_lines
from taskgym.envs.harbor.tasks import BUNDLED_HARBOR_TASKS, load_harbor_tasks
from taskgym.envs.harbor.verify import parse_reward
from taskgym.errors import ConfigError
from tests.attacks.harbor.common import missing

TEMPLATE = Path(__file__).parent / "data" / "harbor" / "template-task"
BUNDLED = sorted(p for p in Path(BUNDLED_HARBOR_TASKS).iterdir() if (p / "task.toml").is_file())


def test_harbors_template_task_reads_as_harbor_defines_it() -> None:
    config = read_task_config(TEMPLATE / "task.toml")
    assert config.schema_version == "1.4"
    assert config.verifier_timeout_sec == 900.0
    assert config.agent_timeout_sec == 900.0
    assert config.environment.build_timeout_sec == 600.0
    assert config.environment.network_mode == "public"  # Harbor's default
    # tests/Dockerfile alone does not make the verifier separate (Harbor's rule).
    assert config.verifier_mode == "shared"


def test_ten_bundled_tasks_load() -> None:
    records = load_harbor_tasks(BUNDLED_HARBOR_TASKS)
    assert len(records) >= 10
    assert {r.id for r in records} == {p.name for p in BUNDLED}


def _read(text: str) -> Any:
    return config_from_mapping(tomllib.loads(text))


def test_legacy_fields() -> None:
    config = _read(
        'version = "1.0"\n[environment]\nmemory = "2G"\nstorage = "512M"\nallow_internet = false\n'
    )
    assert config.schema_version == "1.0"
    assert config.environment.memory_mb == 2048
    assert config.environment.storage_mb == 512
    assert config.environment.network_mode == "no-network"


def test_separate_verifier_rules() -> None:
    assert _read('[verifier]\nenvironment_mode = "separate"\n').verifier_mode == "separate"
    implied = _read('[verifier.environment]\ndocker_image = "python:3.12"\n')
    assert implied.verifier_mode == "separate"
    assert implied.verifier_spec().docker_image == "python:3.12"
    with pytest.raises(ConfigError, match="incompatible"):
        _read('[verifier]\nenvironment_mode = "shared"\n[verifier.environment]\ncpus = 1\n')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[steps]]\nname = "one"\n', "multi-step"),
        ('[environment]\nos = "windows"\n', "Linux"),
        ('[environment]\nnetwork_mode = "open"\n', "network_mode"),
        ('[agent]\nallowed_hosts = ["a.com"]\n', "allowlist"),
        ("[verifier]\ntimeout_sec = -1\n", "positive"),
        ('[verifier]\ntimeout_sec = "soon"\n', "positive"),
        ("[environment]\ncpus = nan\n", "cpus"),
        ('[environment]\nmemory = "lots"\n', "size"),
        ("[verifier.env]\nX = 1\n", "strings"),
        ('[metadata.taskgym]\nagent_may_change = "/usr"\n', "list of strings"),
        ('[metadata.taskgym]\nagent_may_change = ["usr/bin"]\n', "absolute path"),
        ('[metadata.taskgym]\nagent_may_change = ["/"]\n', "absolute path below"),
        ('[metadata.taskgym]\nagent_may_change = ["/usr/../etc"]\n', "'..'"),
        ('[metadata.taskgym]\nagent_may_chnage = ["/usr/bin"]\n', "unknown keys"),
    ],
)
def test_bad_task_toml_is_refused_with_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _read(text)


def test_paths_the_agent_may_change_are_read_from_taskgyms_metadata() -> None:
    text = (
        '[metadata]\ncategory = "x"\n[metadata.taskgym]\nagent_may_change = ["/usr/local/bin/x"]\n'
    )
    assert _read(text).agent_may_change == ("/usr/local/bin/x",)
    assert _read("[metadata]\n").agent_may_change == ()


def test_unreadable_task_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "task.toml").write_text("[verifier\n")
    with pytest.raises(ConfigError, match=r"task\.toml cannot be read as TOML"):
        read_task_config(tmp_path / "task.toml")


# -- Harbor's own models -----------------------------------------------------------------

EDGE_CASES = [
    "",
    'version = "1.1"\n[agent]\ntimeout_sec = 30\nuser = "agent"\n',
    '[environment]\nmemory = "1G"\nallow_internet = true\ncpus = 2.0\nworkdir = "/srv"\n',
    '[environment]\nnetwork_mode = "allowlist"\nallowed_hosts = ["pypi.org"]\n',
    '[verifier]\nenvironment_mode = "separate"\nnetwork_mode = "no-network"\n',
    '[verifier.environment]\ndocker_image = "python:3.12-slim"\nmemory_mb = 256\n',
    '[environment.healthcheck]\ncommand = "true"\nretries = 2\n',
    '[solution.env]\nMODE = "fast"\n[verifier.env]\nKEY = "${HOME}"\n',
    'artifacts = ["/app/out", {source = "/var/log/x", destination = "logs"}]\n',
]


@pytest.fixture(scope="module")
def harbor_task_config() -> Iterator[Any]:
    """Harbor's TaskConfig, installed or from the wheel TASKGYM_HARBOR_WHEEL names."""
    wheel = os.environ.get("TASKGYM_HARBOR_WHEEL")
    added = []
    if wheel:
        sys.path.insert(0, wheel)
        added.append(wheel)
        if importlib.util.find_spec("toml") is None:  # harbor writes TOML with it; we only read
            sys.modules["toml"] = types.ModuleType("toml")
    try:
        module = importlib.import_module("harbor.models.task.config")
    except ImportError as e:
        missing(
            "harbor",
            f"harbor's models do not import ({e}): pip install 'taskgym[harbor]' (Python "
            "3.12+), or set TASKGYM_HARBOR_WHEEL to a downloaded harbor wheel",
        )
    yield module.TaskConfig
    for path in added:
        sys.path.remove(path)
        for name in [m for m in sys.modules if m == "harbor" or m.startswith("harbor.")]:
            del sys.modules[name]


@pytest.mark.parametrize(
    "text",
    [
        *[(TEMPLATE / "task.toml").read_text()],
        *[(d / "task.toml").read_text() for d in BUNDLED],
        *EDGE_CASES,
        '[metadata]\ncategory = "x"\n[metadata.taskgym]\nagent_may_change = ["/usr/bin/x"]\n',
    ],
)
def test_our_reading_is_harbors(harbor_task_config: Any, text: str) -> None:
    raw = tomllib.loads(text)
    with warnings.catch_warnings():  # harbor warns of the legacy fields it still takes
        warnings.simplefilter("ignore", DeprecationWarning)
        # A copy: harbor's validators pop the legacy keys from what they are given.
        harbors = harbor_task_config.model_validate(copy.deepcopy(raw)).model_dump(mode="json")
    assert config_from_mapping(raw) == config_from_mapping(harbors)


@pytest.mark.parametrize(
    "text",
    [
        '[environment]\nnetwork_mode = "no-network"\nallowed_hosts = ["a.com"]\n',
        '[verifier]\nenvironment_mode = "shared"\n[verifier.environment]\ncpus = 1\n',
        '[verifier]\nenvironment_mode = "elsewhere"\n',
        '[environment]\nmemory = "2G"\nmemory_mb = 1\n',
    ],
)
def test_what_harbor_refuses_we_refuse(harbor_task_config: Any, text: str) -> None:
    raw = tomllib.loads(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match="validation error"):
            harbor_task_config.model_validate(copy.deepcopy(raw))
    with pytest.raises(ConfigError):
        config_from_mapping(raw)


# -- the FROM mapping --------------------------------------------------------------------


def test_from_lines_are_mapped_and_stages_kept() -> None:
    dockerfile = (
        "FROM --platform=linux/amd64 python:3.12-slim AS build\n"
        "RUN echo hi\n"
        "FROM build\n"
        "from ubuntu:24.04 as final\n"
        "COPY --from=build /a /a\n"
        "FROM scratch\n"
    )
    text, bases = rewrite_from_lines(dockerfile, {"ubuntu:24.04": "my/ubuntu", "*": "base:x"})
    assert text.splitlines() == [
        "FROM --platform=linux/amd64 base:x AS build",
        "RUN echo hi",
        "FROM build",
        "from my/ubuntu as final",
        "COPY --from=build /a /a",
        "FROM scratch",
    ]
    assert bases == ["base:x", "my/ubuntu"]


def test_base_image_mapping() -> None:
    assert map_base_image("ubuntu:24.04", {"*": "taskgym/base:x"}) == "taskgym/base:x"
    assert map_base_image("ubuntu:24.04", {"*": None}) == "ubuntu:24.04"  # with a registry
    assert map_base_image("taskgym/sandbox:latest", {"*": "other"}) == "taskgym/sandbox:latest"
    assert map_base_image("a", {"a": "b", "*": "c"}) == "b"


# -- reward files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "json_format", "reward"),
    [
        (b"1\n", False, 1.0),
        (b" 0.25 ", False, 0.25),
        (b"0", False, 0.0),
        (b'{"reward": 1, "style": 0.5}', True, 1.0),
        (b'{"accuracy": 0.75}', True, 0.75),
        (b"1.0", True, 1.0),
    ],
)
def test_good_reward_files(data: bytes, json_format: bool, reward: float) -> None:
    assert parse_reward(data, json_format=json_format)[0] == reward
    assert parse_reward(data, json_format=json_format)[2] == ""


@pytest.mark.parametrize(
    ("data", "json_format", "why"),
    [
        (b"nan", False, "not finite"),
        (b"inf", False, "not finite"),
        (b"1.5", False, "outside"),
        (b"-0.5", False, "outside"),
        (b"1e309", False, "not finite"),
        (b"yes", False, "no number"),
        (b"", False, "no number"),
        (b"1\n1\n", False, "no number"),
        (b"\xff\xfe", False, "UTF-8"),
        (b'{"reward": NaN}', True, "not JSON"),
        (b'{"reward": Infinity}', True, "not JSON"),
        (b'{"reward": 1e999}', True, "not finite"),
        (b'{"reward": true}', True, "not a number"),
        (b'{"reward": "1"}', True, "not a number"),
        (b'{"reward": 2}', True, "outside"),
        (b'{"a": 1, "b": 1}', True, "none is 'reward'"),
        (b"[1]", True, "a number or an object"),
        (b"{}", True, "a number or an object"),
        (b"true", True, "a number or an object"),
        (b'{"reward": {"x": 1}}', True, "not a number"),
    ],
)
def test_bad_reward_files_earn_nothing(data: bytes, json_format: bool, why: str) -> None:
    reward, _, reason = parse_reward(data, json_format=json_format)
    assert reward == 0.0
    assert why in reason


# -- task directories ----------------------------------------------------------------------


def _task(tmp_path: Path, **files: str) -> Path:
    base = {
        "task.toml": "[verifier]\ntimeout_sec = 10.0\n",
        "instruction.md": "Do it.\n",
        "environment/Dockerfile": "FROM ubuntu:24.04\n",
        "solution/solve.sh": "touch /app/x\n",
        "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n",
    }
    for name, text in {**base, **files}.items():
        if text is None:
            continue
        path = tmp_path / "t" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "t"


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("instruction.md", "instruction.md is missing"),
        ("solution/solve.sh", "solve.sh is missing"),
        ("tests/test.sh", "test.sh is missing"),
        ("environment/Dockerfile", "Dockerfile is missing"),
    ],
)
def test_incomplete_task_directory(tmp_path: Path, drop: str, message: str) -> None:
    directory = _task(tmp_path)
    (directory / drop).unlink()
    with pytest.raises(ConfigError, match=message):
        load_harbor_tasks(directory)


def test_a_prebuilt_image_needs_no_dockerfile(tmp_path: Path) -> None:
    directory = _task(tmp_path, **{"task.toml": '[environment]\ndocker_image = "x:1"\n'})
    (directory / "environment" / "Dockerfile").unlink()
    assert load_harbor_tasks(directory)[0].config.environment.docker_image == "x:1"


def test_gpus_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GPU"):
        load_harbor_tasks(_task(tmp_path, **{"task.toml": "[environment]\ngpus = 1\n"}))


def test_an_empty_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="holds no Harbor task"):
        load_harbor_tasks(tmp_path)


# -- what a separate verifier receives of the agent's state --------------------------------


def test_the_carry_filter_keeps_only_files_dirs_and_inner_links() -> None:
    source = io.BytesIO()
    members = [
        ("app", tarfile.DIRTYPE, "", 0o755),
        ("app/a.txt", tarfile.REGTYPE, "", 0o4755),
        ("app/absolute", tarfile.SYMTYPE, "/etc/passwd", 0o777),
        ("app/up", tarfile.SYMTYPE, "../etc/x", 0o777),
        ("app/inner", tarfile.SYMTYPE, "a.txt", 0o777),
        ("app/hard", tarfile.LNKTYPE, "etc/x", 0o644),
        ("app/device", tarfile.CHRTYPE, "", 0o666),
        ("app/fifo", tarfile.FIFOTYPE, "", 0o666),
        ("etc/x", tarfile.REGTYPE, "", 0o644),
    ]
    with tarfile.open(fileobj=source, mode="w") as tar:
        for name, kind, link, mode in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode = kind, link, mode
            info.size = 2 if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(b"hi") if kind == tarfile.REGTYPE else None)
    source.seek(0)
    sink = io.BytesIO()
    assert _filter_tar(source, sink, [10**6])
    sink.seek(0)
    with tarfile.open(fileobj=sink) as tar:
        kept = {m.name: (m.mode, m.linkname) for m in tar.getmembers()}
    assert kept == {"app": (0o755, ""), "app/a.txt": (0o755, ""), "app/inner": (0o777, "a.txt")}


def test_the_carry_filter_stops_past_its_budget() -> None:
    source = io.BytesIO()
    with tarfile.open(fileobj=source, mode="w") as tar:
        info = tarfile.TarInfo("app/big")
        info.size = 1000
        tar.addfile(info, io.BytesIO(b"x" * 1000))
    source.seek(0)
    with pytest.raises(CarryTooLarge):
        _filter_tar(source, io.BytesIO(), [999])
