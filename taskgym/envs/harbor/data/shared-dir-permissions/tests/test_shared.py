import grp
import os
import pwd
import stat


def test_users_in_group():
    members = set(grp.getgrnam("devs").gr_mem)
    assert {"alice", "bob"} <= members
    pwd.getpwnam("alice")
    pwd.getpwnam("bob")


def test_directory():
    info = os.lstat("/srv/shared")
    assert stat.S_ISDIR(info.st_mode)
    assert info.st_uid == 0
    assert info.st_gid == grp.getgrnam("devs").gr_gid
    assert stat.S_IMODE(info.st_mode) == 0o2770


def test_readme():
    info = os.lstat("/srv/shared/README")
    assert stat.S_ISREG(info.st_mode)
    assert info.st_uid == pwd.getpwnam("alice").pw_uid
    assert info.st_gid == grp.getgrnam("devs").gr_gid
    assert stat.S_IMODE(info.st_mode) == 0o640
    with open("/srv/shared/README") as f:
        assert f.read() == "shared space for devs\n"
