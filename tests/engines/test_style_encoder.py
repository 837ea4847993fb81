"""The learned style encoder (cloning v2): bundled weights, quality on real voices, training."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
import soxr

from voiceclone.audio.decode import decode_audio
from voiceclone.audio.reference import prepare_reference
from voiceclone.engines.base import VoiceSample
from voiceclone.engines.kokoro.style_encoder import (
    METHOD,
    METHOD_V1,
    METHOD_V2,
    PROSODY_NAMES,
    StyleEncoder,
    bundled_weights,
    load_encoder,
    prosody_features,
    summarize_pitch,
    with_mean_row,
)

# Held-out speakers of bench/quality.py's split (sorted en_* names, every third one).
HELD_OUT = ("brandon", "elizabeth", "james")
SENTENCE = "The little boat drifted slowly toward the island as the sun went down."


def test_bundled_weights_load_and_predict():
    assert bundled_weights() is not None, "style encoder weights missing from the repo"
    encoder = load_encoder()
    assert isinstance(encoder, StyleEncoder)
    features = np.zeros(256 + len(PROSODY_NAMES), dtype=np.float32)
    features[0] = 1.0
    row = encoder.predict(features)
    assert row.shape == (256,) and row.dtype == np.float32 and np.isfinite(row).all()
    assert encoder.predict(np.stack([features, features])).shape == (2, 256)


def test_with_mean_row_keeps_row_structure():
    table = np.random.default_rng(0).standard_normal((510, 256)).astype(np.float32)
    row = np.ones(256, dtype=np.float32)
    shifted = with_mean_row(table, row)
    assert np.allclose(shifted.mean(axis=0), row, atol=1e-5)
    assert np.allclose(np.diff(shifted, axis=0), np.diff(table, axis=0), atol=1e-5)


def test_prosody_features_find_the_pitch():
    t = np.arange(16_000 * 2) / 16_000
    tone = 0.3 * np.sign(np.sin(2 * np.pi * 150 * t))  # harmonic-rich 150 Hz
    features = prosody_features(tone)
    assert abs(2 ** features[0] - 150) < 5


def test_median_pitch_is_that_of_the_voiced_frames_or_none():
    t = np.arange(16_000 * 2) / 16_000

    def tone(hz: float, seconds: float) -> np.ndarray:
        part = t[: round(seconds * 16_000)]
        return sum(0.3 / k * np.sin(2 * np.pi * hz * k * part) for k in range(1, 8))

    summary = summarize_pitch(np.concatenate([tone(110, 0.75), tone(180, 2), np.zeros(8_000)]))
    pitch = summary.median_log2
    assert pitch is not None and abs(2**pitch - 180) < 5  # the longer stretch, not the pause
    assert summary.voiced_seconds == pytest.approx(2.75, abs=0.1)
    silence = summarize_pitch(np.zeros(16_000))
    assert silence.median_log2 is None and silence.voiced_seconds == 0.0
    assert summarize_pitch(np.random.default_rng(0).normal(0, 0.1, 16_000)).median_log2 is None


@pytest.fixture(scope="module")
def resemblyzer(asset_paths):
    from resemblyzer import VoiceEncoder, preprocess_wav

    encoder = VoiceEncoder(
        weights_fpath=asset_paths.resemblyzer_weights, device="cpu", verbose=False
    )

    def embed(audio: np.ndarray, rate: int) -> np.ndarray:
        return encoder.embed_utterance(preprocess_wav(soxr.resample(audio, rate, 16_000), 16_000))

    return embed


@pytest.mark.models
def test_encoder_beats_nearest_stock_voice_on_held_out_speakers(
    engine, reference_voices, resemblyzer
):
    """Mean resemblyzer similarity (a model cloning never used) over held-out speakers."""
    names = engine.stock_voice_names()
    candidates = [n for n in names if n.startswith("a")]
    stock = engine.stock_embeddings(candidates)
    nearest_sims, encoder_sims = [], []
    for speaker in HELD_OUT:
        rate = engine.sample_rate
        audio = prepare_reference(decode_audio(str(reference_voices[speaker]), rate), rate)
        sample = VoiceSample(audio, rate)
        target = resemblyzer(audio, rate)
        cloned = engine.create_voice([sample], ["en-us"], method=METHOD)
        assert cloned.method == METHOD
        nearest = engine.stock_voice(candidates[int(np.argmax(stock @ cloned.speaker_embedding))])
        for voice, sims in ((nearest, nearest_sims), (cloned, encoder_sims)):
            speech = engine.synthesize_all(SENTENCE, voice, "en-us")
            sims.append(float(resemblyzer(speech, engine.sample_rate) @ target))
    assert statistics.fmean(encoder_sims) > statistics.fmean(nearest_sims), (
        encoder_sims,
        nearest_sims,
    )


def test_cloning_method_setting_selects_the_blend(engine, reference_voices):
    rate = engine.sample_rate
    audio = decode_audio(str(reference_voices["james"]), rate)
    sample = VoiceSample(prepare_reference(audio, rate), rate)
    blend = engine.create_voice([sample], ["en-us"], method="stock-blend-v1")
    assert blend.method == "stock-blend-v1"
    with pytest.raises(ValueError):
        engine.create_voice([sample], ["en-us"], method="no-such-method")


def test_training_runs_end_to_end_on_a_tiny_budget(engine, tmp_path):
    from voiceclone.engines.kokoro.offline.train_style_encoder import run_training

    output = tmp_path / "encoder.npz"
    data_path = tmp_path / "data.npz"
    report = run_training(
        samples=3, output=output, data_path=data_path, sentences=1, views=2, engine=engine
    )
    assert report.samples == 9  # each recording, clean and two degraded copies
    encoder = StyleEncoder.load(output)
    with np.load(data_path) as data:
        assert data["features"].shape == (9, 256 + len(PROSODY_NAMES))
        assert data["targets"].shape == (9, 256)
        assert data["style"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
        # a degraded copy is described differently, but is trained towards the same style
        assert not np.allclose(data["features"][0], data["features"][1])
        assert np.array_equal(data["targets"][0], data["targets"][2])
        row = encoder.predict(data["features"][0])
        first_three = data["features"][:3].copy()
    assert row.shape == (256,) and np.isfinite(row).all()

    # Resuming regenerates nothing already made, and makes the same data as a fresh run.
    run_training(samples=4, output=output, data_path=data_path, sentences=1, views=2, engine=engine)
    with np.load(data_path) as data:
        assert data["features"].shape[0] == 12
        assert np.array_equal(data["features"][:3], first_three)


def test_both_encoders_ship_and_auto_takes_v2_for_a_phone_line(engine, reference_voices):
    from voiceclone.audio.degrade import phone_call

    assert bundled_weights(METHOD_V1) is not None and bundled_weights(METHOD_V2) is not None
    assert METHOD == METHOD_V2
    rate = engine.sample_rate
    audio = prepare_reference(decode_audio(str(reference_voices["james"]), rate), rate)
    clean = VoiceSample(audio[: 3 * rate], rate)
    called = VoiceSample(prepare_reference(phone_call(audio, rate), rate), rate)
    assert engine.create_voice([clean], ["en-us"], method="auto").method == METHOD_V1
    assert engine.create_voice([called], ["en-us"], method="auto").method == METHOD_V2
    newest = engine.create_voice([clean], ["en-us"], method=METHOD_V2)
    older = engine.create_voice([clean], ["en-us"], method=METHOD_V1)
    assert (newest.method, older.method) == (METHOD_V2, METHOD_V1)
    assert not np.allclose(newest.style, older.style)


def _small_encoder(real_speech_dvector: np.ndarray | None) -> StyleEncoder:
    rng = np.random.default_rng(7)
    size = 256 + len(PROSODY_NAMES)
    return StyleEncoder(
        feature_mean=rng.standard_normal(size).astype(np.float32),
        feature_scale=rng.uniform(0.5, 2.0, size).astype(np.float32),
        layers=((rng.standard_normal((size, 256)).astype(np.float32) * 0.1, np.zeros(256)),),
        target_mean=rng.standard_normal(256).astype(np.float32),
        real_speech_dvector=real_speech_dvector,
    )


def test_real_speech_gain_follows_the_offset_between_real_and_engine_speech():
    rng = np.random.default_rng(3)
    uncalibrated = _small_encoder(None)
    real = uncalibrated.feature_mean[:256] + rng.standard_normal(256).astype(np.float32)
    encoder = _small_encoder(real)
    features = rng.standard_normal(256 + len(PROSODY_NAMES)).astype(np.float32)
    offset = np.concatenate([real - encoder.feature_mean[:256], np.zeros(len(PROSODY_NAMES))])

    # 1: the recording as the encoder reads it, calibrated or not.
    assert np.allclose(encoder.predict(features), uncalibrated.predict(features))
    # 1.5: as if the recording sat half an offset further from the engine's speech.
    assert np.allclose(
        encoder.predict(features, real_speech_gain=1.5),
        encoder.predict(features + 0.5 * offset),
        atol=1e-5,
    )
    # 0: as if real speech sat where the engine's does.
    assert np.allclose(
        encoder.predict(features, real_speech_gain=0.0),
        encoder.predict(features - offset),
        atol=1e-5,
    )
    # Weights never calibrated have no offset to follow.
    assert np.allclose(
        uncalibrated.predict(features, real_speech_gain=2.0), uncalibrated.predict(features)
    )


def test_the_real_speech_dvector_is_saved_with_the_weights(tmp_path):
    real = np.arange(256, dtype=np.float32) / 256
    _small_encoder(real).save(tmp_path / "calibrated.npz")
    _small_encoder(None).save(tmp_path / "plain.npz")
    loaded = StyleEncoder.load(tmp_path / "calibrated.npz").real_speech_dvector
    assert loaded is not None and np.array_equal(loaded, real)
    assert StyleEncoder.load(tmp_path / "plain.npz").real_speech_dvector is None


def test_calibration_records_the_mean_dvector_of_the_recordings(engine, reference_voices, tmp_path):
    from voiceclone.engines.kokoro.offline.train_style_encoder import calibrate_to_real_speech

    clips = [reference_voices["kevin"], reference_voices["sarah"]]
    output = tmp_path / "calibrated.npz"
    calibrated = calibrate_to_real_speech(clips, METHOD_V1, output, engine=engine)
    rate = engine.sample_rate
    dvectors = [
        engine.sample_features(
            [VoiceSample(prepare_reference(decode_audio(str(clip), rate), rate), rate)]
        )[:256]
        for clip in clips
    ]
    saved = StyleEncoder.load(output)
    assert saved.real_speech_dvector is not None
    assert np.allclose(saved.real_speech_dvector, np.mean(dvectors, axis=0), atol=1e-6)
    assert calibrated.real_speech_dvector is not None
    # Only the calibration changed: the map itself is the bundled one.
    bundled = StyleEncoder.load(bundled_weights(METHOD_V1))
    assert np.array_equal(saved.layers[0][0], bundled.layers[0][0])
    with pytest.raises(ValueError, match="at least one recording"):
        calibrate_to_real_speech([], METHOD_V1, output, engine=engine)


def test_the_clean_band_encoder_ships_calibrated_and_voices_follow_the_setting(
    asset_paths, reference_voices
):
    from voiceclone.engines.kokoro import KokoroEngine
    from voiceclone.settings import Settings

    encoder = load_encoder(method=METHOD_V1)
    assert encoder is not None and encoder.real_speech_dvector is not None
    rate = 24_000
    audio = prepare_reference(decode_audio(str(reference_voices["james"]), rate), rate)
    sample = VoiceSample(audio, rate)
    rows = {}
    for gain in (1.0, 1.5):
        engine = KokoroEngine(asset_paths, Settings(style_encoder_real_speech_gain=gain))
        voice = engine.create_voice([sample], ["en-us"], method=METHOD_V1)
        assert voice.style is not None
        rows[gain] = voice.style.mean(axis=0)
        features = engine.sample_features([sample])
        expected = encoder.predict(features, real_speech_gain=gain)
        assert np.allclose(rows[gain], expected, atol=1e-4)
    assert not np.allclose(rows[1.0], rows[1.5], atol=1e-3)


def test_the_calibrate_command_refuses_what_it_cannot_use(tmp_path, reference_voices):
    from typer.testing import CliRunner

    from voiceclone.cli import app

    output = tmp_path / "calibrated.npz"
    clip = str(reference_voices["james"])
    unknown = CliRunner().invoke(
        app, ["calibrate-style-encoder", clip, "--method", "v9", "--output", str(output)]
    )
    missing = CliRunner().invoke(
        app,
        ["calibrate-style-encoder", str(tmp_path / "none.wav"), "--output", str(output)],
        env={"COLUMNS": "300"},
    )
    text = tmp_path / "notes.wav"
    text.write_text("not a recording")
    unreadable = CliRunner().invoke(
        app, ["calibrate-style-encoder", clip, str(text), "--output", str(output)]
    )
    assert unknown.exit_code == 2 and "unknown method 'v9'" in unknown.output
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert unreadable.exit_code == 2 and "not an audio file" in unreadable.output
    assert not output.exists()

    done = CliRunner().invoke(app, ["calibrate-style-encoder", clip, "--output", str(output)])
    assert done.exit_code == 0, done.output
    assert StyleEncoder.load(output).real_speech_dvector is not None
