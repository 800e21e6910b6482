"""The code taskgym runs *inside* a sandbox: where a security review of the graders starts.

Every module here is standard library only and imports nothing of taskgym but its
siblings in this package (``tests/test_inside_imports.py`` reads each import, wherever it
stands, and fails on anything else). One import is allowed beside them: the project tests
process imports the sandbox's own pytest, when it runs, to run the hidden tests with.

Inside a sandbox taskgym is not installed, so the host sends a program as the sources of
its modules joined in order, with ``python3 -I -S -c`` or as a zygote's program
(:func:`taskgym.sandboxes.compose.compose_source`: it drops the imports of modules
composed before, and refuses any other import of taskgym and any name two modules
define). The host also imports some of these modules itself
(:mod:`.wire` for the framing, :mod:`.pump` and :mod:`.scrub` in the local backend and
shell sessions); that is fine, the rule is only about what they import.

What runs inside, and who composes it (the host side)
------------------------------------------------------

- The docker exec server, a container's main process, as root with only the SETUID,
  SETGID and KILL capabilities (:mod:`taskgym.sandboxes.docker`): :mod:`.wire`,
  :mod:`.pump` (feeding a command and reading its capped output), :mod:`.scrub`
  (removing what the sandbox's uid left, run with that uid as the effective one),
  :mod:`.exec_server`. Each command drops to the container's own uid.
- The zygote, a warm Python that forks one child per program, as the sandbox's own user
  (:mod:`taskgym.sandboxes.zygote`): :mod:`.wire`, :mod:`.zygote_run` (fork and run one
  program under limits), :mod:`.zygote_pairing` (a channel between two zygotes of one
  sandbox), :mod:`.zygote_sessions` (a program that talks with the host while it runs),
  :mod:`.zygote_scrub` (emptying the sandbox between episodes), :mod:`.zygote_server`
  (the loop that answers the host).
- The grading programs, each run by a zygote (:mod:`taskgym.envs.common.programs`):
  :mod:`.harness` after :mod:`.values` (calls a candidate's function in its own
  process), and, after :mod:`.wire`, :mod:`.values` and :mod:`.session_program`, the
  assert-style tests and their candidate (:mod:`.assert_tests`), and a project's tests
  process and candidate process (:mod:`.project_tests_process`,
  :mod:`.project_candidate_process`).

What these programs trust
-------------------------

They trust the host's messages on their control pipe, which nothing else in the sandbox
can reach: the zygote and the processes that hold tests make themselves non-dumpable
before reading anything (so no program of the same uid can open their memory or
``/proc/<pid>/fd``), and every child starts with all other descriptors closed. They
trust nothing they read from the sandbox:

- what a program writes is read with a cap and a deadline (:mod:`.pump`,
  :mod:`.zygote_run`; a session's messages with ``max_bytes`` in :mod:`.zygote_sessions`);
- a candidate's answers are decoded strictly as plain values of exact types
  (:mod:`.values`); anything else is the candidate's error, never a value nor the
  tests' own exception (:mod:`.assert_tests`, :mod:`.project_tests_process`);
- the hidden tests never share a process with candidate code: the tests and the
  candidate are children of two zygotes of their own (the host asks for them so), and a
  project's tests are deleted once collected, before any candidate code starts;
- the file system the sandbox's user could change is walked without following links
  (:mod:`.scrub`, :mod:`.zygote_scrub`).

The function harness is not trusted at all: the candidate runs in its process, so the
host decodes what it sends as data (:mod:`taskgym.envs.code.grader`). The zygote runs
as the same user as the programs it forks: being non-dumpable and closing every other
descriptor in each child is what keeps them from its control pipe. The host reads the
replies of the zygote and of the exec server with deadlines, and a program that kills
either gets a failed run (and a new zygote), never a passing one.

The threat model these rest on (the attacker, what it must not reach, what is trusted)
is in ``docs/sandboxes.md``, "Threat model"; the attacks that test it are in
``tests/attacks/``.
"""
