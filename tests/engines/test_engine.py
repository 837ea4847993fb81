"""The Kokoro engine end to end on real model files and real human reference voices."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

import librosa
import numpy as np
import pytest
import soxr

from voiceclone.audio.equalize import band_centres
from voiceclone.cloning.embedder import SAMPLE_RATE as EMBED_RATE
from voiceclone.cloning.embedder import cosine
from voiceclone.engines.base import VoiceProfile
from voiceclone.engines.kokoro.engine import (
    F0_STEPS_PER_FRAME,
    pitch_of,
    raise_final_pitch,
    semitones_between,
)
from voiceclone.errors import VoiceCloneError
from voiceclone.services.speech import clone_voice

SENTENCE = "The quick brown fox jumps over the lazy dog by the old stone wall."
STREAMED_TEXT = "Hello there. This is a slow stream of words that keeps on coming."
PARAGRAPH = (
    "Good morning, and welcome to the station. The next train to the city leaves at nine. "
    "Please keep your bags with you at all times. Thank you for travelling with us today."
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _word_errors(reference: str, hypothesis: str) -> int:
    """Levenshtein distance in words."""
    ref, hyp = _words(reference), _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (ref_word != hyp_word)),
            )
    return row[-1]


@pytest.fixture(scope="module")
def cloned(engine, reference_voices) -> dict[str, VoiceProfile]:
    speakers = ["andrew", "ashley", "bernd", "dodo"]
    chosen = [s for s in speakers if s in reference_voices] or list(reference_voices)[:4]
    return {s: clone_voice(engine, [reference_voices[s]], ["en-us"]) for s in chosen[:4]}


def test_profile_round_trips_through_json(cloned):
    profile = next(iter(cloned.values()))
    restored = VoiceProfile.from_json(profile.to_json())
    assert np.array_equal(restored.style, profile.style)
    assert np.array_equal(restored.speaker_embedding, profile.speaker_embedding)
    assert np.array_equal(restored.equalizer_db, profile.equalizer_db)
    assert restored.method == profile.method
    assert restored.pitch_shift_semitones == profile.pitch_shift_semitones


def test_a_profile_stored_before_pitch_matching_keeps_its_pitch(cloned):
    import json

    stored = json.loads(next(iter(cloned.values())).to_json())
    del stored["pitch_shift_semitones"]
    assert VoiceProfile.from_json(json.dumps(stored)).pitch_shift_semitones == 0.0


def test_a_voice_speaks_at_its_pitch_shift(engine):
    from dataclasses import replace

    plain = engine.stock_voice("af_heart")
    lower = replace(plain, pitch_shift_semitones=-4.0)
    gap = semitones_between(
        pitch_of(engine.synthesize_all(SENTENCE, plain, "en-us")),
        pitch_of(engine.synthesize_all(SENTENCE, lower, "en-us")),
    )
    assert gap == pytest.approx(-4.0, abs=0.75)


def test_pitch_matching_brings_a_clone_to_its_references_pitch(asset_paths, reference_voices):
    from voiceclone.audio.decode import decode_audio
    from voiceclone.engines.kokoro import KokoroEngine
    from voiceclone.settings import Settings

    engine = KokoroEngine(asset_paths, Settings(pitch_match_strength=1.0))
    gaps = []
    # Speakers whose clones the model pitches 3-4 semitones off (low and high voices).
    for name in ("kevin", "sarah"):
        voice = clone_voice(engine, [reference_voices[name]], ["en-us"])
        reference = decode_audio(reference_voices[name], engine.sample_rate)
        spoken = engine.synthesize_all(PARAGRAPH, voice, "en-us")
        shift = voice.pitch_shift_semitones
        assert voice.details["pitch_shift_semitones"] == round(shift, 2)
        gaps.append((semitones_between(pitch_of(spoken), pitch_of(reference)), shift))
    # Without the shift each clone was |shift| semitones away from its reference.
    assert all(abs(shift) > 2.0 and abs(after) < 1.0 for after, shift in gaps), gaps


def test_pitch_matching_shifts_less_when_the_references_hold_little_voicing(
    asset_paths, reference_voices
):
    from voiceclone.audio.decode import decode_audio
    from voiceclone.engines.kokoro import KokoroEngine
    from voiceclone.settings import Settings

    reference = decode_audio(reference_voices["kevin"], 24_000)
    voiced = pitch_of(reference).voiced_seconds
    shifts = []
    for prior in (0.0, voiced):
        settings = Settings(pitch_match_strength=1.0, pitch_match_prior_seconds=prior)
        engine = KokoroEngine(asset_paths, settings)
        shifts.append(
            clone_voice(engine, [reference_voices["kevin"]], ["en-us"]).pitch_shift_semitones
        )
    full, shrunk = shifts
    # As much voicing as the prior: about half the shift.
    assert abs(full) > 2.0 and shrunk / full == pytest.approx(0.5, abs=0.1), shifts


def test_timbre_match_moves_the_output_toward_the_reference(engine, cloned, reference_voices):
    from dataclasses import replace

    from voiceclone.audio.decode import decode_audio
    from voiceclone.audio.equalize import BAND_COUNT, band_levels_db

    def band_levels(audio: np.ndarray) -> np.ndarray:
        return band_levels_db(audio, engine.sample_rate)

    for name, profile in cloned.items():
        assert profile.equalizer_db is not None and profile.equalizer_db.shape == (BAND_COUNT,)
        reference = band_levels(decode_audio(reference_voices[name], engine.sample_rate))
        plain = replace(profile, equalizer_db=None)
        distances = [
            float(np.std(band_levels(engine.synthesize_all(PARAGRAPH, voice, "en-us")) - reference))
            for voice in (plain, profile)
        ]
        assert distances[1] < distances[0], (name, distances)


def test_cloning_is_deterministic(engine, reference_voices, cloned):
    name, profile = next(iter(cloned.items()))
    again = clone_voice(engine, [reference_voices[name]], ["en-us"])
    assert np.array_equal(again.style, profile.style)


def test_synthesis_is_intelligible(engine, cloned, transcribe):
    profile = next(iter(cloned.values()))
    audio = engine.synthesize_all(SENTENCE, profile, "en-us")
    heard = transcribe(soxr.resample(audio, engine.sample_rate, 16_000))
    assert _word_errors(SENTENCE, heard) <= 1, heard


def test_cloned_voice_is_closer_to_its_own_reference(engine, cloned, reference_voices):
    from voiceclone.audio.decode import decode_audio

    references = {
        name: engine.embedder.embed(decode_audio(reference_voices[name], EMBED_RATE))
        for name in cloned
    }
    for name, profile in cloned.items():
        audio = engine.synthesize_all(PARAGRAPH, profile, "en-us")
        generated = engine.embedder.embed(soxr.resample(audio, engine.sample_rate, EMBED_RATE))
        own = cosine(generated, references[name])
        others = [cosine(generated, ref) for other, ref in references.items() if other != name]
        assert own > max(others), (name, own, others)


def test_chunks_stream_before_synthesis_ends(engine, cloned):
    profile = next(iter(cloned.values()))
    started = time.perf_counter()
    arrivals, chunks = [], []
    for chunk in engine.synthesize(PARAGRAPH, profile, "en-us"):
        arrivals.append(time.perf_counter() - started)
        chunks.append(chunk)
    assert len(chunks) >= 4
    assert arrivals[0] < arrivals[-1] / 2
    assert len(chunks[0].text) <= engine.settings.first_chunk_max_chars
    assert " ".join(c.text for c in chunks).split() == PARAGRAPH.split()


def test_chunk_joins_have_no_clicks(engine, cloned):
    profile = next(iter(cloned.values()))
    chunks = list(engine.synthesize(PARAGRAPH, profile, "en-us"))
    fade = int(engine.settings.crossfade_ms / 1000 * engine.sample_rate)
    for chunk in chunks:
        edge = max(1, fade // 4)
        assert np.abs(chunk.samples[:edge]).max() < 0.05
        assert np.abs(chunk.samples[-edge:]).max() < 0.05


def test_long_text_streams_with_flat_memory(engine):
    import tracemalloc

    voice = engine.stock_voice("af_heart")
    sentence = "This line is repeated to make a very long text. "
    pieces = (sentence for _ in range(2_000))  # 100,000 characters
    tracemalloc.start()
    produced = 0
    for produced, chunk in enumerate(engine.synthesize(pieces, voice, "en-us"), 1):
        assert len(chunk.samples) < engine.sample_rate * 30
        if produced == 3:
            break
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert produced == 3
    assert peak < 20 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "kwargs", "phrase"),
    [
        ("   ", {}, "no text"),
        ("Hello there.", {"speed": 9.0}, "Speed must be between"),
        ("Hello there.", {"language": "klingon"}, "klingon"),
    ],
)
def test_bad_requests_are_rejected(engine, text, kwargs, phrase):
    voice = engine.stock_voice("af_heart")
    with pytest.raises(VoiceCloneError, match=phrase):
        list(engine.synthesize(text, voice, **kwargs))


def test_korean_text_is_spoken(engine):
    voice = engine.stock_voice("af_heart")
    audio = engine.synthesize_all("안녕하세요. 오늘은 2024년 3월 5일입니다.", voice)
    assert len(audio) > engine.sample_rate
    assert np.sqrt(np.mean(audio**2)) > 0.01


def test_streamed_text_is_spoken_before_the_stream_ends(engine):
    voice = engine.stock_voice("af_heart")
    consumed = []

    def words():
        for word in STREAMED_TEXT.split():
            consumed.append(word)
            yield word + " "

    first = next(iter(engine.synthesize(words(), voice, "en-us")))
    assert first.text == "Hello there."
    assert len(consumed) < 5


def test_engine_is_safe_to_share_between_threads(engine):
    voice = engine.stock_voice("af_heart")
    results: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda: results.append(engine.synthesize_all("Hi there.", voice)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and np.array_equal(results[0], results[1])


TIMED_TEXT = "The quick brown fox jumps over the lazy dog, and then it runs away."


def test_word_timings_line_up_with_the_spoken_words(engine, transcribe):
    voice = engine.stock_voice("af_heart")
    chunks = list(engine.synthesize(TIMED_TEXT, voice, "en-us"))
    ours, offset = [], 0.0
    for chunk in chunks:
        ours += [(w.text, w.start + offset, w.end + offset) for w in chunk.words]
        offset += chunk.duration
    assert [text for text, _, _ in ours] == TIMED_TEXT.split()
    assert all(0 <= start <= end <= offset + 1e-6 for _, start, end in ours)

    audio = np.concatenate([chunk.samples for chunk in chunks])
    heard = transcribe.words(soxr.resample(audio, engine.sample_rate, EMBED_RATE))
    assert len(heard) == len(ours)  # no word lost, none invented
    errors = [abs(a[1] - b[1]) for a, b in zip(ours, heard, strict=True)]
    assert float(np.median(errors)) < 0.1


def test_korean_words_are_timed_by_eojeol(engine):
    voice = engine.stock_voice("af_heart")
    text = "오늘 날씨가 정말 좋네요, 산책하러 갈까요?"
    (chunk,) = [c for c in engine.synthesize(text, voice, "ko") if c.words]
    assert [w.text for w in chunk.words] == text.split()
    starts = [w.start for w in chunk.words]
    assert starts == sorted(starts) and chunk.words[-1].end <= chunk.duration + 1e-6


# Short lines whose first and last sounds are easy to clip (plosives, a nasal, fricatives)
# and which the small recogniser hears reliably.
EDGE_LINES = ["Stop here.", "Many thanks.", "Keep it simple.", "Good night."]


def test_the_split_model_decodes_exactly_what_the_whole_model_does(engine):
    import onnxruntime as ort

    from voiceclone.engines.kokoro.sessions import DECODER_INPUTS, session_options

    whole = ort.InferenceSession(str(engine.model_path), session_options(2))
    tokens = engine._tokens(engine._phonemizer.phonemize(SENTENCE, "en-us"))
    style = engine._style_row(engine.stock_style("af_heart"), len(tokens)).astype(np.float32)
    inputs = engine._predictor_inputs(tokens, style, 1.0)
    audio, durations = whole.run(None, inputs)
    *handed_over, split_durations = engine._predictor.run(None, inputs)
    (split_audio,) = engine._decoder.run(
        None, {**dict(zip(DECODER_INPUTS, handed_over, strict=True)), "style": style}
    )
    assert np.array_equal(durations, split_durations)
    assert np.array_equal(audio, split_audio)


def test_the_float_graph_for_comparisons_keeps_every_convolution_in_float(engine, tmp_path):
    import onnx

    from voiceclone.engines.kokoro.offline.graph import optimize_kokoro

    def op_counts(path) -> Counter[str]:
        return Counter(node.op_type for node in onnx.load(str(path)).graph.node)

    optimize_kokoro(engine.paths.kokoro_model, tmp_path / "float.onnx", quantize=False)
    floats, engines = op_counts(tmp_path / "float.onnx"), op_counts(engine.optimized_model())
    assert engines["QuantizeLinear"] > 0  # the engine's own graph is quantised
    assert floats["QuantizeLinear"] == floats["ConvInteger"] == 0
    assert floats["Conv"] == engines["Conv"] > 0
    assert floats["InstanceNormalization"] == engines["InstanceNormalization"] > 0


def test_the_stft_rewritten_as_a_convolution_gives_the_same_spectrum():
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from voiceclone.engines.kokoro.offline.graph import _Graph, _stft_as_conv

    window = np.hanning(22)[1:-1].astype(np.float32)  # 20 taps, like the generator's
    constants = {"step": np.array(5, np.int64), "window": window, "size": np.array(20, np.int64)}
    graph = helper.make_graph(
        [helper.make_node("STFT", ["x", "step", "window", "size"], ["y"], onesided=1)],
        "stft",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, None, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    signal = np.random.default_rng(0).standard_normal((1, 997, 1)).astype(np.float32)

    def spectrum(m: onnx.ModelProto) -> np.ndarray:
        session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, {"x": signal})[0]

    expected = spectrum(model)
    assert _stft_as_conv(_Graph(model.graph)) == 1
    assert [node.op_type for node in model.graph.node] == [
        "Reshape",
        "Conv",
        "Reshape",
        "Transpose",
    ]
    actual = spectrum(model)
    assert actual.shape == expected.shape == (1, 196, 11, 2)
    np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_deriving_a_new_revision_removes_what_older_ones_derived(tmp_path):
    from voiceclone.engines.kokoro.engine import _remove_other_revisions

    old = ["kokoro-v1.0.opt2.onnx", "kokoro-v1.0.opt2-decoder.onnx"]
    old.append("stock-dvectors-kokoro-v1.0.opt2-trimmed.npz")
    current = ["kokoro-v1.0.opt3.onnx", "kokoro-v1.0.opt3-predictor.onnx"]
    current.append("stock-dvectors-kokoro-v1.0.opt3-trimmed.npz")
    unrelated = ["other-model.onnx"]
    for name in old + current + unrelated:
        (tmp_path / name).write_bytes(b"x")
    _remove_other_revisions(tmp_path / "kokoro-v1.0.opt3.onnx")
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(current + unrelated)


def test_a_lone_synthesis_decodes_on_all_threads_and_several_share_the_cores(asset_paths):
    from voiceclone.engines.kokoro import KokoroEngine
    from voiceclone.settings import Settings

    engine = KokoroEngine(asset_paths, Settings(engine_slots=2, onnx_threads=2))
    used: list[str] = []

    class Recorded:
        def __init__(self, session, name: str) -> None:
            self.session, self.name = session, name

        def run(self, *args, **kwargs):
            used.append(self.name)
            return self.session.run(*args, **kwargs)

    engine._decoder = Recorded(engine._decoder, "all threads")
    engine._shared_decoder = Recorded(engine._shared_decoder, "shared")
    voice = engine.stock_voice("af_heart")
    text = "The rain stopped at noon. The streets dried slowly in the sun."
    list(engine.synthesize(text, voice, "en-us"))
    assert used == ["all threads", "all threads"]

    used.clear()
    first = engine.synthesize(text, voice, "en-us")
    next(first)  # alone so far
    list(engine.synthesize(text, voice, "en-us"))  # while the first is under way
    list(first)  # alone again
    assert used == ["all threads", "shared", "shared", "all threads"]


def test_predicted_silence_is_not_decoded(engine):
    tokens = engine._tokens(engine._phonemizer.phonemize(SENTENCE, "en-us"))
    inferred = engine._infer_timed(tokens, engine.stock_style("af_heart"), 1.0)
    frames = int(inferred.durations.sum())
    assert inferred.first_frame > 0
    decoded_frames = len(inferred.audio) / 600
    assert decoded_frames < frames - inferred.first_frame  # the tail was not decoded either
    # What is left starts and ends near the speech: a little margin, not the model's pause.
    loud = np.nonzero(np.abs(inferred.audio) > 0.01)[0]
    assert loud[0] / engine.sample_rate < 0.2
    assert (len(inferred.audio) - loud[-1]) / engine.sample_rate < 0.4


@pytest.mark.parametrize("line", EDGE_LINES)
def test_no_first_or_last_word_is_lost(engine, transcribe, line):
    audio = engine.synthesize_all(line, engine.stock_voice("af_heart"), "en-us")
    heard = transcribe(soxr.resample(audio, engine.sample_rate, 16_000))
    assert _words(heard) == _words(line), heard


def test_no_korean_word_is_lost(engine, transcribe):
    line = "안녕하세요, 반갑습니다."
    audio = engine.synthesize_all(line, engine.stock_voice("af_heart"), "ko")
    heard = transcribe(soxr.resample(audio, engine.sample_rate, 16_000), "ko")
    assert heard.startswith("안녕하세") and "반갑습니다" in heard, heard


def test_a_final_pitch_rise_glides_up_the_last_voiced_stretch():
    voiced, tail = np.full(80, 120.0, np.float32), np.full(20, 5.0, np.float32)
    f0 = np.concatenate([voiced, tail])[None, :]
    stop = f0.shape[1] // F0_STEPS_PER_FRAME
    raised = raise_final_pitch(f0, stop, 4.0).reshape(-1)
    assert raised.shape == (100,) and raised.dtype == np.float32
    assert raised[79] == pytest.approx(120.0 * 2 ** (4 / 12), rel=1e-4)
    assert np.all(np.diff(raised[56:80]) > 0)  # a glide over the last 0.3 s of voicing
    assert np.array_equal(raised[:56], voiced[:56]) and np.array_equal(raised[80:], tail)
    assert np.array_equal(raise_final_pitch(tail[None, :], 10, 4.0), tail[None, :])


def test_pitch_gaps_are_told_within_half_an_octave():
    t = np.arange(48_000) / 24_000

    def tone(hz: float) -> np.ndarray:
        return sum(0.3 / k * np.sin(2 * np.pi * hz * k * t) for k in range(1, 8))

    def gap(audio: np.ndarray, target: np.ndarray) -> float:
        return semitones_between(pitch_of(audio), pitch_of(target))

    assert gap(tone(110), tone(150)) == pytest.approx(5.37, abs=0.3)
    assert gap(tone(150), tone(110)) == pytest.approx(-5.37, abs=0.3)
    assert gap(tone(90), tone(180)) == pytest.approx(0.0, abs=0.3)  # an octave
    assert gap(tone(120), np.zeros(48_000)) == 0.0


def test_korean_questions_end_higher_than_the_model_says_them(asset_paths):
    from voiceclone.engines.kokoro import KokoroEngine
    from voiceclone.settings import Settings

    def final_pitch(rise: float, text: str, language: str) -> float:
        engine = KokoroEngine(asset_paths, Settings(question_rise_semitones=rise))
        audio = engine.synthesize_all(text, engine.stock_voice("af_heart"), language)
        f0, _, _ = librosa.pyin(audio, fmin=80, fmax=400, sr=engine.sample_rate, hop_length=240)
        return float(np.nanmedian(f0[~np.isnan(f0)][-8:]))

    question = "이 버스는 시청에 가나요?"
    assert final_pitch(5.0, question, "ko") > 1.15 * final_pitch(0.0, question, "ko")
    statement, english = "이 버스는 시청에 갑니다.", "Is this the bus to the city hall?"
    assert final_pitch(5.0, statement, "ko") == pytest.approx(final_pitch(0.0, statement, "ko"))
    assert final_pitch(5.0, english, "en-us") == pytest.approx(final_pitch(0.0, english, "en-us"))


def test_a_phone_band_reference_still_gives_intelligible_speech(
    engine, reference_voices, transcribe
):
    """A clip that went through an 8 kHz phone line (noise, band, mp3) once made the clone
    say other words."""
    import soundfile as sf

    from voiceclone.audio.degrade import phone_call
    from voiceclone.audio.reference import prepare_reference
    from voiceclone.engines.base import VoiceSample

    name = next(iter(reference_voices))
    raw, rate = sf.read(reference_voices[name], dtype="float32", always_2d=True)
    audio = soxr.resample(raw.mean(axis=1), rate, engine.sample_rate)
    phone = phone_call(audio, engine.sample_rate)
    sample = VoiceSample(prepare_reference(phone, engine.sample_rate), engine.sample_rate)
    voice = engine.create_voice([sample], ["en-us"])
    assert voice.details["narrow_band"] is True
    # Timbre is matched inside the band the line carried, and nowhere above it.
    up_to_hz = voice.details["timbre_match_up_to_hz"]
    assert 2_500 < up_to_hz < 3_400 and voice.equalizer_db is not None
    above = band_centres(engine.sample_rate) > up_to_hz
    assert np.all(voice.equalizer_db[above] == 0) and np.any(voice.equalizer_db[~above] != 0)
    for line in ("Please bring the blue folder to the meeting.", SENTENCE):
        spoken = engine.synthesize_all(line, voice, "en-us")
        heard = transcribe(soxr.resample(spoken, engine.sample_rate, 16_000))
        assert _word_errors(line, heard) <= 1, heard
