"""Two zygotes of one sandbox paired, so that their sessions can talk to each other
directly instead of through the host (assert-style grading: the tests' zygote and the
candidate's)."""

from __future__ import annotations

import secrets

from taskgym.sandboxes.zygote.process import REPLY_MARGIN_SECONDS, ZygoteProcess

__all__ = ["pair_zygotes", "paired"]


def pair_zygotes(giver: ZygoteProcess, taker: ZygoteProcess) -> bool:
    """Connect two zygotes of one sandbox so that their sessions can be given a channel
    to each other (``session(peer=...)``): a Unix socket in the work directory that
    ``giver`` listens on and ``taker`` connects to with a secret from here, then removes.
    Whether it worked; on False the sessions relay through the host instead."""
    if giver._sandbox is not taker._sandbox:
        raise ValueError("only two zygotes of one sandbox can be paired")
    path = f".taskgym-pair-{secrets.token_hex(8)}.sock"
    secret = secrets.token_hex(16)
    with giver._lock, taker._lock:  # always in this order: tests' zygote, then candidates'
        if not (giver.usable and taker.usable):
            return False
        try:
            listening = giver._request({"pair": {"op": "listen", "path": path}})
            if listening != {"listening": True}:
                return False
            connected = taker._request({"pair": {"op": "connect", "path": path, "secret": secret}})
            accepted = giver._request(
                {"pair": {"op": "accept", "secret": secret}}, 2 * REPLY_MARGIN_SECONDS
            )
        except (OSError, ValueError, EOFError, TimeoutError):
            return False
        if connected != {"paired": True} or accepted != {"paired": True}:
            return False
        giver._peer = (taker, taker._incarnation)
        taker._peer = (giver, giver._incarnation)
        return True


def paired(giver: ZygoteProcess, taker: ZygoteProcess) -> bool:
    """Whether ``giver`` and ``taker`` are paired with each other as they run now."""
    return (
        giver._peer == (taker, taker._incarnation)
        and taker._peer == (giver, giver._incarnation)
        and giver.usable
        and taker.usable
    )
