"""Word timings and captions: words placed on the audio's timeline, and served as
WebVTT, SRT and JSON for jobs."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from support.api import Api, assert_error, running_api

from voiceclone.audio.chunk import AudioChunk, WordTiming
from voiceclone.safety.watermark import watermark_chunks
from voiceclone.text.captions import cues, to_srt, to_vtt
from voiceclone.text.words import WordClock, align_words, spread_words

RATE = 24_000
TEXT = "The first sentence is short. The second one takes a little longer to say."


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running


def _chunk(seconds: float, text: str = "", words: tuple[WordTiming, ...] = ()) -> AudioChunk:
    samples = (0.1 * np.sin(np.arange(round(seconds * RATE)) * 0.05)).astype(np.float32)
    return AudioChunk(samples, RATE, text, 0, words)


# -- aligning written words to spoken ones ---------------------------------------------------


def test_written_words_take_the_spoken_times_one_to_one() -> None:
    words = align_words("Hello there, friend!", [(0.1, 0.4), (0.5, 0.8), (0.9, 1.3)])
    assert [(w.text, w.start, w.end) for w in words] == [
        ("Hello", 0.1, 0.4),
        ("there,", 0.5, 0.8),
        ("friend!", 0.9, 1.3),
    ]


def test_a_number_read_as_several_words_stays_in_order_and_in_range() -> None:
    # "25" is spoken as two units; the written words share them by letters.
    words = align_words(
        "I have 25 apples", [(0, 0.1), (0.2, 0.4), (0.5, 0.7), (0.7, 0.9), (1, 1.5)]
    )
    assert [w.text for w in words] == ["I", "have", "25", "apples"]
    starts = [w.start for w in words]
    assert starts == sorted(starts) and words[0].start == 0 and words[-1].end == 1.5
    assert all(w.end >= w.start for w in words)


def test_spread_words_share_the_span_by_length() -> None:
    words = spread_words("a bbbb", 0.0, 1.0)
    assert [w.text for w in words] == ["a", "bbbb"]
    assert words[0].end == pytest.approx(0.2) and words[1].end == pytest.approx(1.0)
    assert spread_words("...", 0.0, 1.0) == ()


def test_the_clock_puts_chunks_on_one_timeline_and_times_untimed_spans() -> None:
    clock = WordClock()
    clock.add(
        _chunk(1.0, "Hi there.", (WordTiming("Hi", 0.1, 0.3), WordTiming("there.", 0.4, 0.9)))
    )
    # An engine without timings: one span's text over two chunks.
    assert clock.add(_chunk(0.5, "one two")) == []
    clock.add(_chunk(0.5, "one two"))
    clock.add(_chunk(0.2))  # a pause
    clock.finish()
    assert [(w.text, round(w.start, 3), round(w.end, 3)) for w in clock.words] == [
        ("Hi", 0.1, 0.3),
        ("there.", 0.4, 0.9),
        ("one", 1.0, 1.5),
        ("two", 1.5, 2.0),
    ]
    assert clock.elapsed == pytest.approx(2.2)


def test_watermarking_holds_audio_back_but_keeps_words_on_the_timeline() -> None:
    words = (WordTiming("two", 0.25, 0.5),)
    chunks = [_chunk(0.3, "one"), _chunk(0.6, "two", words)]
    before = _absolute_words(chunks)
    marked = list(watermark_chunks(chunks, "key", 7, -30.0))
    assert sum(len(c.samples) for c in marked) == sum(len(c.samples) for c in chunks)
    assert len(marked[0].samples) != len(chunks[0].samples)  # the mark holds audio back
    assert _absolute_words(marked) == pytest.approx(before)


def _absolute_words(chunks: list[AudioChunk]) -> list[float]:
    clock = WordClock()
    for chunk in chunks:
        clock.add(chunk)
    return [w.start for w in clock.words if w.text == "two"]


# -- caption formats -------------------------------------------------------------------------


WORDS = [
    WordTiming("Hello", 0.0, 0.4),
    WordTiming("world.", 0.5, 1.0),
    WordTiming("After", 2.0, 2.3),
    WordTiming("a", 2.35, 2.4),
    WordTiming("pause.", 2.45, 3661.5),
]


def test_cues_break_at_sentence_ends_and_length() -> None:
    assert [c.text for c in cues(WORDS)] == ["Hello world.", "After a pause."]
    long = [WordTiming(f"word{i}", i, i + 0.5) for i in range(20)]
    assert all(len(c.text) <= 42 for c in cues(long))


def test_vtt_and_srt_have_their_formats_clock() -> None:
    vtt = to_vtt(WORDS)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello world.\n")
    assert "00:00:02.000 --> 01:01:01.500\nAfter a pause." in vtt
    srt = to_srt(WORDS)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,000\nHello world.\n\n2\n")


# -- jobs ------------------------------------------------------------------------------------


def _finished_job(api: Api, text: str = TEXT) -> dict:
    created = api.client.post(
        "/v1/jobs", headers=api.alice, json={"text": text, "voice": "fake_voice"}
    )
    assert created.status_code == 202, created.text
    done = api.wait_for_job(created.json()["id"])
    assert done["status"] == "succeeded"
    return done


def test_a_job_serves_captions_that_match_its_audio(api: Api) -> None:
    job = _finished_job(api)
    url = f"/v1/jobs/{job['id']}/captions"
    timings = api.client.get(url, params={"format": "json"}, headers=api.alice)
    assert timings.status_code == 200 and timings.headers["content-type"] == "application/json"
    body = timings.json()
    words = body["words"]
    assert [w["text"] for w in words] == TEXT.split()
    assert body["duration_seconds"] == pytest.approx(job["duration_seconds"], abs=0.01)
    assert words[0]["start"] >= 0 and words[-1]["end"] <= job["duration_seconds"] + 1e-3
    assert all(a["end"] <= b["start"] + 1e-6 for a, b in itertools.pairwise(words))

    vtt = api.client.get(url, headers=api.alice)
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT") and "The first sentence is short." in vtt.text
    srt = api.client.get(url, params={"format": "srt"}, headers=api.alice)
    assert re.match(r"1\n\d\d:\d\d:\d\d,\d{3} --> ", srt.text)


def test_captions_belong_to_the_jobs_owner_and_a_finished_job(api: Api) -> None:
    job = _finished_job(api)
    url = f"/v1/jobs/{job['id']}/captions"
    assert_error(api.client.get(url, headers=api.bob), 404)
    refused = api.client.get(url, params={"format": "docx"}, headers=api.alice)
    assert "caption format 'docx'" in assert_error(refused, 400, "unsupported_format")
    api.engine.chunk_delay = 0.5
    slow = api.client.post(
        "/v1/jobs", headers=api.alice, json={"text": TEXT * 3, "voice": "fake_voice"}
    ).json()
    assert_error(api.client.get(f"/v1/jobs/{slow['id']}/captions", headers=api.alice), 409)


def test_deleting_a_job_deletes_its_captions(api: Api) -> None:
    job = _finished_job(api)
    store = api.client.app.state.store
    assert len(store.list_keys("results/alice/")) == 2  # the audio and its word timings
    assert api.client.delete(f"/v1/jobs/{job['id']}", headers=api.alice).status_code == 204
    assert store.list_keys("results/alice/") == []
