"""A Harbor task's ``task.toml``, read as Harbor's own models read it.

The fields, their defaults and their legacy forms follow ``harbor.models.task.config``
(``TaskConfig`` of the ``harbor`` package, schema 1.4): ``[agent]`` and ``[verifier]``
(``timeout_sec``, ``user``, ``env``, ``network_mode``, the verifier's
``environment_mode`` and ``[verifier.environment]``), ``[environment]``
(``build_timeout_sec``, ``docker_image``, ``cpus``, ``memory_mb``, ``storage_mb``,
``gpus``, ``workdir``, ``env``, ``network_mode``, ``healthcheck``) and ``[solution]``;
``version`` for ``schema_version``, ``memory``/``storage`` as ``"2G"``, and
``allow_internet`` for ``network_mode``. Keys Harbor does not know are ignored, as
pydantic ignores them there.

Where ``harbor`` is installed (it needs Python 3.12 or newer: ``pip install
'taskgym[harbor]'``), its ``TaskConfig`` validates the file first and this module reads
the values it normalised, so Harbor's own rules (host names of allow-lists, step names,
artifact paths) hold as well. On older Pythons the same reading is done on the TOML
itself; ``tests/test_harbor_config.py`` checks that both readings agree on Harbor's
template task and on every bundled task.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taskgym.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "EnvironmentSpec",
    "HarborConfig",
    "Healthcheck",
    "agent_may_change_paths",
    "harbor_task_config",
    "read_task_config",
    "resolve_env",
]

NETWORK_MODES = ("no-network", "public", "allowlist")
_SIZE = re.compile(r"\s*([0-9.]+)\s*([GMK])\s*", re.IGNORECASE)
_TEMPLATE = re.compile(r"\$\{([^}:]+)(?::-(.*))?\}")


@dataclass(frozen=True)
class Healthcheck:
    """``[environment.healthcheck]``: run after the container starts, before the agent."""

    command: str
    interval_sec: float = 5.0
    timeout_sec: float = 30.0
    start_period_sec: float = 0.0
    retries: int = 3


@dataclass(frozen=True)
class EnvironmentSpec:
    """``[environment]`` (and ``[verifier.environment]``)."""

    build_timeout_sec: float = 600.0
    docker_image: str | None = None
    cpus: float | None = None
    memory_mb: int | None = None
    storage_mb: int | None = None
    gpus: int | None = None
    workdir: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    network_mode: str = "public"
    allowed_hosts: tuple[str, ...] = ()
    healthcheck: Healthcheck | None = None


@dataclass(frozen=True)
class HarborConfig:
    """What taskgym reads of a ``task.toml``."""

    schema_version: str = "1.4"
    name: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    agent_timeout_sec: float | None = None
    agent_user: str | int | None = None
    agent_network: str | None = None
    verifier_timeout_sec: float = 600.0
    verifier_user: str | int | None = None
    verifier_env: Mapping[str, str] = field(default_factory=dict)
    verifier_network: str | None = None
    verifier_mode: str = "shared"
    verifier_environment: EnvironmentSpec | None = None
    environment: EnvironmentSpec = field(default_factory=EnvironmentSpec)
    solution_env: Mapping[str, str] = field(default_factory=dict)
    artifacts: tuple[str, ...] = ()
    agent_may_change: tuple[str, ...] = ()
    """``[metadata.taskgym] agent_may_change``: paths of the verifier's tools the task
    asks the agent to change (an install); see :mod:`taskgym.envs.harbor.toolchain`."""

    def verifier_spec(self) -> EnvironmentSpec:
        """The separate verifier's environment: its own section, else a copy of the
        agent's (Harbor's ``resolve_effective_verifier_env_config``)."""
        return self.verifier_environment or self.environment


def read_task_config(path: Path) -> HarborConfig:
    """``path`` (a ``task.toml``) read; ConfigError names the file and the field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path} cannot be read as TOML: {e}") from e
    model = harbor_task_config()
    if model is not None:
        try:
            raw = model.model_validate(raw).model_dump(mode="json")
        except ValueError as e:  # pydantic's ValidationError is a ValueError
            raise ConfigError(f"{path}: harbor's TaskConfig refuses it: {e}") from e
    try:
        return config_from_mapping(raw)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e


def harbor_task_config() -> Any | None:
    """Harbor's ``TaskConfig`` model where the ``harbor`` package imports, else None."""
    try:
        from harbor.models.task.config import TaskConfig  # noqa: PLC0415
    except ImportError:
        return None
    return TaskConfig


