"""Fixtures of the whole-system tests: a real ``voiceclone serve`` process per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.servers import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, asset_paths) -> Iterator[Server]:
    """The service with the real engine, on loopback, for the tests of one module."""
    running = Server(tmp_path_factory.mktemp("server"))
    running.start()
    try:
        yield running
    finally:
        running.stop()
