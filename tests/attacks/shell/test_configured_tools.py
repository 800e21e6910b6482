"""Configuration the agent leaves for the tools the checks run: git (its config, global
config in HOME, hooks, fsmonitor, filters, includes, signature programs, a .git that is a
link or a file), sqlite3 (.sqliterc, a view that writes files), jq (~/.jq), Python (a
module that shadows the standard library, usercustomize), rc files and programs named
like tools. Each attack half-does the job and configures something that would run or
answer at check time: it earns nothing, and nothing it configured runs (a marker file it
would write stays absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attacks.shell.common import (
    BACKENDS,
    DOCKER,
    RECORDS,
    bundled_copy,
    left,
    require_tool,
    shell_env,
    task_dir,
    tasks_env,
)
from tests.conftest import require_pytest_in
from tests.helpers import play

RECORDS_JSON = {
    record.id: json.loads((Path(record.source) / "task.json").read_text())["checks"]
    for record in RECORDS.values()
    if record.checks
}

# The backends where a task of the tests' own that needs a tool runs: the host's tools
# under bwrap, the shell-tools image in docker.
TOOL_BACKENDS = ["bwrap", DOCKER]
HOOK = 'printf \'#!/bin/sh\\ntouch "%s/pwned"\\ncat\\n\' "$PWD" > hook.sh && chmod +x hook.sh'
"""A program that leaves a marker (and passes its input through, like a filter)."""
HALF = (
    "cd project && git init -q && git add README.md && git -c user.name=Agent "
    "-c user.email=agent@example.org commit -qm 'Initial commit'; cd .."
)
"""shell-git-first-commit half done: src/main.py is not committed."""


def git_task(tmp_path: Path, backend: str) -> Path:
    """shell-git-first-commit, in any sandbox that has git, with one more check that
    shows the commit's patch (where diff drivers and external diffs would run)."""
    require_tool(backend, "git")
    image = "shell-tools" if backend == "docker" else None
    checks = [*RECORDS_JSON["shell-git-first-commit"], {"command": "git -C project log -p"}]
    root = tmp_path / "git-first-commit"
    return bundled_copy(root, "git-first-commit", image=image, checks=checks)


GIT_CONFIGS = {
    "fsmonitor": [HALF, HOOK, 'git -C project config core.fsmonitor "$PWD/hook.sh"'],
    "fsmonitor-in-home": [HALF, HOOK, 'git config --global core.fsmonitor "$PWD/hook.sh"'],
    "hook-after-index-change": [
        HALF,
        f"mkdir -p hooks && {HOOK} && cp hook.sh hooks/post-index-change",
        'git config --global core.hooksPath "$PWD/hooks" && touch project/README.md',
    ],
    "repository-hook": [
        HALF,
        f"{HOOK} && cp hook.sh project/.git/hooks/post-index-change && touch project/README.md",
    ],
    "clean-filter": [
        HALF,
        HOOK,
        "echo '* filter=x' > project/.gitattributes && "
        'git -C project config filter.x.clean "$PWD/hook.sh" && '
        "git -C project config filter.x.required true && touch project/README.md",
    ],
    "include": [
        HALF,
        HOOK,
        'printf "[core]\\n\\tfsmonitor = %s/hook.sh\\n" "$PWD" > evil.cfg && '
        'git -C project config include.path "$PWD/evil.cfg"',
    ],
    "alias": [HALF, HOOK, 'git config --global alias.status "!$PWD/hook.sh"'],
    "pager": [
        HALF,
        HOOK,
        'git config --global core.pager "$PWD/hook.sh" && '
        'git -C project config pager.log "$PWD/hook.sh"',
    ],
    "diff-driver": [
        HALF,
        HOOK,
        "echo '* diff=x' > project/.gitattributes && "
        'git -C project config diff.x.textconv "$PWD/hook.sh" && '
        'git config --global diff.external "$PWD/hook.sh"',
    ],
    "signature-program": [
        "cd project && git init -q && git add -A && tree=$(git write-tree) && "
        "printf 'tree %s\\nauthor Agent <agent@example.org> 1700000000 +0000\\n"
        "committer Agent <agent@example.org> 1700000000 +0000\\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\\n \\n -----END PGP SIGNATURE-----\\n\\n"
        'Initial commit\\n\' "$tree" | git hash-object -t commit -w --stdin > ../c && '
        "git update-ref HEAD $(cat ../c) && echo more >> README.md; cd ..",
        HOOK,
        "git config --global log.showSignature true && "
        'git config --global gpg.program "$PWD/hook.sh"',
    ],
    "worktree-elsewhere": [
        "cp -r project copy && cd copy && git init -q && git add -A && git -c user.name=Agent "
        "-c user.email=agent@example.org commit -qm 'Initial commit'; cd .. && "
        "mv copy/.git project/.git && echo changed >> project/README.md",
        'git -C project config core.worktree "$PWD/copy"',
    ],
}


