"""Convert a stored result to another format: decode it frame by frame, re-encode.

Used by ``GET /v1/jobs/{id}/audio?format=``. Nothing is held whole in memory: the object
is copied to a temp file in blocks, decoded one codec frame at a time and encoded as it
goes into another temp file, which is then served (with its exact length, so Range works).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from voiceclone.audio.chunk import AudioChunk
from voiceclone.audio.encode import (
    PCM_SAMPLE_WIDTH,
    Tags,
    encode_chunks,
    finish_wav,
    output_format,
)
from voiceclone.storage.base import ObjectStore

PCM_BLOCK_SAMPLES = 24_000


@dataclass
class Converted:
    """A converted result in a private temp folder; :meth:`cleanup` removes it."""

    path: Path
    size: int
    content_type: str
    extension: str

    def cleanup(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def convert_object(
    store: ObjectStore,
    key: str,
    source_format: str,
    target_format: str,
    pcm_rate: int,
    folder: Path,
    tags: Tags | None = None,
) -> Converted:
    """Re-encode the object at ``key`` (in ``source_format``) as ``target_format``.

    ``pcm_rate`` is the sample rate of raw PCM sources (the engine's rate); other formats
    carry their own. ``tags`` go into the new container (the audio keeps its watermark).
    The files are made under ``folder``.
    """
    source = output_format(source_format)
    target = output_format(target_format)
    folder = Path(tempfile.mkdtemp(prefix="convert-", dir=folder))
    try:
        source_path = folder / f"source.{source.extension}"
        with source_path.open("wb") as sink:
            for block in store.iter_range(key):
                sink.write(block)
        chunks = (
            _pcm_chunks(source_path, pcm_rate)
            if source.name == "pcm"
            else _decoded_chunks(source_path)
        )
        target_path = folder / f"converted.{target.extension}"
        with target_path.open("wb") as sink:
            for data in encode_chunks(chunks, target.name, tags=tags):
                sink.write(data)
        source_path.unlink()
        if target.name == "wav":
            with target_path.open("r+b") as wav:
                finish_wav(wav)
        return Converted(
            path=target_path,
            size=target_path.stat().st_size,
            content_type=target.content_type,
            extension=target.extension,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _decoded_chunks(path: Path) -> Iterator[AudioChunk]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate or stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        index = 0
        for frame in container.decode(stream):
            for converted in resampler.resample(frame):
                yield AudioChunk(converted.to_ndarray().reshape(-1), rate, index=index)
                index += 1
        for converted in resampler.resample(None):
            yield AudioChunk(converted.to_ndarray().reshape(-1), rate, index=index)
            index += 1


def _pcm_chunks(path: Path, sample_rate: int) -> Iterator[AudioChunk]:
    with path.open("rb") as source:
        index = 0
        while block := source.read(PCM_BLOCK_SAMPLES * PCM_SAMPLE_WIDTH):
            usable = len(block) - len(block) % PCM_SAMPLE_WIDTH
            samples = np.frombuffer(block[:usable], dtype="<i2").astype(np.float32) / 32767.0
            yield AudioChunk(samples, sample_rate, index=index)
            index += 1
