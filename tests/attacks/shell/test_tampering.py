"""Red team of the shell family with action text only: names that print what a listing
should print, links where files should be, a program under test that reads what its
check compares with or writes into the check's output, processes left to answer once the
checks start (from the episode, and from a program a check ran), permissions that make a
check's command fail where failing looked like passing, a full disk, FIFOs that hang a
check, files too big or too many. Each earns nothing, and the checks answer in bounded
time."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest

from taskgym.sandboxes import make_sandbox
from tests.attacks.shell.common import (
    BACKENDS,
    CONTAINED,
    DOCKER,
    RECORDS,
    left,
    shell_env,
    task_dir,
    tasks_env,
)
from tests.helpers import play


def _python_file(name: str, source: str) -> str:
    """A command that writes ``source`` to ``name`` (any bytes, one line)."""
    return f"echo {base64.b64encode(source.encode()).decode()} | base64 -d > {name}"


# -- names that print the right listing ------------------------------------------------

FORGED_NAMES = {
    # One member named like the whole listing the old check joined with spaces (its
    # slashes make directories on the way); the logs deleted, never archived.
    "shell-archive-old-logs": (
        "mkdir -p 'x/var/log/auth.log var/log/boot.log var/log' && "
        "touch 'x/var/log/auth.log var/log/boot.log var/log/kern.log' && "
        "tar -czf old-logs.tar.gz -C x 'var/log/auth.log var/log/boot.log var/log/kern.log' && "
        "rm var/log/auth.log var/log/boot.log var/log/kern.log && rm -r x && echo 3 > report.txt"
    ),
    # beach renamed; holiday, notes and sunset replaced by one file named like the rest
    # of the listing.
    "shell-rename-extension": (
        "cd photos && mv beach.jpeg beach.jpg && rm 'holiday 2023.jpeg' notes.txt sunset.jpg && "
        "touch 'holiday 2023.jpg notes.txt sunset.jpg'; cd .."
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("task_id", sorted(FORGED_NAMES))
def test_names_that_print_the_listing_earn_nothing(backend: str, task_id: str) -> None:
    env = shell_env(backend)
    reward, verdict, observations = play(env, task_id, [FORGED_NAMES[task_id], "submit"])
    assert "exit code 0" in observations[0], observations
    assert reward == 0.0, verdict
    env.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_contents_shifted_between_archive_members_earn_nothing(backend: str) -> None:
    """The three logs' lines all in the first member, the other two empty: the members'
    contents printed one after the other read the same; each is compared alone."""
    env = shell_env(backend)
    shifted = (
        "mkdir -p x/var/log && printf 'auth entries\\nboot entries\\nkern entries\\n' > "
        "x/var/log/auth.log && : > x/var/log/boot.log && : > x/var/log/kern.log && "
        "tar -czf old-logs.tar.gz -C x var/log/auth.log var/log/boot.log var/log/kern.log && "
        "rm -r x var/log/auth.log var/log/boot.log var/log/kern.log && echo 3 > report.txt"
    )
    reward, verdict, observations = play(env, "shell-archive-old-logs", [shifted, "submit"])
    assert "exit code 0" in observations[0], observations
    assert reward == 0.0, verdict
    env.close()


@pytest.mark.integration
def test_a_zip_member_named_like_the_listing_earns_nothing() -> None:
    env = shell_env("docker", "taskgym/ShellTools-v0")
    forged = (
        "mkdir -p 'x/site/css/a.css site' && touch 'x/site/css/a.css site/index.html' && "
        "cd x && zip -qr ../site.zip site && cd .. && rm -r x"
    )
    reward, verdict, observations = play(env, "shell-zip-site", [forged, "submit"])
    assert "exit code 0" in observations[0], observations
    assert reward == 0.0, verdict
    env.close()


# -- links where files should be -------------------------------------------------------

LINKS = {
    "shell-count-lines": "ln -s /dev/stdin count.txt",
    "shell-decode-base64": "ln -s /dev/stdin payload.bin",
    "shell-dedupe": "printf 'mia\\nleo\\nava\\nzoe\\nben\\n' > u && ln -s u unique.txt",
    # The old checks cd-ed through the link, and docker's read_file followed it.
    "shell-extract-docs": "mkdir -p d && tar -xzf bundle.tar.gz -C d --wildcards '*.md' && "
    "ln -s d docs",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("task_id", sorted(LINKS))
def test_links_where_outputs_should_be_earn_nothing(backend: str, task_id: str) -> None:
    env = shell_env(backend)
    reward, verdict, observations = play(env, task_id, [LINKS[task_id], "submit"])
    assert "exit code 0" in observations[0], observations
    assert reward == 0.0, verdict
    env.close()


# -- the program under test against its check --------------------------------------------

SNOOP = r"""
import os, re, sys
# The expected output, read from the check's command line: every ancestor's /proc.
name, pid, text = os.path.basename(sys.argv[1]), os.getppid(), ""
while pid > 1:
    try:
        text += open("/proc/%d/cmdline" % pid, "rb").read().decode(errors="replace") + "\n"
        pid = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        break
