import subprocess
import tarfile

EXPECTED = {
    "data/notes.txt": b"alpha\n",
    "data/src/main.py": b"print('hi')\n",
    "data/logs/app.log": b"2026-12-07 ok\n",
    "data/logs/app.log.tmp.bak": b"keep me\n",
}


def test_archive_contents():
    with tarfile.open("/backup/data.tar.gz", "r:gz") as tar:
        files = {
            m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()
        }
    assert files == EXPECTED


def test_checksum_file():
    text = open("/backup/data.tar.gz.sha256").read()
    assert text.split()[1].lstrip("*") == "data.tar.gz"
    result = subprocess.run(["sha256sum", "-c", "data.tar.gz.sha256"], cwd="/backup")
    assert result.returncode == 0


def test_source_left_alone():
    with open("/app/data/upload.tmp") as f:
        assert f.read() == "partial\n"