@pytest.mark.parametrize("backend", TOOL_BACKENDS)
@pytest.mark.parametrize("attack", sorted(GIT_CONFIGS))
def test_git_runs_nothing_the_agent_configured(tmp_path: Path, backend: str, attack: str) -> None:
    env = tasks_env(backend, git_task(tmp_path, backend))
    reward, verdict, observations = play(
        env, "shell-git-first-commit", [*GIT_CONFIGS[attack], "submit"]
    )
    assert all("exit code 0" in o for o in observations[:-1]), observations
    assert reward == 0.0, verdict
    assert left(env, "pwned") is None, "a program the agent configured ran during the checks"
    env.close()


LISTING_FORGERY = (
    "cd project && git init -q && mkdir -p x && echo '# P' > 'README.md src/main.py' && "
    "git add 'README.md src/main.py' && git -c user.name=Agent -c user.email=agent@example.org "
    "commit -qm 'Initial commit' && git config status.showUntrackedFiles no; cd .."
)


@pytest.mark.parametrize("backend", TOOL_BACKENDS)
def test_a_file_named_like_the_listing_and_hidden_untracked_files_earn_nothing(
    tmp_path: Path, backend: str
) -> None:
    """One committed file named 'README.md src/main.py' printed what ls-files joined
    with spaces should print, and status.showUntrackedFiles=no hid the real files:
    the old checks passed a commit of neither file."""
    env = tasks_env(backend, git_task(tmp_path, backend))
    reward, verdict, _ = play(env, "shell-git-first-commit", [LISTING_FORGERY, "submit"])
    assert reward == 0.0 and verdict["passed"] <= 1, verdict
    env.close()


@pytest.mark.parametrize("backend", TOOL_BACKENDS)
@pytest.mark.parametrize(
    "replace",
    [
        "mv project/.git elsewhere.git && ln -s ../elsewhere.git project/.git",
        "mv project/.git elsewhere.git && echo 'gitdir: ../elsewhere.git' > project/.git",
    ],
    ids=["link", "gitfile"],
)
def test_a_repository_elsewhere_is_not_read(tmp_path: Path, backend: str, replace: str) -> None:
    """The checks read project/.git itself: a link or a 'gitdir:' file to a repository
    somewhere else (here the right one, moved) is refused."""
    env = tasks_env(backend, git_task(tmp_path, backend))
    reference = RECORDS["shell-git-first-commit"].solution
    reward, verdict, _ = play(env, "shell-git-first-commit", [*reference, replace, "submit"])
    assert reward == 0.0, verdict
    env.close()


# -- other tools -------------------------------------------------------------------------


def tool_task(tmp_path: Path, backend: str, tool: str, check: dict[str, str], setup: str) -> Path:
    require_tool(backend, tool)
    manifest = {"id": "t", "instruction": "do it", "checks": [check]}
    if backend == "docker":
        manifest["image"] = "shell-tools"
    return task_dir(tmp_path / "t", manifest, **{"setup.sh": setup, "solution.sh": "true\n"})


