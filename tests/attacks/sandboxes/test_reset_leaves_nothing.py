"""An episode that plants things everywhere it can write, starts processes meant to
outlive it and sets shell state; after ``reset()`` the next episode must find nothing.

Before these tests, the docker backend's reset emptied /work only (files in /tmp,
/dev/shm and IPC objects carried over), and the local backend's left files in the
host's /tmp and daemons that had called ``setsid``.
"""

from __future__ import annotations

import os
import secrets
import time

import pytest

from taskgym.sandboxes import Sandbox, make_sandbox
from taskgym.sandboxes.pool import SandboxPool
from tests.conftest import REAL_BACKENDS, require_backend
from tests.test_sandbox_attacks import describe_processes, processes_running

# Places any user may write to, as candidates (those that exist and are writable in a
# backend are planted), and the directories under them anyone may write to.
QUICK_PLACES = (
    "/tmp /var/tmp /dev/shm /run/shm /dev/mqueue /run/lock /var/lock /dev /run /work $HOME"
)
FIND_WRITABLE = (
    "find / \\( -path /proc -o -path /sys -o -path /dev/pts \\) -prune -o -type d -writable "
    "-print 2>/dev/null"
)

PLANT = r"""
token="$1"; shift
for d in "$@"; do
  [ -d "$d" ] && [ -w "$d" ] && echo planted > "$d/.planted-$token" 2>/dev/null
  [ -e "$d/.planted-$token" ] && echo "$d"
done
# a directory its owner locked, and a hard link to a file in the work directory
mkdir -p "/tmp/.dir-$token/inner" && echo x > "/tmp/.dir-$token/inner/f"
chmod 000 "/tmp/.dir-$token/inner" "/tmp/.dir-$token"
echo x > "$HOME/.linked-$token" && ln "$HOME/.linked-$token" "/tmp/.hardlink-$token"
# processes meant to outlive the episode
setsid sh -c 'while :; do touch /tmp/.daemon-$0; sleep 0.05; done' "$token" \
  </dev/null >/dev/null 2>&1 &
( ( sh -c 'sleep 1000' "double-fork-$token" </dev/null >/dev/null 2>&1 & ) & )
nohup sh -c 'sleep 1000' "nohup-$token" </dev/null >/dev/null 2>&1 &
unshare --user --pid --fork sh -c 'sleep 1000' "pid-namespace-$token" \
  </dev/null >/dev/null 2>&1 &
python3 - "$token" <<'EOF'
import ctypes, os, sys
token = sys.argv[1]
key = int(token, 16) & 0x7FFFFFFF
libc = ctypes.CDLL(None, use_errno=True)
create = 0o1000 | 0o600  # IPC_CREAT
print("shm", libc.shmget(key, 4096, create), "sem", libc.semget(key, 1, create),
      "msg", libc.msgget(key, create))
try:
    rt = ctypes.CDLL("librt.so.1", use_errno=True)
    print("mq", rt.mq_open(f"/mq-{token}".encode(), os.O_CREAT | os.O_RDWR, 0o600, None))
except OSError:
    pass
EOF
sleep 0.2
"""

LOOK = r"""
token="$1"; shift
key=$(( 0x$token & 0x7FFFFFFF ))
for d in "$@" /tmp /dev/mqueue; do ls -A "$d" 2>/dev/null | grep -- "$token" | sed "s|^|$d/|"; done
for kind in shm sem msg; do
  awk -v key="$key" -v kind="$kind" 'NR > 1 && $1 == key { print "ipc " kind }' \
    /proc/sysvipc/$kind 2>/dev/null
done
for p in /proc/[0-9]*; do
  line=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)
  case "$line" in *"LOOK-$token"*) ;; *"$token"*) echo "process $line" ;; esac
done
echo "env ${PLANTED:-none}"
"""