for line in text.splitlines():
    if "average.py" in line and ("/" + name + '"' in line or " " + name + ")" in line):
        found = re.search(r'= "([0-9.]+)"', line)
        if found:
            print(found.group(1))
            sys.exit(0)
print("0.00")
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_program_cannot_read_what_its_check_expects(backend: str) -> None:
    """shell-fix-script's average.py, left unfixed, answers what it finds in the command
    lines of its ancestors. Before, the check script (with its expected outputs) was
    one of them; now the outputs are compared on the host."""
    env = shell_env(backend)
    reward, verdict, _ = play(
        env, "shell-fix-script", [_python_file("average.py", SNOOP), "submit"]
    )
    assert reward == 0.0, verdict
    env.close()


FORGE_AND_KILL = r"""
import os, signal
# Write the right answers into the check's own output, then kill the check's shell.
parent = os.getppid()
fd = os.open("/proc/%d/fd/1" % parent, os.O_WRONLY)
os.write(fd, b"2.33\n3.75\n4.50\n")
os.kill(parent, signal.SIGKILL)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_program_cannot_answer_in_its_checks_place(backend: str) -> None:
    env = shell_env(backend)
    actions = [_python_file("average.py", FORGE_AND_KILL), "submit"]
    reward, verdict, _ = play(env, "shell-fix-script", actions)
    assert reward == 0.0 and verdict["details"]["failures"][0]["check"] == 0, verdict
    env.close()


KILL_EVERYTHING = "import os, signal\nos.kill(-1, signal.SIGKILL)\n"


@pytest.mark.parametrize("backend", CONTAINED)
def test_a_program_that_kills_everything_fails_only_its_own_check(backend: str) -> None:
    """The right numbers.txt, an average.py that kills every process it may: its check
    fails, the next one still runs and passes, and the grader does not crash."""
    env = shell_env(backend)
    actions = [_python_file("average.py", KILL_EVERYTHING), "submit"]
    reward, verdict, _ = play(env, "shell-fix-script", actions)
    assert reward == 0.0 and verdict["passed"] == 1, verdict
    env.close()


# -- processes that answer once the checks start -----------------------------------------

WRITER = (
    "while kill -0 $shell 2>/dev/null; do sleep 0.01; done; sleep 0.3; "
    "while :; do echo 137 > count.txt; sleep 0.005; done"
)
"""Waits for the episode's shell ($shell) to end (the moment the checks begin), then
writes the right answer, again and again. (It waits a little first: processes die one
after another, and what one writes before it is killed, while the shell is already
gone, is no more than what the agent could have written itself.)"""
DAEMONS = {
    "background": f"shell=$$ sh -c '{WRITER}' >/dev/null 2>&1 &",
    "nohup": f"shell=$$ nohup sh -c '{WRITER}' >/dev/null 2>&1 &",
    "disowned": f"shell=$$ sh -c '{WRITER}' >/dev/null 2>&1 & disown",
    "double-fork": f"(shell=$$ sh -c '{WRITER}' >/dev/null 2>&1 &) &",
    "deaf": f"shell=$$ sh -c 'trap \"\" HUP INT TERM; {WRITER}' >/dev/null 2>&1 &",
    "setsid": f"shell=$$ setsid sh -c '{WRITER}' >/dev/null 2>&1 &",
    "job-control": f"set -m; shell=$$ sh -c '{WRITER}' >/dev/null 2>&1 &",
}
# Out of reach of a process group: the local backend stops them through its cgroup.
LEAVE_THE_GROUP = {"setsid", "job-control"}


def require_containment(backend: str) -> None:
    """The local backend stops a process that left the shell's group only where it could
    make a cgroup (root, a memory controller); elsewhere it cannot."""
    if backend != "local":
        return
    with make_sandbox("local") as box:
        reason = box.memory_cap_unavailable_reason
    if reason is not None:
        pytest.skip(f"the local sandbox has no cgroup here ({reason})")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("daemon", sorted(DAEMONS))
def test_a_process_left_running_cannot_answer_at_check_time(daemon: str, backend: str) -> None:
    """It waits for the episode's shell to end (the moment the checks start), then writes
    the right answer again and again: every process is stopped before the checks."""
    if daemon in LEAVE_THE_GROUP:
        require_containment(backend)
    env = shell_env(backend)
    reward, verdict, _ = play(env, "shell-count-lines", [DAEMONS[daemon], "submit"])
    assert reward == 0.0, verdict
    time.sleep(0.6)
    assert left(env, "count.txt") is None, "a process of the episode outlived the checks"
    env.close()


LATE_ANSWER = (
    "#!/bin/sh\n"
    "check=$PPID\n"
    'setsid sh -c "while kill -0 $check 2>/dev/null; do sleep 0.01; done; sleep 0.3; '
    'while :; do echo 42 > answer.txt; sleep 0.005; done" >/dev/null 2>&1 &\n'
)
"""start.sh: a daemon that waits for the check that ran it to end, then a little more
(the next check is running by then), and writes the answer the next check reads."""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_program_a_check_ran_cannot_answer_the_next_check(tmp_path: Path, backend: str) -> None:
    """The first check runs the agent's start.sh, which leaves a daemon that writes the
    answer the second check reads once the first is over. The second check finds no
    answer: every process is stopped after each command."""
    require_containment(backend)
    checks = [
        {"command": "./start.sh"},
        {"command": "sleep 1 && cat answer.txt", "output": "42"},
    ]
    reference = ["printf '#!/bin/sh\\n' > start.sh && chmod +x start.sh", "echo 42 > answer.txt"]
    task = task_dir(
        tmp_path / "t",
        {"id": "t", "instruction": "Write start.sh; write 42 to answer.txt.", "checks": checks},
        **{"solution.sh": "\n".join(reference) + "\n"},
    )
    env = tasks_env(backend, task)
    assert play(env, "t", [*reference, "submit"])[0] == 1.0
    start = f"printf %s {base64.b64encode(LATE_ANSWER.encode()).decode()} | base64 -d > start.sh"
    reward, verdict, _ = play(env, "t", [f"{start} && chmod +x start.sh", "submit"])
    assert reward == 0.0, verdict
    env.close()


# -- permissions that made failing commands look like passing ones -------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unreadable_directory_is_not_an_empty_one(backend: str) -> None:
    """The photos copied, not moved, and camera/ made unreadable: 'ls camera | wc -l'
    printed 0 and the old checks passed."""
    env = shell_env(backend)
    copied = (
        "mkdir -p sorted/2023/05 sorted/2024/01 && cp camera/IMG_2023* sorted/2023/05/ && "
        "cp camera/IMG_2024* sorted/2024/01/ && chmod 000 camera"
    )
    reward, verdict, _ = play(env, "shell-photos-by-month", [copied, "submit"])
    assert reward == 0.0, verdict
    env.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unreadable_work_directory_passes_no_check(backend: str) -> None:
    """Nothing done, and the work directory closed to its owner: the counts of what
    'find' could not read (0) passed two of the old checks."""
    env = shell_env(backend)
    reward, verdict, _ = play(env, "shell-web-permissions", ["chmod 000 .", "submit"])
    assert reward == 0.0 and verdict["passed"] == 0, verdict
    env.close()


# -- a full disk, hanging and oversized files --------------------------------------------


def require_quota(backend: str) -> None:
    """bwrap puts a quota on the work directory only when taskgym runs as root."""
    if backend == "bwrap" and os.geteuid() != 0:
        pytest.skip("the bwrap work directory has a quota only when run as root")


# Files of 60 MB (a command may write 64 MB a file) until the space runs out.
FILL_WORK = "for i in $(seq 12); do head -c 60M /dev/zero > fill$i 2>/dev/null || break; done"
FILL_TMP = "for i in 1 2; do head -c 60M /dev/zero > /tmp/fill$i; done 2>/dev/null"
FILL = {"bwrap": FILL_WORK, "docker": f"{FILL_WORK}; {FILL_TMP}"}  # bwrap: /tmp is per command


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["bwrap", DOCKER])
def test_a_full_disk_makes_no_check_pass(backend: str) -> None:
    """shell-decode-base64 with a wrong payload.bin, then the work directory (and
    docker's /tmp) filled up: the checks fail, none passes for lack of space, and the
    grader does not crash."""
    require_quota(backend)
    env = shell_env(backend)
    wrong = "base64 -d payload.b64 | head -c 100 > payload.bin"
    reward, verdict, _ = play(env, "shell-decode-base64", [wrong, FILL[backend], "submit"])
    assert reward == 0.0 and verdict["details"]["failures"][0]["check"] == 0, verdict
    env.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fifo_where_a_file_is_read_fails_at_once(backend: str) -> None:
    env = shell_env(backend)
    started = time.monotonic()
    reward, verdict, _ = play(env, "shell-count-lines", ["mkfifo count.txt", "submit"])
    assert reward == 0.0 and time.monotonic() - started < 10, verdict
    env.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["bwrap", DOCKER])
def test_fifos_that_hang_commands_cost_the_checks_time_once(backend: str) -> None:
    """shell-gzip-notes' two zcat checks each open a FIFO that no one writes: together
    they take the task's check time (30 s) once, not once each."""
    env = shell_env(backend)
    fifos = "mkdir -p notes && cd notes && rm -f a.txt b.txt && mkfifo a.txt.gz b.txt.gz; cd .."
    started = time.monotonic()
    reward, verdict, _ = play(env, "shell-gzip-notes", [fifos, "submit"])
    elapsed = time.monotonic() - started
    assert reward == 0.0 and verdict["passed"] == 1, verdict  # image.png is unchanged
    seconds = RECORDS["shell-gzip-notes"].check_seconds
    assert elapsed < seconds + 15, elapsed
    env.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_oversized_answer_is_refused_unread(backend: str) -> None:
    env = shell_env(backend)
    huge = "{ echo 137; head -c 60M /dev/zero | tr '\\0' ' '; } > count.txt"
    reward, verdict, _ = play(env, "shell-count-lines", [huge, "submit"])
    assert reward == 0.0, verdict
    env.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["bwrap", DOCKER])
