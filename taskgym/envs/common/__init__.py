"""What the task families share and none of them owns.

Each family (``taskgym.envs.math``, ``.code``, ``.shell``) builds on this package and on
no other family's (``tests/test_layout.py`` checks it); nothing here imports a family.
Importing this package imports none of its modules.

- :mod:`.records`: task files (JSONL) and task directories read into records, looked
  up by id (:class:`~.records.RecordsTask`).
- :mod:`.extract`: the code block of an answer.
- :mod:`.project_tests`: a hidden pytest suite run against the files left in a sandbox
  (:func:`~.project_tests.grade_project`).
- :mod:`.programs`: the grading programs that run inside the sandbox, put together from
  the modules of :mod:`taskgym.inside`.
"""