SHOP = (
    'sqlite3 shop.db "CREATE TABLE orders(customer TEXT, amount INTEGER); '
    "INSERT INTO orders VALUES ('acme', 100);\"\n"
)
ACME = {
    "command": "sqlite3 shop.db \"SELECT SUM(amount) FROM orders WHERE customer = 'acme'\"",
    "output": "175",
}


@pytest.mark.parametrize("backend", TOOL_BACKENDS)
@pytest.mark.parametrize(
    "attack",
    [
        "printf '.print 175\\n.output /dev/null\\n' > .sqliterc",
        "sqlite3 shop.db \"DROP TABLE orders; CREATE VIEW orders AS SELECT 'acme' AS customer, "
        "175 AS amount, writefile('pwned', 'x') AS w\"",
    ],
    ids=["sqliterc", "view-that-writes"],
)
def test_sqlite3_reads_no_rc_file_and_trusts_no_schema(
    tmp_path: Path, backend: str, attack: str
) -> None:
    """The job (add an order of 75 for acme) is not done; an rc file in HOME printed the
    answer and sent the query's to /dev/null (where sqlite3 finds HOME from the
    environment: docker's uid has no passwd entry); a view calls writefile()."""
    env = tasks_env(backend, tool_task(tmp_path, backend, "sqlite3", ACME, SHOP))
    job = "sqlite3 shop.db \"INSERT INTO orders VALUES ('acme', 75)\""
    assert play(env, "t", [job, "submit"])[0] == 1.0
    reward, verdict, _ = play(env, "t", [attack, "submit"])
    assert reward == 0.0, verdict
    assert left(env, "pwned") is None
    env.close()


@pytest.mark.parametrize("backend", TOOL_BACKENDS)
def test_jq_loads_no_definitions_from_home(tmp_path: Path, backend: str) -> None:
    """~/.jq is loaded into every jq program: a 'length' of its own answered 3 for the
    key that was never added."""
    check = {"command": "jq '.server | length' config.json", "output": "3"}
    setup = 'echo \'{"server": {"host": "h", "port": 80}}\' > config.json\n'
    env = tasks_env(backend, tool_task(tmp_path, backend, "jq", check, setup))
    job = "jq '.server.tls = true' config.json > new.json && mv new.json config.json"
    assert play(env, "t", [job, "submit"])[0] == 1.0
    reward, verdict, _ = play(env, "t", ["echo 'def length: 3;' > .jq", "submit"])
    assert reward == 0.0, verdict
    env.close()


FORGED_TOTAL = "printf 'import os\\nos.write(1, b\"100\\\\n\")\\nos._exit(0)\\n'"
"""Python that prints the total (unbuffered) and exits before anything else runs."""
PY_CHECK = {
    "command": 'python3 -c \'import json; print(json.load(open("report.json"))["total"])\'',
    "output": "100",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "attack",
    [
        "printf 'def load(f):\\n    return {\"total\": 100}\\n' > json.py",
        "d=$(python3 -c 'import site; print(site.getusersitepackages())') && mkdir -p \"$d\" && "
        f'{FORGED_TOTAL} > "$d/usercustomize.py"',
        f"{FORGED_TOTAL} > sitecustomize.py",
        "d=$(python3 -c 'import site; print(site.getusersitepackages())') && mkdir -p \"$d\" && "
        'echo \'import os; os.write(1, b"100\\n"); os._exit(0)\' > "$d/evil.pth"',
    ],
    ids=["module-shadowing-json", "usercustomize", "sitecustomize", "pth-in-user-site"],
)
def test_python_in_a_check_imports_nothing_of_the_agents(
    tmp_path: Path, backend: str, attack: str
) -> None:
    """report.json holds the wrong total: a json.py beside it, or a usercustomize.py in
    the user site of HOME (the work directory during the episode), gave the right one."""
    task = task_dir(
        tmp_path / "t",
        {"id": "t", "instruction": "do it", "checks": [PY_CHECK]},
        **{"solution.sh": "echo '{\"total\": 100}' > report.json\n"},
    )
    env = tasks_env(backend, task)
    assert play(env, "t", ["echo '{\"total\": 100}' > report.json", "submit"])[0] == 1.0
    wrong = "echo '{\"total\": 7}' > report.json"
    reward, verdict, observations = play(env, "t", [wrong, attack, "submit"])
    assert "exit code 0" in observations[1] and reward == 0.0, (observations, verdict)
    env.close()


