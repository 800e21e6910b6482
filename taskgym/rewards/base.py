"""The Reward protocol and the registry that turns names and JSON specs into rewards.

A reward spec is what registrations and ``make(..., reward=...)`` accept:

- a name: ``"binary"``;
- a one-key mapping from a name to its options: ``{"step_penalty": {"per_step": 0.05}}``,
  or to a list passed as the single argument:
  ``{"weighted": [["binary", 1.0], ["format", 0.1]]}``;
- in Python, any callable ``Outcome -> float``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from taskgym.core import Outcome
from taskgym.errors import ConfigError
from taskgym.plugins import Registry

__all__ = [
    "REWARDS",
    "Reward",
    "RewardSpec",
    "make_reward",
    "register_reward",
    "reward_names",
]


@runtime_checkable
class Reward(Protocol):
    """Anything that pays a float for an :class:`~taskgym.core.Outcome`."""

    def __call__(self, outcome: Outcome) -> float: ...


RewardSpec = str | Mapping[str, Any] | Reward
RewardFactory = Callable[..., Reward]

REWARDS: Registry[RewardFactory] = Registry("reward")


def register_reward(name: str, factory: RewardFactory | str) -> None:
    """Make ``factory`` (options -> Reward, or its ``"module:function"``) available as
    reward ``name``."""
    REWARDS.register(name, factory)


def reward_names() -> list[str]:
    return REWARDS.names()


def make_reward(spec: RewardSpec) -> Reward:
    """Build the reward a spec describes (see the module docstring for the forms).

    Examples:
        >>> make_reward({"weighted": [["binary", 1.0], ["format", 0.1]]})
        Weighted(terms=((Binary(), 1.0), (Format(), 0.1)))
    """
    if isinstance(spec, str):
        return REWARDS.get(spec)()
    if isinstance(spec, Mapping):
        if len(spec) != 1:
            raise ConfigError(
                f"a reward spec mapping has exactly one key, the reward's name; got {dict(spec)!r}"
            )
        ((name, options),) = spec.items()
        factory = REWARDS.get(name)
        try:
            if options is None:
                return factory()
            if isinstance(options, Mapping):
                return factory(**options)
            return factory(options)
        except TypeError as e:
            raise ConfigError(f"bad options for reward {name!r}: {e}") from e
    if callable(spec):
        return spec
    raise ConfigError(
        f"a reward is a name ({', '.join(reward_names())}), a one-key mapping "
        f"{{name: options}} or a callable; got {type(spec).__name__}"
    )
