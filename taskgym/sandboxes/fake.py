"""The ``fake`` backend: scripted results and in-memory files, for unit tests of logic
above the sandbox (tasks, envs, rewards). It isolates nothing and runs nothing."""

from __future__ import annotations

import errno
from collections.abc import Callable

from taskgym.sandboxes.base import ExecResult, Limits, Sandbox

__all__ = ["FakeSandbox"]

Handler = Callable[[list[str], bytes], ExecResult]


class FakeSandbox(Sandbox):
    """A sandbox whose commands are answered by ``handler`` (default: exit 0, no output).

    Every call is recorded in :attr:`calls` as ``(argv, stdin)``; files live in
    :attr:`files`, keyed by normalised relative path.

    Examples:
        >>> box = FakeSandbox(lambda argv, stdin: ExecResult(0, stdout=b"4\\n"))
        >>> box.run("python3 main.py").out, box.calls[0][0][-1]
        ('4\\n', 'python3 main.py')
    """

    backend = "fake"

    def __init__(self, handler: Handler | None = None, limits: Limits | None = None) -> None:
        super().__init__(limits)
        self.handler: Handler = handler or (lambda argv, stdin: ExecResult(exit_code=0))
        self.calls: list[tuple[list[str], bytes]] = []
        self.files: dict[str, bytes] = {}

    def _run(
        self, argv: list[str], stdin: bytes, limits: Limits, env: dict[str, str]
    ) -> ExecResult:
        self.calls.append((argv, stdin))
        return self.handler(argv, stdin)

    def _write(self, path: str, data: bytes, mode: int) -> None:
        self.files[path] = data

    def _read(self, path: str, max_bytes: int) -> bytes:
        if path not in self.files:
            raise FileNotFoundError(errno.ENOENT, "no such file in the fake sandbox", path)
        data = self.files[path]
        if len(data) > max_bytes:
            raise OSError(errno.EFBIG, f"file is larger than max_bytes={max_bytes}", path)
        return data

    def reset(self) -> None:
        self._ensure_open()
        self.files.clear()
        self.calls.clear()

    def _close(self) -> None:
        self.files.clear()
