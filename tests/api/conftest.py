"""Fixtures of the HTTP API tests: the app in-process with the model-free FakeEngine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.api import Api, running_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running