def config_from_mapping(raw: Mapping[str, Any]) -> HarborConfig:
    """A ``task.toml`` already parsed (by tomllib, or dumped by Harbor's model)."""
    data = dict(raw)
    if "version" in data:
        data.setdefault("schema_version", data.pop("version"))
    if data.get("steps"):
        raise ConfigError(
            "[[steps]] (multi-step tasks) are not supported by taskgym yet; "
            "split the task into one task per step"
        )
    agent = _table(data, "agent")
    verifier = _table(data, "verifier")
    solution = _table(data, "solution")
    package = _table(data, "task")
    environment = _environment(_table(data, "environment"), "environment")
    verifier_env_table = verifier.get("environment")
    verifier_environment = (
        None
        if verifier_env_table is None
        else _environment(
            _as_table(verifier_env_table, "verifier.environment"), "verifier.environment"
        )
    )
    metadata = _as_table(data.get("metadata", {}), "metadata")
    return HarborConfig(
        schema_version=str(data.get("schema_version", "1.4")),
        name=_opt_str(package, "name", "task"),
        metadata=metadata,
        agent_timeout_sec=_opt_seconds(agent, "timeout_sec", "agent"),
        agent_user=_user(agent, "agent"),
        agent_network=_phase_network(agent, "agent"),
        verifier_timeout_sec=_opt_seconds(verifier, "timeout_sec", "verifier") or 600.0,
        verifier_user=_user(verifier, "verifier"),
        verifier_env=_env(verifier, "verifier"),
        verifier_network=_phase_network(verifier, "verifier"),
        verifier_mode=_verifier_mode(verifier, verifier_environment),
        verifier_environment=verifier_environment,
        environment=environment,
        solution_env=_env(solution, "solution"),
        artifacts=_artifacts(data.get("artifacts", [])),
        agent_may_change=_agent_may_change(metadata),
    )


def agent_may_change_paths(value: Any, where: str) -> tuple[str, ...]:
    """Absolute paths other than ``/``, without ``..`` (exempt from the shared
    verifier's check of its tools)."""
    paths = _str_list(value, where)
    for path in paths:
        if not path.startswith("/") or not path.strip("/") or ".." in path.split("/"):
            raise ConfigError(f"{where}: {path!r} is not an absolute path below / without '..'")
    return tuple(paths)


def _agent_may_change(metadata: dict[str, Any]) -> tuple[str, ...]:
    ours = _as_table(metadata.get("taskgym", {}), "metadata.taskgym")
    unknown = sorted(set(ours) - {"agent_may_change"})
    if unknown:
        raise ConfigError(f"[metadata.taskgym]: unknown keys {unknown}; it takes agent_may_change")
    where = "[metadata.taskgym] agent_may_change"
    return agent_may_change_paths(ours.get("agent_may_change", []), where)


def _environment(table: dict[str, Any], where: str) -> EnvironmentSpec:
    table = _legacy_sizes(dict(table), where)
    if str(table.get("os", "linux")).lower() != "linux":
        raise ConfigError(f"[{where}] os={table['os']!r}: taskgym runs Linux containers only")
    if table.get("tpu") is not None:
        raise ConfigError(f"[{where}] asks for a TPU, which taskgym cannot give")
    network_mode = _network_mode(table, where) or "public"
    if table.get("allow_internet") is not None and "network_mode" not in table:
        if not isinstance(table["allow_internet"], bool):
            raise ConfigError(f"[{where}] allow_internet must be true or false")
        if not table.get("allowed_hosts"):
            network_mode = "public" if table["allow_internet"] else "no-network"
    return EnvironmentSpec(
        build_timeout_sec=_opt_seconds(table, "build_timeout_sec", where) or 600.0,
        docker_image=_opt_str(table, "docker_image", where),
        cpus=_cpus(table.get("cpus"), where),
        memory_mb=_opt_int(table, "memory_mb", where),
        storage_mb=_opt_int(table, "storage_mb", where),
        gpus=_opt_int(table, "gpus", where),
        workdir=_opt_str(table, "workdir", where),
        env=_env(table, where),
        network_mode=network_mode,
        allowed_hosts=tuple(_str_list(table.get("allowed_hosts") or [], f"{where}.allowed_hosts")),
        healthcheck=_healthcheck(table.get("healthcheck"), where),
    )


def _legacy_sizes(table: dict[str, Any], where: str) -> dict[str, Any]:
    """``memory = "2G"`` and ``storage = "10G"``, Harbor's deprecated forms."""
    for old, new in (("memory", "memory_mb"), ("storage", "storage_mb")):
        if old not in table:
            continue
        value = table.pop(old)
        if not isinstance(value, str):
            continue  # Harbor drops a non-string legacy size
        mb = _size_mb(value, f"{where}.{old}")
        if new in table and table[new] != mb:
            raise ConfigError(f"[{where}] {old}={value!r} ({mb} MB) conflicts with {new}")
        table.setdefault(new, mb)
    return table


