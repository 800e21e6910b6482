"""Pairing two zygotes of one sandbox, so that their sessions' programs can talk to each
other without the host (see :func:`pair` and :func:`peer_pipes`; used by
:mod:`taskgym.inside.zygote_sessions`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any

# The other zygote of a pair (see pair): the tests' zygote gives each session's pipes to
# the candidates' zygote over this socket. Never inherited by a child (run_child closes it).
_PEER: socket.socket | None = None
_LISTENER: socket.socket | None = None
_PAIR_SECONDS = 5.0


def pair(request: dict[str, Any]) -> dict[str, Any]:
    """Connect this zygote with another of the same sandbox, through a Unix socket
    (``SOCK_SEQPACKET``: messages, and the descriptors sent with each, stay whole) in
    the work directory (both see it: bwrap binds it into each of its processes, docker
    and local share it): ``{"pair": {"op": "listen", "path"}}`` then ``{"pair": {"op":
    "accept", "secret"}}`` in one, ``{"pair": {"op": "connect", "path", "secret"}}`` in
    the other, between the two. The accepting side takes only a connection that presents
    the host's secret, then removes the socket's file; anything that could still reach
    the channel could only play the candidate, which is all the channel carries."""
    global _PEER, _LISTENER  # noqa: PLW0603 - this process's one pairing
    op = request.get("op")
    try:
        if op == "listen":
            _forget_peer()
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            listener.bind(request["path"])
            listener.listen(8)
            _LISTENER = listener
            return {"listening": True}
        if op == "connect":
            _forget_peer()
            peer = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            peer.settimeout(_PAIR_SECONDS)
            peer.connect(request["path"])
            peer.sendall(request["secret"].encode())
            _PEER = peer
            return {"paired": True}
        if op == "accept" and _LISTENER is not None:
            return _accept_peer(_LISTENER, request["secret"].encode())
    except (OSError, KeyError, TypeError, ValueError) as e:
        _forget_peer()
        return {"paired": False, "why": f"{type(e).__name__}: {e}"}
    return {"paired": False, "why": f"cannot {op!r} now"}


def _accept_peer(listener: socket.socket, secret: bytes) -> dict[str, Any]:
    global _PEER, _LISTENER  # noqa: PLW0603 - this process's one pairing
    deadline = time.monotonic() + _PAIR_SECONDS
    try:
        while time.monotonic() < deadline:
            listener.settimeout(max(deadline - time.monotonic(), 0.001))
            connection, _ = listener.accept()
            connection.settimeout(max(deadline - time.monotonic(), 0.001))
            said = b""
            with contextlib.suppress(OSError):  # one message: the socket keeps them whole
                said = connection.recv(len(secret) + 1)
            if _same(said, secret):
                connection.settimeout(_PAIR_SECONDS)
                _PEER = connection
                return {"paired": True}
            connection.close()  # not the other zygote
        return {"paired": False, "why": "no zygote with the secret connected"}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(listener.getsockname())
        listener.close()
        _LISTENER = None


def _same(said: bytes, secret: bytes) -> bool:
    """``said == secret`` in time that does not depend on where they differ (hmac's
    compare_digest would import hashlib and OpenSSL into every zygote: 4 MB more for each
    fork to copy)."""
    if len(said) != len(secret):
        return False
    difference = 0
    for a, b in zip(said, secret, strict=True):
        difference |= a ^ b
    return difference == 0


def _forget_peer() -> None:
    global _PEER, _LISTENER  # noqa: PLW0603 - this process's one pairing
    for old in (_PEER, _LISTENER):
        if old is not None:
            with contextlib.suppress(OSError):
                if old is _LISTENER:
                    os.unlink(old.getsockname())
            old.close()
    _PEER = _LISTENER = None


def peer_pipes(peer: Any) -> list[int]:
    """The session child's ends of its channel to the paired zygote's session child
    (to it, from it), or none. The giver sends the other ends with the host's token;
    the taker drops anything marked otherwise (a session of the giver's that never
    reached this side) until its own token comes."""
    if peer is None:
        return []
    role, token = peer
    if _PEER is None:
        raise ValueError("this zygote is not paired")
    mark = f"pipes {token}".encode()
    if role == "give":
        to_peer_r, to_peer_w = os.pipe()
        from_peer_r, from_peer_w = os.pipe()
        try:
            socket.send_fds(_PEER, [mark], [to_peer_r, from_peer_w])
        except OSError:
            for fd in (to_peer_w, from_peer_r):
                os.close(fd)
            raise
        finally:
            for fd in (to_peer_r, from_peer_w):
                os.close(fd)
        return [to_peer_w, from_peer_r]
    deadline = time.monotonic() + _PAIR_SECONDS
    while time.monotonic() < deadline:
        _PEER.settimeout(max(deadline - time.monotonic(), 0.001))
        said, fds, _, _ = socket.recv_fds(_PEER, 64, 2)
        if not said:
            raise ValueError("the paired zygote is gone")
        if said == mark and len(fds) == 2:
            from_peer, to_peer = fds
            return [to_peer, from_peer]
        for fd in fds:
            os.close(fd)
    raise ValueError("the paired zygote sent no pipes for this session")
