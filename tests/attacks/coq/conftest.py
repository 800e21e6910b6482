"""Fixtures of the Coq attack tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from taskgym.sandboxes import Sandbox, make_sandbox
from tests.attacks.coq.common import COQ_BACKENDS
from tests.conftest import require_backend, require_coq


@pytest.fixture(scope="module", params=COQ_BACKENDS)
def coq_backend_box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox of each backend that runs the Coq tasks, shared by a module's tests
    (and its warm coqtops)."""
    require_coq()
    require_backend(request.param)
    with make_sandbox(request.param) as sandbox:
        yield sandbox