def _plant(box: Sandbox, token: str, places: str) -> list[str]:
    """Plant in every place from both a command and a shell session (in bwrap a
    session's namespace lives until reset, a command's only as long as it runs)."""
    planted = box.run(["sh", "-c", f"set -- {places}; printf '%s\\n' \"$@\""]).out.split()
    script = f"cat > /tmp/plant-{token}.sh <<'PLANT_END'\n{PLANT}\nPLANT_END\n"
    shell = box.shell(timeout=60)
    assert shell.run(script).exit_code == 0
    session = shell.run(f"sh /tmp/plant-{token}.sh {token} $({_expand(places)})", timeout=60)
    assert "shm" in session.output, session.output
    done = box.run(["sh", "-c", PLANT + "\n", "plant", token, *planted], timeout=60)
    assert "shm" in done.out, done
    shell.run(f"export PLANTED={token}; cd /tmp; alias ls=false; f() {{ :; }}")
    return [line for line in done.out.splitlines() if line.startswith("/")]


def _expand(places: str) -> str:
    return f"set -- {places}; printf '%s\\n' \"$@\""


def _traces(box: Sandbox, token: str, places: list[str]) -> list[str]:
    result = box.run(["sh", "-c", LOOK, f"LOOK-{token}", token, *places], timeout=60)
    found = [line for line in result.out.splitlines() if line and line != "env none"]
    shell = box.shell(timeout=30)
    state = shell.run("echo ${PLANTED:-none} $PWD; type f 2>&1; alias ls 2>&1").output
    fresh = f"none {getattr(box, 'inside_workdir', '/work')}\n"
    if not state.startswith(fresh) or "is a function" in state or "false" in state:
        found.append(f"shell state: {state!r}")
    return found


def _check_reset_leaves_nothing(box: Sandbox, places: str) -> None:
    if not box.reset_leaves_no_trace:
        pytest.skip(f"the {box.backend} sandbox does not claim it here (not root?)")
    token = secrets.token_hex(6)
    planted = _plant(box, token, places)
    if box.backend != "bwrap":  # bwrap: the command's own namespace took them already
        assert len(planted) >= 4, planted  # /tmp, /dev/shm, the work dir at least
        assert _traces(box, token, planted), "the test planted nothing it can see"
    box.reset()
    deadline = time.monotonic() + 5  # processes in a dying namespace go a moment later
    while processes_running(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _traces(box, token, planted)
    running = processes_running(token)
    assert not left and not running, f"{left}\n{describe_processes(running)}"


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_reset_leaves_nothing_of_the_episode(backend: str) -> None:
    require_backend(backend)
    with SandboxPool(backend, size=1) as pool:
        with pool.lease() as box:
            _check_reset_leaves_nothing(box, QUICK_PLACES)
        assert pool.stats.reused == 1 and pool.stats.replaced == 0


@pytest.mark.slow
def test_reset_leaves_nothing_in_any_writable_directory(real_box: Sandbox) -> None:
    """Every directory the sandbox's user can write to, found with find(1)."""
    _check_reset_leaves_nothing(real_box, f"$({FIND_WRITABLE})")


def test_a_local_sandbox_on_a_shared_uid_does_not_claim_it() -> None:
    """Run as a uid others use too (or without root), the local backend cannot tell its
    files outside the work directory from theirs, and says so."""
    from taskgym.sandboxes.local import LocalSandbox

    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    with LocalSandbox(run_as_uid=uid) as box:
        assert not box.reset_leaves_no_trace


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_a_work_directory_its_user_locked_is_emptied_and_given_back(backend: str) -> None:
    """``chmod 000`` on the work directory (the sandbox's user owns it) left its files
    behind in docker and every later command failing on every backend."""
    require_backend(backend)
    with make_sandbox(backend) as box:
        box.run('echo secret > f; mkdir -p d && chmod 000 d; chmod 000 "$PWD"')
        box.reset()
        after = box.run(["ls", "-A"])
        assert after.ok and after.out == "", after
