"""Every bundled shell task against the generic mutations of its reference
(:mod:`.mutations`), and the mutations that only some tasks have (a repository's history,
a running worker, modes, links), each played as an episode through the env. None may earn
the reward; those that delete the inputs may not pass a single check. The reference still
earns 1.0 on each backend (checked while the states are taken)."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import gymnasium as gym
import pytest

from taskgym.envs.shell.tasks import ShellRecord
from tests.attacks.shell.common import RECORDS, Env
from tests.attacks.shell.mutations import Mutation, State, mutations, read_state
from tests.conftest import require_backend
from tests.helpers import play

KINDS = (
    "nothing",
    "empty",
    "destroy",
    "destroy-only",
    "truncate",
    "wrong",
    "undo",
    "lose",
    "alter",
)
# Run by default (bwrap): the reported holes. Every other combination is slow.
FAST = {
    ("shell-permissions", "destroy"),
    ("shell-gzip-notes", "empty"),
    ("shell-count-lines", "lose"),
    ("shell-archive-old-logs", "wrong"),
    ("shell-photos-by-month", "destroy-only"),
}


DOCKER = (pytest.mark.integration, pytest.mark.slow)


def _backends(record: ShellRecord, kind: str) -> list[tuple[str, tuple[pytest.MarkDecorator, ...]]]:
    """Where a task runs, and the marks of its test there."""
    if record.image is not None:  # its own docker image, whatever the env's sandbox
        return [("docker", DOCKER)]
    bwrap = () if (record.id, kind) in FAST else (pytest.mark.slow,)
    return [("local", (pytest.mark.slow,)), ("bwrap", bwrap), ("docker", DOCKER)]


def _cases() -> Iterator[object]:
    for record in RECORDS.values():
        for kind in KINDS:
            for backend, marks in _backends(record, kind):
                case_id = f"{record.id}-{kind}-{backend}"
                yield pytest.param(record.id, kind, backend, marks=marks, id=case_id)


_ENVS: dict[tuple[str, str], Env] = {}


def _env(record: ShellRecord, backend: str) -> Env:
    env_id = "taskgym/ShellTools-v0" if record.image else "taskgym/Shell-v0"
    key = (env_id, backend)
    if key not in _ENVS:
        _ENVS[key] = gym.make(env_id, sandbox=backend)
    return _ENVS[key]


@pytest.fixture(scope="module", autouse=True)
def _close_envs() -> Iterator[None]:
    yield
    for env in _ENVS.values():
        env.close()
    _ENVS.clear()


@functools.cache
def states(task_id: str, backend: str) -> tuple[State, State]:
    """The work directory after the setup and after the reference, which earns 1.0."""
    record = RECORDS[task_id]
    env = _env(record, backend)
    env.reset(options={"task_id": task_id})
    box = env.unwrapped.sandbox  # type: ignore[attr-defined]
    start = read_state(box)
    for command in record.solution:
        env.step(command)
    done = read_state(box)
    _, reward, *_, info = env.step("submit")
    assert reward == 1.0, (task_id, backend, info["verdict"])
    return start, done


def assert_earns_nothing(env: Env, task_id: str, mutation: Mutation) -> None:
    reward, verdict, _ = play(env, task_id, mutation.commands)
    assert reward == 0.0 and verdict["passed"] < verdict["total"], (mutation.name, verdict)
    if mutation.destructive:
        assert verdict["passed"] == 0, (mutation.name, verdict)


@pytest.mark.parametrize(("task_id", "kind", "backend"), list(_cases()))
def test_no_mutation_of_the_reference_earns_the_reward(
    task_id: str, kind: str, backend: str
) -> None:
    require_backend(backend)
    record = RECORDS[task_id]
    start, done = states(task_id, backend)
    chosen = [m for m in mutations(start, done, record.solution) if m.name.split(":")[0] == kind]
    if not record.deterministic:  # a live worker rewrites its outputs: see below
        chosen = [m for m in chosen if kind not in ("truncate", "wrong", "undo")]
    if not chosen:
        pytest.skip(f"no {kind} mutation of {task_id}: nothing that it would change")
    env = _env(record, backend)
    for mutation in chosen:
        assert_earns_nothing(env, task_id, mutation)


# -- mutations of particular tasks -----------------------------------------------------

SPECIFIC: dict[str, list[Mutation]] = {
    "shell-git-find-commit": [
        Mutation(
            "another-commit",
            ("git -C repo log --format=%H --grep='^step 2$' > commit.txt", "submit"),
        ),
        Mutation(
            "short-hash",
            ("git -C repo log --format=%h -S TODO-42 | tail -1 > commit.txt", "submit"),
        ),
        Mutation("the-latest", ("git -C repo rev-parse HEAD > commit.txt", "submit")),
        Mutation(
            "history-rewritten",
            (
                *RECORDS["shell-git-find-commit"].solution,
                "cd repo && git commit -q --amend -m 'step 5 again'; cd ..",
                "submit",
            ),
        ),
        Mutation(
            "repository-deleted",
            (*RECORDS["shell-git-find-commit"].solution, "rm -rf repo", "submit"),
        ),
        Mutation(
            "history-deleted",
            (*RECORDS["shell-git-find-commit"].solution, "rm -rf repo/.git", "submit"),
        ),
        Mutation(
            "repository-deleted-empty-answer",
            ("rm -rf repo; : > commit.txt", "submit"),
            destructive=True,
        ),
    ],
    "shell-git-first-commit": [
        Mutation(
            "replaced-by-another",
            (
                "cd project && git init -q && git add README.md && git -c user.name=X "
                "-c user.email=x@example.org commit -qm junk && git add -A && "
                "good=$(git -c user.name=Agent -c user.email=agent@example.org commit-tree "
                "$(git write-tree) -m 'Initial commit') && git replace HEAD $good; cd ..",
                "submit",
            ),
        ),
        Mutation("no-commit", ("cd project && git init -q && git add -A; cd ..", "submit")),
        Mutation(
            "half-committed",
            (
                "cd project && git init -q && git add README.md && git -c user.name=Agent "
                "-c user.email=agent@example.org commit -qm 'Initial commit'; cd ..",
                "submit",
            ),
        ),
        Mutation(
            "wrong-author",
            (
                "cd project && git init -q && git add -A && git -c user.name=Someone "
                "-c user.email=someone@example.org commit -qm 'Initial commit'; cd ..",
                "submit",
            ),
        ),
        Mutation(
            "two-commits",
            (
                "cd project && git init -q && git add README.md && git -c user.name=Agent "
                "-c user.email=agent@example.org commit -qm 'Initial commit' && git add -A && "
                "git -c user.name=Agent -c user.email=agent@example.org "
                "commit -qm 'Initial commit'; cd ..",
                "submit",
            ),
        ),
        Mutation(
            "changed-after",
            (
                *RECORDS["shell-git-first-commit"].solution,
                "echo more >> project/README.md",
                "submit",
            ),
        ),
        Mutation(
            "repository-above",
            (
                "git init -q . && git add project && git -c user.name=Agent "
                "-c user.email=agent@example.org commit -qm 'Initial commit'",
                "submit",
            ),
        ),
        Mutation(
            "empty-files-committed",
            (
                "cd project && git init -q && cp README.md /tmp/r && cp src/main.py /tmp/m && "
                ": > README.md && : > src/main.py && git add -A && git -c user.name=Agent "
                "-c user.email=agent@example.org commit -qm 'Initial commit' && "
                "cp /tmp/r README.md && cp /tmp/m src/main.py && "
                "git update-index --assume-unchanged README.md src/main.py; cd ..",
                "submit",
            ),
        ),
    ],
    "shell-git-fix-branch": [
        Mutation(
            "work-tree-hidden",
            (
                *RECORDS["shell-git-fix-branch"].solution,
                "cd repo && git update-index --skip-worktree greet.txt && "
                "sed -i 's/Hello/Helo/' greet.txt; cd ..",
                "submit",
            ),
        ),
        Mutation(
            "fixed-on-main",
            (
                "cd repo && sed -i 's/Helo/Hello/' greet.txt && git commit -qam 'Fix typo' && "
                "git branch fix && git checkout -q fix; cd ..",
                "submit",
            ),
        ),
        Mutation(
            "not-committed",
            (
                "cd repo && git checkout -q -b fix && sed -i 's/Helo/Hello/' greet.txt; cd ..",
                "submit",
            ),
        ),
        Mutation(
            "main-moved",
            (*RECORDS["shell-git-fix-branch"].solution, "git -C repo branch -f main fix", "submit"),
        ),
        Mutation(
            "amended",
            (
                "cd repo && git checkout -q -b fix && sed -i 's/Helo/Hello/' greet.txt && "
                "git commit -q -a --amend -m 'Fix typo'; cd ..",
                "submit",
            ),
        ),
        Mutation(
            "main-checked-out",
            (*RECORDS["shell-git-fix-branch"].solution, "git -C repo checkout -q main", "submit"),
        ),
        Mutation(
            "more-changed",
            (
                "cd repo && git checkout -q -b fix && sed -i 's/Helo/Hello/' greet.txt && "
                "echo x > extra.txt && git add -A && git commit -qm 'Fix typo'; cd ..",
                "submit",
            ),
        ),
    ],
    "shell-heartbeat-worker": [
        Mutation(
            "wrong-pid",
            (*RECORDS["shell-heartbeat-worker"].solution, "echo 1 > worker.pid", "submit"),
        ),
        Mutation(
            "worker-stopped",
            (
                *RECORDS["shell-heartbeat-worker"].solution,
                "kill $(cat worker.pid); sleep 0.3",
                "submit",
            ),
        ),
        Mutation(
            "worker-changed",
            (
                "echo 'import time' > worker.py",
                *RECORDS["shell-heartbeat-worker"].solution,
                "submit",
            ),
        ),
    ],
    "shell-symlink-release": [
        Mutation("plain-sort", ("ln -sfn releases/v9 current", "submit")),
        Mutation("absolute-target", ('ln -sfn "$PWD/releases/v10" current', "submit")),
        Mutation("copied", ("rm current && cp -r releases/v10 current", "submit")),
    ],
    "shell-permissions": [
        Mutation("everything-open", ("chmod 777 scripts/*.sh secrets.txt", "submit")),
        Mutation("readme-executable", ("chmod u+x scripts/* && chmod 600 secrets.txt", "submit")),
        Mutation(
            "fixed-by-deleting",
            ("rm -f scripts/README && chmod u+x scripts/*.sh && chmod 600 secrets.txt", "submit"),
        ),
    ],
    "shell-web-permissions": [
        Mutation("all-755", ("chmod -R 755 www", "submit")),
        Mutation("dirs-only", ("find www -type d -exec chmod 755 {} +", "submit")),
        Mutation(
            "fixed-by-deleting",
            (
                "rm -r www/cgi && find www -type d -exec chmod 755 {} + && "
                "find www -type f -exec chmod 644 {} +",
                "submit",
            ),
        ),
    ],
    "shell-backup-dir": [
        Mutation("linked", ("mkdir -p backup && ln -s ../site backup/site", "submit")),
        Mutation(
            "hard-linked",
            (
                "mkdir -p backup && cp -al site backup/ && "
                "rm -r backup/site/cache backup/site/pages/cache",
                "submit",
            ),
        ),
        Mutation("caches-too", ("mkdir -p backup && cp -r site backup/", "submit")),
        Mutation(
            "moved",
            (
                "mkdir -p backup && mv site backup/ && "
                "rm -r backup/site/cache backup/site/pages/cache",
                "submit",
            ),
        ),
    ],
    "shell-lowercase-names": [
        Mutation(
            "copied",
            ('for f in Docs/*; do cp "$f" "Docs/$(basename "$f" | tr A-Z a-z)"; done', "submit"),
        ),
        Mutation(
            "linked",
            (
                'for f in Docs/*; do ln -s "$(basename "$f")" '
                '"Docs/$(basename "$f" | tr A-Z a-z)"; done',
                "submit",
            ),
        ),
    ],
}


def _specific_cases() -> Iterator[object]:
    for task_id, listed in SPECIFIC.items():
        for mutation in listed:
            for backend, marks in _backends(RECORDS[task_id], mutation.name):
                case_id = f"{task_id}-{mutation.name}-{backend}"
                yield pytest.param(task_id, mutation, backend, marks=marks, id=case_id)


@pytest.mark.parametrize(("task_id", "mutation", "backend"), list(_specific_cases()))
def test_no_near_miss_of_a_task_earns_the_reward(
    task_id: str, mutation: Mutation, backend: str
) -> None:
    require_backend(backend)
    record = RECORDS[task_id]
    states(task_id, backend)  # the reference earns 1.0 here
    assert_earns_nothing(_env(record, backend), task_id, mutation)