def test_too_many_files_fail_the_walk(backend: str) -> None:
    """shell-dir-usage done right, then 25,000 empty files added under data/ (which must
    stay unchanged, and which the walk of the checks stops reading at 20,000)."""
    env = shell_env(backend)
    record = RECORDS["shell-dir-usage"]
    many = "mkdir data/many && cd data/many && seq 25000 | xargs touch; cd ~"
    reward, verdict, _ = play(env, record.id, [*record.solution, many, "submit"])
    assert reward == 0.0, verdict
    assert any("entries" in f["why"] for f in verdict["details"]["failures"]), verdict
    env.close()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("env_id", ["taskgym/Shell-v0", "taskgym/ShellReference-v0"])
def test_names_that_are_not_utf8_leave_a_verdict_that_is_text(backend: str, env_id: str) -> None:
    """A file named with bytes that are not UTF-8, where a tree and an unchanged
    directory are checked, and a link to such a name: the checks fail, and the verdict
    (which names them, and the reference run's paths that differ) can still be written
    as UTF-8 JSON, as `taskgym run` does."""
    env = shell_env(backend, env_id)
    bad = "cd ~ && touch backup/site/$'\\xff\\xfe' site/$'\\xff' && ln -s $'\\xfe' backup/l"
    record = RECORDS["shell-backup-dir"]
    _, verdict, observations = play(env, record.id, [*record.solution, bad, "submit"])
    assert "exit code 0" in observations[-2], observations
    assert not verdict["solved"], verdict  # ShellReference's reward is a closeness
    json.dumps(verdict, ensure_ascii=False).encode("utf-8")
    env.close()
