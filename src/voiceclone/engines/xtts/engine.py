"""XTTS-v2 through coqui-tts: zero-shot cloning from the conditioning latents of a clip.

A voice's profile holds what XTTS conditions on (the GPT conditioning latents and the
speaker embedding), computed once from the samples; synthesis streams each text span with
``inference_stream`` and yields its chunks as they come.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain

import numpy as np
import torch
from TTS.tts.configs.xtts_config import XttsConfig
from TTS.tts.models.xtts import Xtts

from voiceclone.audio.chunk import AudioChunk
from voiceclone.engines.base import VoiceProfile, VoiceSample
from voiceclone.engines.xtts import NAME, VERSION, verified_release
from voiceclone.errors import InvalidRequest, InvalidText
from voiceclone.settings import Settings, get_settings
from voiceclone.text.language import resolve_language
from voiceclone.text.split import iter_text_chunks

#: Our language codes -> XTTS's.
XTTS_LANGUAGE = {
    "en-us": "en",
    "en-gb": "en",
    "ko": "ko",
    "zh": "zh-cn",
    "es": "es",
    "fr": "fr",
    "it": "it",
    "pt": "pt",
    "hi": "hi",
    "ja": "ja",
}
#: XTTS's per-language text limit (characters) when a span is not given one.
DEFAULT_CHAR_LIMIT = 250
GPT_COND_SECONDS = 30
GPT_COND_CHUNK_SECONDS = 6
METHOD = "xtts-conditioning-latents"


def _device(settings: Settings) -> torch.device:
    if settings.device == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


class XttsEngine:
    name = NAME
    version = VERSION

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        release = verified_release(self.settings.xtts_dir)
        self.config = XttsConfig()
        self.config.load_json(str(release / "config.json"))
        self.sample_rate = int(self.config.audio.output_sample_rate)
        self.device = _device(self.settings)
        model = Xtts.init_from_config(self.config)
        model.load_checkpoint(self.config, checkpoint_dir=str(release), eval=True)
        self._half = self.settings.xtts_half_precision and self.device.type == "cuda"
        self.model = model.to(self.device)
        if self._half:
            self.model = self.model.half()
        self._lock = threading.Lock()  # one generation at a time per loaded model

    def warm_up(self) -> None:
        pass

    # -- voices --------------------------------------------------------------------------

    def _stock_speakers(self) -> dict[str, dict[str, torch.Tensor]]:
        manager = self.model.speaker_manager
        return dict(manager.speakers) if manager is not None else {}

    def stock_voice_names(self) -> list[str]:
        return sorted(self._stock_speakers())

    def stock_voice(self, name: str) -> VoiceProfile:
        speakers = self._stock_speakers()
        if name not in speakers:
            raise KeyError(name)
        speaker = speakers[name]
        return self._profile(speaker["gpt_cond_latent"], speaker["speaker_embedding"], "stock")

    def create_voice(
        self, samples: Sequence[VoiceSample], languages: Sequence[str] = ()
    ) -> VoiceProfile:
        """The conditioning latents of all samples (their audio joined) and the mean of their
        speaker embeddings, as coqui-tts computes them for a list of reference files."""
        if not samples:
            raise InvalidRequest("A voice needs at least one recording.")
        clips = [
            torch.from_numpy(np.ascontiguousarray(s.samples, dtype=np.float32)) for s in samples
        ]
        rate = samples[0].sample_rate
        with torch.inference_mode(), self._lock:
            embeddings = [
                self.model.get_speaker_embedding(clip[None, :].to(self.device), rate)
                for clip in clips
            ]
            latents = self.model.get_gpt_cond_latents(
                torch.cat(clips)[None, :].to(self.device),
                rate,
                length=GPT_COND_SECONDS,
                chunk_length=GPT_COND_CHUNK_SECONDS,
            )
        embedding = torch.stack(embeddings).mean(dim=0)
        profile = self._profile(latents, embedding, METHOD)
        profile.languages = list(languages)
        return profile

    def _profile(self, latents: torch.Tensor, embedding: torch.Tensor, method: str) -> VoiceProfile:
        return VoiceProfile(
            engine=NAME,
            engine_version=VERSION,
            style=latents.detach().float().cpu().numpy(),
            speaker_embedding=embedding.detach().float().cpu().numpy(),
            method=method,
        )

    # -- speech --------------------------------------------------------------------------

    def char_limit(self, language: str) -> int:
        result: int = self.model.tokenizer.char_limits.get(
            language.split("-")[0], DEFAULT_CHAR_LIMIT
        )
        return result

    def synthesize(
        self,
        text: str | Iterable[str],
        voice: VoiceProfile,
        language: str | None = None,
        speed: float = 1.0,
    ) -> Iterator[AudioChunk]:
        if voice.style is None or voice.speaker_embedding is None:
            raise InvalidRequest(
                "This voice has no XTTS profile yet; it is made from the voice's recordings.",
                code="profile_missing",
            )
        pieces = iter([text]) if isinstance(text, str) else iter(text)
        head = next((piece for piece in pieces if piece.strip()), "")
        if not head:
            raise InvalidText("There is no text to speak.", code="empty_text")
        code = resolve_language(head, language)
        if code not in XTTS_LANGUAGE:
            raise InvalidRequest(f"XTTS-v2 does not speak {code!r}.", code="unsupported_language")
        return self._stream(chain([head], pieces), voice, XTTS_LANGUAGE[code], speed)

    def _stream(
        self, pieces: Iterable[str], voice: VoiceProfile, language: str, speed: float
    ) -> Iterator[AudioChunk]:
        limit = self.char_limit(language)
        first = min(self.settings.first_chunk_max_chars, limit)
        if voice.style is None or voice.speaker_embedding is None:
            raise ValueError("This voice profile has no XTTS-v2 conditioning.")
        latents = self._tensor(voice.style)
        embedding = self._tensor(voice.speaker_embedding)
        index = 0
        for span in iter_text_chunks(pieces, first, limit):
            for wav in self._span_chunks(span, language, latents, embedding, speed):
                samples = wav.detach().float().cpu().numpy().astype(np.float32).reshape(-1)
                if samples.size == 0:
                    continue
                yield AudioChunk(np.clip(samples, -1.0, 1.0), self.sample_rate, span, index)
                index += 1

    def _span_chunks(
        self,
        span: str,
        language: str,
        latents: torch.Tensor,
        embedding: torch.Tensor,
        speed: float,
    ) -> Iterator[torch.Tensor]:
        # inference_stream runs each step in inference mode itself (it may be resumed from
        # another thread); the lock keeps one generation at a time on this model.
        with self._lock:
            yield from self.model.inference_stream(
                span,
                language,
                latents,
                embedding,
                stream_chunk_size=self.settings.xtts_stream_chunk_tokens,
                speed=speed,
                enable_text_splitting=False,  # our splitter already kept spans in the limit
            )

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(array)).to(self.device)
        return tensor.half() if self._half else tensor
