"""The one settings class: every time setting in seconds ends in _seconds, and the names
settings had before are still read."""

from __future__ import annotations

import pytest

from voiceclone.settings import Settings


def test_time_settings_say_seconds_in_full() -> None:
    short = [name for name in Settings.model_fields if name.endswith("_s")]
    assert short == []


@pytest.mark.parametrize(
    ("old", "field"),
    [
        ("VOICECLONE_QUEUE_VISIBILITY_TIMEOUT_S", "queue_visibility_timeout_seconds"),
        ("VOICECLONE_BUSY_RETRY_AFTER_S", "busy_retry_after_seconds"),
        ("VOICECLONE_JOB_SLACK_S", "job_slack_seconds"),
    ],
)
def test_former_names_are_still_read(monkeypatch: pytest.MonkeyPatch, old: str, field: str) -> None:
    monkeypatch.setenv(old, "7")
    assert getattr(Settings(), field) == 7
    monkeypatch.setenv(old.removesuffix("_S") + "_SECONDS", "9")
    assert getattr(Settings(), field) == 9  # the new name wins
