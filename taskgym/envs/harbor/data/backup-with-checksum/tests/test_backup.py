"""The archive is read member by member (nothing but directories and the expected regular
files, so a .tmp file cannot ride along as a link), the checksum file is checked by
sha256sum as the instruction says and against the archive's own digest, and all of
/app/data must be as shipped, .tmp files included."""

import hashlib
import os
import stat
import subprocess
import tarfile

EXPECTED = {
    "data/notes.txt": b"alpha\n",
    "data/src/main.py": b"print('hi')\n",
    "data/logs/app.log": b"2026-12-07 ok\n",
    "data/logs/app.log.tmp.bak": b"keep me\n",
}
# /app/data as the image holds it.
SOURCE = {
    **{name.removeprefix("data/"): data for name, data in EXPECTED.items()},
    "src/build.tmp": b"cache\n",
    "upload.tmp": b"partial\n",
    "src": None,
    "logs": None,
}


def test_archive_contents():
    files = {}
    with tarfile.open("/backup/data.tar.gz", "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("./").rstrip("/")
            if member.isdir():
                continue
            assert member.isreg(), f"{name} is in the archive but not as a file"
            assert name not in files, f"{name} is in the archive twice"
            files[name] = tar.extractfile(member).read()
    assert files == EXPECTED


def test_checksum_file():
    with open("/backup/data.tar.gz.sha256") as f:
        text = f.read()
    digest, name = text.split()[:2]
    assert name.lstrip("*") == "data.tar.gz"
    with open("/backup/data.tar.gz", "rb") as f:
        assert digest.lower() == hashlib.sha256(f.read()).hexdigest()
    result = subprocess.run(["sha256sum", "-c", "data.tar.gz.sha256"], cwd="/backup", check=False)
    assert result.returncode == 0


def test_source_left_alone():
    found = {}
    for directory, dirs, files in os.walk("/app/data"):
        for name in dirs + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            relative = os.path.relpath(path, "/app/data")
            if stat.S_ISDIR(info.st_mode):
                found[relative] = None
            else:
                assert stat.S_ISREG(info.st_mode), f"/app/data/{relative} is no longer a file"
                with open(path, "rb") as f:
                    found[relative] = f.read()
    assert found == SOURCE
