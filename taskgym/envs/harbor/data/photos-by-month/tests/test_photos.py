from pathlib import Path

MOVED = {
    "2024/03/IMG_20240312_101500.jpg",
    "2024/03/IMG_20240312_101502.jpg",
    "2023/12/IMG_20231231_235959.JPG",
    "2024/01/IMG_20240105_080000.mp4",
    "2024/02/IMG_20240229_120000.jpg",
}
KEPT = {"notes.txt", "IMG_holiday.jpg", "DSC_0001.jpg"}


def files_under(root):
    return {p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file()}


def test_photos_moved():
    assert files_under("/app/photos") == MOVED
    for name in MOVED:
        assert Path("/app/photos", name).read_text() == f"data of {Path(name).name}\n"


def test_others_kept():
    assert files_under("/app/inbox") == KEPT
    assert Path("/app/inbox/notes.txt").read_text() == "remember to back up\n"
