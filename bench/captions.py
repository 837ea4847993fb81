"""Word-timing accuracy: our word boundaries (from Kokoro's duration predictor) against
faster-whisper's word timestamps on the same audio, for English and Korean sentences.

Words are paired by position where both sides split the text alike, else by matching
text; the table gives the median and p90 boundary error (starts and ends together).

    python bench/captions.py
"""

from __future__ import annotations

import argparse
import difflib
import re

import numpy as np
import soxr
from rich.console import Console
from rich.table import Table

SENTENCES = {
    "en": [
        "Welcome to the evening news.",
        "Heavy rain is expected across the north tonight, so please drive carefully.",
        "Tomorrow will be brighter, with sunshine in most places by the afternoon.",
        "The quick brown fox jumps over the lazy dog, and then it runs away.",
        "She opened the window and looked out at the quiet street below.",
    ],
    "ko": [
        "안녕하세요, 저녁 뉴스입니다.",
        "오늘 밤 북부 지역에는 많은 비가 예상됩니다.",
        "운전하실 때 조심하시고 여유 있게 출발하시기 바랍니다.",
        "내일은 대부분 지역에서 오후부터 맑아지겠습니다.",
        "오늘 날씨가 정말 좋네요, 산책하러 갈까요?",
    ],
}
LANGUAGE_CODES = {"en": "en-us", "ko": "ko"}
WHISPER_RATE = 16_000


def _plain(word: str) -> str:
    return re.sub(r"[^\w]", "", word).lower()


def _ours(engine, voice, text: str, language: str) -> tuple[np.ndarray, list]:
    chunks = list(engine.synthesize(text, voice, language))
    words, offset = [], 0.0
    for chunk in chunks:
        words += [(w.text, w.start + offset, w.end + offset) for w in chunk.words]
        offset += chunk.duration
    return np.concatenate([c.samples for c in chunks]), words


def _pairs(ours: list, heard: list) -> list[tuple[tuple, tuple]]:
    if len(ours) == len(heard):
        return list(zip(ours, heard, strict=True))
    matcher = difflib.SequenceMatcher(
        a=[_plain(w[0]) for w in ours], b=[_plain(w[0]) for w in heard], autojunk=False
    )
    return [
        (ours[block.a + i], heard[block.b + i])
        for block in matcher.get_matching_blocks()
        for i in range(block.size)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voice", default="af_heart")
    args = parser.parse_args()

    from faster_whisper import WhisperModel

    from voiceclone.assets.paths import require_asr_assets, require_engine_assets
    from voiceclone.engines.kokoro import KokoroEngine

    engine = KokoroEngine(require_engine_assets())
    voice = engine.stock_voice(args.voice)
    whisper = WhisperModel(str(require_asr_assets().whisper_dir), device="cpu", compute_type="int8")

    table = Table(title="Word timings vs faster-whisper word timestamps")
    for column in ("language", "sentences", "words paired", "median error", "p90 error"):
        table.add_column(column, justify="right")
    for key, sentences in SENTENCES.items():
        errors: list[float] = []
        ours_total = paired = 0
        for text in sentences:
            audio, ours = _ours(engine, voice, text, LANGUAGE_CODES[key])
            segments, _ = whisper.transcribe(
                soxr.resample(audio, engine.sample_rate, WHISPER_RATE),
                language=key,
                beam_size=1,
                word_timestamps=True,
            )
            heard = [(w.word.strip(), w.start, w.end) for s in segments for w in s.words or ()]
            pairs = _pairs(ours, heard)
            ours_total += len(ours)
            paired += len(pairs)
            for mine, theirs in pairs:
                errors += [abs(mine[1] - theirs[1]), abs(mine[2] - theirs[2])]
        table.add_row(
            key,
            str(len(sentences)),
            f"{paired}/{ours_total}",
            f"{np.median(errors) * 1000:.0f} ms",
            f"{np.percentile(errors, 90) * 1000:.0f} ms",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
