"""leaks.txt is read as a file of the agent's own (a link to the expected list would
pass a comparison that follows it) and /app/repo is compared entry by entry with the
tree as shipped: files by content, directories, and nothing else (no links)."""

import hashlib
import os
import stat

REPO = "/app/repo"
# Every entry of /app/repo as the image holds it: a file's SHA-256, or "dir".
TREE = {
    ".github": "dir",
    ".github/workflows": "dir",
    ".github/workflows/deploy.yml": (
        "2793c933993ee398460100cb4321a9f989a12dad12311321a5a49a09761ebfc2"
    ),
    "config": "dir",
    "config/dev.yaml": "971fef742b43b207e2fe9a8654b22301ace1576692e198b692aac94ae01d401d",
    "config/prod.yaml": "8c0c52bdf03080a3f939144016d674a7cbc2bd270546d9865dad65a2a8a03d84",
    "docs": "dir",
    "docs/README.md": "3fd1705aafcae028515d0020be05a2c488ba86cdff7cb174066682e63ea6b9f5",
    "scripts": "dir",
    "scripts/.secrets": "1f04803374c931aa534875218a4c68193da0ab09f0e7d2464290531cd3e5fdb3",
    "scripts/env.sh": "e670dbe7371ea9f0609e40c9c0587116763f03accfb99707c94483666878ddfd",
    "src": "dir",
    "src/app": "dir",
    "src/app/main.py": "b80792336156c7b0f7fe02eeef24610d2d52a10d1810397744471d1dc5738180",
    "src/app/settings.py": "9929441e66e4cb4e578aad70c58e5793d30338431aa351e037dcc61ac3f3e457",
}


def read_own_file(path):
    """The bytes of ``path``, a regular file and not a link."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        assert stat.S_ISREG(os.fstat(f.fileno()).st_mode), f"{path} is not a regular file"
        return f.read()


def entry(path):
    info = os.lstat(path)
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    if stat.S_ISREG(info.st_mode):
        return hashlib.sha256(read_own_file(path)).hexdigest()
    return f"not a file or directory (mode {info.st_mode:o})"


def test_leaks_listed():
    with open("/tests/expected.txt", "rb") as f:
        expected = f.read()
    assert read_own_file("/app/leaks.txt") == expected


def test_repo_unchanged():
    assert stat.S_ISDIR(os.lstat(REPO).st_mode)
    found = {}
    for directory, dirs, files in os.walk(REPO):
        for name in dirs + files:
            path = os.path.join(directory, name)
            found[os.path.relpath(path, REPO)] = entry(path)
    assert found == TREE
