"""Rewards: what an episode pays, chosen by name per registration or per ``make`` call.

Checks (what is measured) belong to tasks; rewards (what is paid for it) are pluggable.
"""

from taskgym.rewards.base import (
    REWARDS,
    Reward,
    RewardSpec,
    make_reward,
    register_reward,
    reward_names,
)
from taskgym.rewards.builtin import (
    Binary,
    Format,
    FractionPassed,
    Gated,
    StepPenalty,
    Weighted,
    gated,
    weighted,
)

__all__ = [
    "REWARDS",
    "Binary",
    "Format",
    "FractionPassed",
    "Gated",
    "Reward",
    "RewardSpec",
    "StepPenalty",
    "Weighted",
    "gated",
    "make_reward",
    "register_reward",
    "reward_names",
    "weighted",
]
