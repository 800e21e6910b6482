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
from taskgym.errors import ConfigError, UnknownNameError

__all__ = ["Reward", "RewardSpec", "make_reward", "register_reward", "reward_names"]


@runtime_checkable
class Reward(Protocol):
    """Anything that pays a float for an :class:`~taskgym.core.Outcome`."""

    def __call__(self, outcome: Outcome) -> float: ...


RewardSpec = str | Mapping[str, Any] | Reward
RewardFactory = Callable[..., Reward]

_REWARDS: dict[str, RewardFactory] = {}


def register_reward(name: str, factory: RewardFactory) -> None:
    """Make ``factory`` (options -> Reward) available as reward ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a reward name must be a non-empty str, got {name!r}")
    _REWARDS[name] = factory


def reward_names() -> list[str]:
    return sorted(_REWARDS)


def make_reward(spec: RewardSpec) -> Reward:
    """Build the reward a spec describes (see the module docstring for the forms).

    Examples:
        >>> make_reward({"weighted": [["binary", 1.0], ["format", 0.1]]})
        Weighted(terms=((Binary(), 1.0), (Format(), 0.1)))
    """
    if isinstance(spec, str):
        return _factory(spec)()
    if isinstance(spec, Mapping):
        if len(spec) != 1:
            raise ConfigError(
                f"a reward spec mapping has exactly one key, the reward's name; got {dict(spec)!r}"
            )
        ((name, options),) = spec.items()
        factory = _factory(name)
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


def _factory(name: object) -> RewardFactory:
    if not isinstance(name, str) or name not in _REWARDS:
        raise UnknownNameError("reward", name, reward_names())
    return _REWARDS[name]