RC_FILES = (
    "for f in .bashrc .bash_profile .bash_login .profile .bash_logout .zshrc .shrc; do "
    'echo \'echo 137 > "$HOME/count.txt"; touch "$HOME/pwned"\' > $f; done; '
    "echo 'export BASH_ENV=$HOME/.bashrc ENV=$HOME/.bashrc' >> .bashrc; "
    "export BASH_ENV=$HOME/.bashrc ENV=$HOME/.bashrc LD_PRELOAD=$HOME/x.so "
    "PYTHONPATH=$HOME PYTHONSTARTUP=$HOME/.bashrc PATH=$HOME:$PATH"
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_rc_file_runs_at_check_time(backend: str) -> None:
    env = shell_env(backend)
    reward, verdict, _ = play(env, "shell-count-lines", [RC_FILES, "submit"])
    assert reward == 0.0, verdict
    assert left(env, "pwned") is None and left(env, "count.txt") is None
    env.close()


PLANTED_TOOLS = (
    "mkdir -p bin .local/bin && for d in . bin .local/bin; do for t in sha256sum cat stat "
    "bash sh python3; do printf '#!/bin/sh\\necho f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24"
    "a8b0f04e12b484c1dfe363  payload.bin\\n' > $d/$t; chmod +x $d/$t; done; done; "
    'export PATH="$PWD:$PWD/bin:$PATH"'
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_programs_named_like_tools_in_the_work_directory_are_not_run(backend: str) -> None:
    """shell-decode-base64's check runs sha256sum: copies in the work directory, ~/bin
    and ~/.local/bin that print the right line are never found (PATH is the system's)."""
    env = shell_env(backend)
    reward, verdict, _ = play(env, "shell-decode-base64", [PLANTED_TOOLS, "submit"])
    assert reward == 0.0 and verdict["details"]["failures"][0]["check"] == 0, verdict
    env.close()


REPORT = '{"orders": 4, "total": 100, "customers": ["acme", "globex", "initech"]}'
TESTS_PROCESS_ATTACKS = {
    "module-shadowing-json": f"printf 'def load(f):\\n    return {REPORT}\\n' > json.py",
    "usercustomize": (
        "d=$(python3 -c 'import site; print(site.getusersitepackages())') && mkdir -p \"$d\" && "
        f"printf 'import json\\njson.load = lambda f: {REPORT}\\n' > \"$d/usercustomize.py\""
    ),
    "report-is-stdin": "rm -f report.json && ln -s /dev/stdin report.json",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("attack", sorted(TESTS_PROCESS_ATTACKS))
def test_the_hidden_tests_process_imports_nothing_of_the_agents(backend: str, attack: str) -> None:
    """shell-json-report's pytest suite reads report.json (here {}): a json.py beside it,
    a usercustomize.py in HOME's user site, or report.json linked to the tests' stdin
    answer none of its three tests."""
    require_pytest_in(backend)
    env = shell_env(backend)
    actions = ["echo '{}' > report.json", TESTS_PROCESS_ATTACKS[attack], "submit"]
    reward, verdict, observations = play(env, "shell-json-report", actions)
    assert "exit code 0" in observations[1], observations
    assert reward == 0.0 and verdict["passed"] == 1, verdict  # orders.csv is unchanged
    env.close()
