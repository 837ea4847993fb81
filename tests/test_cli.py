"""The command line as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import soundfile as sf

TEXT = "Hello from the command line. This sentence is spoken in a cloned voice."


def _voiceclone(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voiceclone.cli", *args], capture_output=True, timeout=600, **kwargs
    )


def test_synth_clones_a_real_voice_into_a_wav(tmp_path, reference_voices, engine):
    reference = next(iter(reference_voices.values()))
    out = tmp_path / "out.wav"
    result = _voiceclone("synth", "--voice", str(reference), "--text", TEXT, "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    audio, rate = sf.read(out, dtype="float32")
    assert rate == engine.sample_rate
    seconds = len(audio) / rate
    assert 2.5 < seconds < 12, seconds
    assert np.sqrt(np.mean(audio**2)) > 0.02


def test_file_output_equals_the_engine_stream(tmp_path, engine):
    out = tmp_path / "stock.wav"
    result = _voiceclone("synth", "--voice", "af_heart", "--text", TEXT, "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    written, _ = sf.read(out, dtype="int16")
    streamed = np.concatenate(
        [c.samples for c in engine.synthesize(TEXT, engine.stock_voice("af_heart"))]
    )
    expected = np.clip(np.round(streamed * 32767), -32768, 32767).astype(np.int16)
    assert len(written) == len(expected)
    assert np.abs(written.astype(int) - expected).max() <= 1


def test_stdout_streams_mp3(reference_voices):
    reference = next(iter(reference_voices.values()))
    result = _voiceclone(
        "synth", "--voice", str(reference), "--text", "Short one.", "--format", "mp3", "--out", "-"
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout[:3] == b"ID3" or result.stdout[0] == 0xFF


def test_bad_reference_gives_a_clear_error(tmp_path):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not a recording")
    result = _voiceclone(
        "synth", "--voice", str(not_audio), "--text", "Hi.", "--out", str(tmp_path / "x.wav")
    )
    assert result.returncode == 2
    assert b"not an audio file" in result.stderr.lower()


def test_missing_reference_file_is_reported(tmp_path):
    result = _voiceclone(
        "synth", "--voice", "nowhere.wav", "--text", "Hi.", "--out", str(tmp_path / "x.wav")
    )
    assert result.returncode != 0
    assert b"not found" in result.stderr


def test_voices_list_shows_stock_voices():
    result = _voiceclone("voices", "list")
    assert result.returncode == 0, result.stderr.decode()
    assert b"af_heart" in result.stdout and b"bm_george" in result.stdout