def _size_mb(text: str, where: str) -> int:
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ConfigError(f"{where}={text!r}: expected a size like '1G', '512M'")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * 1024) if unit == "G" else int(number) if unit == "M" else int(number / 1024)


def _verifier_mode(verifier: dict[str, Any], environment: EnvironmentSpec | None) -> str:
    """Harbor's ``resolve_task_verifier_mode``: the explicit mode, else ``separate``
    when ``[verifier.environment]`` is given, else ``shared``."""
    mode = verifier.get("environment_mode")
    if mode is None:
        return "separate" if environment is not None else "shared"
    if mode not in ("shared", "separate"):
        raise ConfigError(f"[verifier] environment_mode={mode!r}: 'shared' or 'separate'")
    if mode == "shared" and environment is not None:
        raise ConfigError(
            "[verifier] environment_mode='shared' is incompatible with [verifier.environment]"
        )
    return str(mode)


def _phase_network(table: dict[str, Any], where: str) -> str | None:
    mode = _network_mode(table, where)
    if mode is None and table.get("allowed_hosts") is not None:
        raise ConfigError(f"[{where}] allowed_hosts is only valid when network_mode='allowlist'")
    return mode


def _network_mode(table: dict[str, Any], where: str) -> str | None:
    mode = table.get("network_mode")
    if mode is None:
        return None
    if mode not in NETWORK_MODES:
        raise ConfigError(f"[{where}] network_mode={mode!r}: one of {list(NETWORK_MODES)}")
    if mode != "allowlist" and table.get("allowed_hosts"):
        raise ConfigError(f"[{where}] allowed_hosts is only valid when network_mode='allowlist'")
    return str(mode)


def _healthcheck(value: Any, where: str) -> Healthcheck | None:
    if value is None:
        return None
    table = _as_table(value, f"{where}.healthcheck")
    command = table.get("command")
    if not isinstance(command, str) or not command:
        raise ConfigError(f"[{where}.healthcheck] needs a command")
    retries = table.get("retries", 3)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"[{where}.healthcheck] retries must be a whole number")
    seconds = {
        key: _opt_seconds(table, key, f"{where}.healthcheck", zero=key == "start_period_sec")
        for key in ("interval_sec", "timeout_sec", "start_period_sec")
    }
    return Healthcheck(
        command=command, retries=retries, **{k: v for k, v in seconds.items() if v is not None}
    )


def _artifacts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError("artifacts must be a list")
    sources = []
    for item in value:
        source = item.get("source") if isinstance(item, dict) else item
        if not isinstance(source, str) or ".." in Path(source).parts:
            raise ConfigError(f"artifact {item!r}: a path without '..' components")
        sources.append(source)
    return tuple(sources)


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    return _as_table(data.get(name) or {}, name)


def _as_table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"[{where}] must be a table")
    return value


def _opt_str(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"[{where}] {key} must be a string")
    return value


def _opt_seconds(
    table: dict[str, Any], key: str, where: str, *, zero: bool = False
) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"[{where}] {key} must be a positive number of seconds")
    if not (value >= 0 if zero else value > 0):
        raise ConfigError(f"[{where}] {key} must be a positive number of seconds")
    if not math.isfinite(value):
        raise ConfigError(f"[{where}] {key} must be finite")
    return float(value)


def _opt_int(table: dict[str, Any], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"[{where}] {key} must be a whole number")
    return value


def _cpus(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"[{where}] cpus must be a number")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"[{where}] cpus must be a positive finite number")
    return float(value)


def _user(table: dict[str, Any], where: str) -> str | int | None:
    value = table.get("user")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
        raise ConfigError(f"[{where}] user must be a name or a uid")
    return value


def _env(table: dict[str, Any], where: str) -> dict[str, str]:
    env = _as_table(table.get("env", {}), f"{where}.env")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ConfigError(f"[{where}.env] maps names to strings")
    return dict(env)


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return value


def resolve_env(env: Mapping[str, str], where: str) -> dict[str, str]:
    """Harbor's ``${VAR}`` and ``${VAR:-default}`` values taken from the host's
    environment (``resolve_env_vars``); a ``${VAR}`` the host lacks is a ConfigError."""
    resolved = {}
    for key, value in env.items():
        match = _TEMPLATE.fullmatch(value)
        if match is None:
            resolved[key] = value
            continue
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            resolved[key] = os.environ[name]
        elif default is not None:
            resolved[key] = default
        else:
            raise ConfigError(f"{where}: {key} needs the host's environment variable {name}")
    return resolved
