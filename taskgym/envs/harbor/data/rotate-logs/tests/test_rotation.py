import gzip
import os
import stat
from pathlib import Path

LOGS = Path("/var/log/app")
KEEP = int(os.environ["KEEP"])  # from [verifier].env


def test_files_left():
    rotated = {"app.log.1", *(f"app.log.{n}.gz" for n in range(2, KEEP + 1))}
    assert {p.name for p in LOGS.iterdir()} == {"app.log", "README.txt", *rotated}


def test_new_log_is_empty_with_its_mode():
    info = (LOGS / "app.log").stat()
    assert info.st_size == 0
    assert stat.S_IMODE(info.st_mode) == 0o640


def test_contents_shifted():
    assert (LOGS / "app.log.1").read_text() == "current day\n"
    assert gzip.decompress((LOGS / "app.log.2.gz").read_bytes()) == b"yesterday\n"
    assert gzip.decompress((LOGS / "app.log.3.gz").read_bytes()) == b"two days ago\n"
    assert (LOGS / "README.txt").read_text() == "keep me\n"
