"""Consent before cloning, in the mode the operator chose (``VOICECLONE_CONSENT``):

- ``attest``: the caller confirms a versioned statement (form field ``consent=true``);
- ``spoken``: the speaker reads a one-time sentence with a confirmation code. It is
  accepted only if speech recognition hears the sentence and the code, the reader's voice
  matches the voice samples, the challenge is unused and unexpired, and the recording
  does not carry this service's watermark (a recording the service made itself);
- ``off``: the operator handles consent elsewhere.

The evidence (statement or challenge, transcript, scores, key id, time) is stored with the
voice; the consent recording is stored beside its samples, owner-only, deleted with it.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import soxr
from sqlalchemy import update
from sqlalchemy.orm import Session

from voiceclone.audio.decode import decode_audio
from voiceclone.audio.reference import prepare_reference
from voiceclone.cloning.embedder import SAMPLE_RATE as EMBED_RATE
from voiceclone.cloning.embedder import SpeakerEmbedder, cosine
from voiceclone.db.models import ConsentChallenge, utcnow
from voiceclone.db.session import rows_changed
from voiceclone.engines.base import VoiceSample
from voiceclone.errors import InvalidAudio, InvalidRequest, VoiceCloneError
from voiceclone.safety.marks import detect_watermark
from voiceclone.services import audit
from voiceclone.services.ownership import find_owned
from voiceclone.settings import Settings, get_settings
from voiceclone.text.compare import edit_distance, normalise_words

log = logging.getLogger(__name__)

ATTEST_VERSION = "attest-v1"
ATTEST_STATEMENT = (
    "I confirm that the voice in these recordings is my own, or that its speaker has given "
    "me explicit permission to clone it, and that I will not use the cloned voice to "
    "deceive, defraud or harm anyone."
)
CHALLENGE_LANGUAGES = ("en", "ko")
CODE_DIGITS = 4
ASR_RATE = 16_000
MAX_CODE_ERRORS = 1
TRUTHY = frozenset({"true", "1", "yes", "on"})
#: Number words a reader may say for each digit (whisper writes digits or words).
DIGIT_WORDS = {
    "en": {
        "zero": "0", "oh": "0", "o": "0", "one": "1", "won": "1", "two": "2", "to": "2",
        "too": "2", "three": "3", "four": "4", "for": "4", "five": "5", "six": "6",
        "seven": "7", "eight": "8", "ate": "8", "nine": "9",
    },
    "ko": {
        "영": "0", "공": "0", "일": "1", "이": "2", "삼": "3", "사": "4", "오": "5",
        "육": "6", "륙": "6", "칠": "7", "팔": "8", "구": "9",
    },
}  # fmt: skip
CODE_MARKERS = {"en": "code", "ko": "코드"}


class ConsentRefused(VoiceCloneError):
    """The request did not show the speaker's consent; the message says which test failed."""

    code = "consent_refused"
    status = 400


class ConsentRequired(ConsentRefused):
    code = "consent_required"


@dataclass(frozen=True)
class ConsentClaim:
    """What the caller sent about consent with a new voice."""

    attested: bool = False
    challenge_id: str | None = None
    recording: Path | None = None
    recording_name: str = ""

    @classmethod
    def from_form(
        cls, consent: str | None, challenge: str | None, recording: Path | None, name: str = ""
    ) -> ConsentClaim:
        return cls(
            attested=(consent or "").strip().lower() in TRUTHY,
            challenge_id=(challenge or "").strip() or None,
            recording=recording,
            recording_name=name,
        )


@dataclass
class ConsentEvidence:
    """Stored with the voice (``voices.consent``)."""

    mode: str
    key_id: str | None
    accepted_at: str
    statement_version: str | None = None
    statement: str | None = None
    challenge_id: str | None = None
    challenge_text: str | None = None
    transcript: str | None = None
    sentence_cer: float | None = None
    code_heard: str | None = None
    speaker_similarity: float | None = None
    watermark_score: float | None = None
    recording_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value not in (None, {})}


@dataclass(frozen=True)
class Challenge:
    id: str
    language: str
    text: str
    expires_at: datetime


def warn_if_consent_off(settings: Settings) -> None:
    """Say at start-up when nobody is asked for consent."""
    if settings.consent == "off":
        log.warning(
            "CONSENT IS OFF (VOICECLONE_CONSENT=off): voices are cloned without asking for "
            "the speaker's consent. Use this only if consent is collected elsewhere."
        )


@dataclass
class Verdict:
    """Consent accepted: what to store with the voice, and the challenge to consume."""

    evidence: ConsentEvidence | None
    challenge: ConsentChallenge | None = None
    recording: Path | None = None


def verify(
    session: Session,
    owner: str,
    claim: ConsentClaim | None,
    samples: list[VoiceSample],
    key_id: str | None,
    settings: Settings | None = None,
) -> Verdict:
    """Check consent in the configured mode. A refusal is written to the audit log, then
    raised (:class:`ConsentRefused`, 400, naming the test that failed)."""
    chosen = settings or get_settings()
    claim = claim or ConsentClaim()
    try:
        if chosen.consent == "off":
            evidence = ConsentEvidence(mode="off", key_id=key_id, accepted_at=utcnow().isoformat())
            return Verdict(evidence)
        if chosen.consent == "attest":
            return Verdict(check_attestation(claim, key_id))
        evidence, challenge = check_spoken(session, owner, claim, samples, key_id, chosen)
        return Verdict(evidence, challenge, claim.recording)
    except (ConsentRefused, InvalidAudio) as refusal:
        audit.record_now(
            session,
            "consent.refused",
            owner,
            key_id,
            claim.challenge_id,
            {"mode": chosen.consent, "reason": refusal.message[:300]},
        )
        raise


# -- attest ---------------------------------------------------------------------------------


def attest_required_message() -> str:
    return (
        "Creating a voice needs the speaker's consent: send the form field consent=true to "
        f'confirm this statement ({ATTEST_VERSION}): "{ATTEST_STATEMENT}"'
    )


def check_attestation(claim: ConsentClaim, key_id: str | None) -> ConsentEvidence:
    if not claim.attested:
        raise ConsentRequired(attest_required_message())
    return ConsentEvidence(
        mode="attest",
        key_id=key_id,
        accepted_at=utcnow().isoformat(),
        statement_version=ATTEST_VERSION,
        statement=ATTEST_STATEMENT,
    )


# -- spoken ---------------------------------------------------------------------------------


def new_challenge(
    session: Session, owner: str, language: str, settings: Settings | None = None
) -> Challenge:
    """A sentence with a fresh one-time code for ``owner`` to read aloud (committed)."""
    chosen = settings or get_settings()
    code_language = (language or "").strip().lower()
    if code_language not in CHALLENGE_LANGUAGES:
        raise InvalidRequest(
            f"Consent challenges are in {' or '.join(CHALLENGE_LANGUAGES)}; got {language!r}.",
            code="unsupported_language",
        )
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    template = chosen.consent_text_ko if code_language == "ko" else chosen.consent_text_en
    row = ConsentChallenge(
        owner=owner,
        language=code_language,
        text=template.replace("{code}", " ".join(code)),
        code=code if "{code}" in template else "",
        expires_at=utcnow() + timedelta(seconds=chosen.consent_challenge_ttl_seconds),
    )
    session.add(row)
    session.commit()
    return Challenge(str(row.id), row.language, row.text, row.expires_at)


def check_spoken(
    session: Session,
    owner: str,
    claim: ConsentClaim,
    samples: list[VoiceSample],
    key_id: str | None,
    settings: Settings | None = None,
) -> tuple[ConsentEvidence, ConsentChallenge]:
    """Run every test of spoken consent; :class:`ConsentRefused` names the one that failed.
    The challenge is returned unconsumed: :func:`consume` it when the voice is stored."""
    chosen = settings or get_settings()
    if not claim.challenge_id or claim.recording is None:
        raise ConsentRequired(
            "Creating a voice needs the speaker's spoken consent: get a sentence from "
            "POST /v1/consent/challenges, record the speaker reading it, and send the form "
            "fields consent_challenge (its id) and consent_recording (the recording)."
        )
    challenge = _usable_challenge(session, owner, claim.challenge_id, chosen)
    try:
        audio = decode_audio(claim.recording, ASR_RATE)
    except InvalidAudio as error:
        raise InvalidAudio(f"Consent recording: {error.message}") from error
    mark = detect_watermark(audio, ASR_RATE, chosen)
    if mark.detected:
        raise ConsentRefused(
            "Consent refused (watermark test): the consent recording was made by this speech "
            "service, not by a person. The speaker must read the sentence themselves."
        )
    transcript = transcribe(audio, challenge.language)
    cer = sentence_error(challenge, transcript)
    if cer > chosen.consent_max_cer:
        raise ConsentRefused(
            f"Consent refused (sentence test): the recording does not say the consent "
            f'sentence. We heard: "{transcript.strip()[:200]}" — {cer:.0%} of the characters '
            f"differ, at most {chosen.consent_max_cer:.0%} may."
        )
    heard = heard_code(challenge, transcript)
    if challenge.code and edit_distance(list(challenge.code), list(heard)) > MAX_CODE_ERRORS:
        raise ConsentRefused(
            f"Consent refused (code test): the confirmation code {' '.join(challenge.code)} "
            f"was not heard (we heard {' '.join(heard) or 'no digits'}). Read it again."
        )
    similarity = speaker_similarity(audio, samples)
    if similarity < chosen.consent_speaker_threshold:
        raise ConsentRefused(
            "Consent refused (speaker test): the person reading the consent sentence does "
            "not sound like the person in the voice samples "
            f"(similarity {similarity:.2f}, at least {chosen.consent_speaker_threshold:.2f} "
            "needed). The speaker of the samples must read it."
        )
    evidence = ConsentEvidence(
        mode="spoken",
        key_id=key_id,
        accepted_at=utcnow().isoformat(),
        challenge_id=str(challenge.id),
        challenge_text=challenge.text,
        transcript=transcript.strip(),
        sentence_cer=round(cer, 4),
        code_heard=heard or None,
        speaker_similarity=round(similarity, 4),
        watermark_score=mark.score,
    )
    return evidence, challenge


def consume(session: Session, challenge: ConsentChallenge) -> None:
    """Mark the challenge used, in the caller's transaction; a challenge used meanwhile by
    another request is refused (the transaction must then be rolled back)."""
    used = rows_changed(
        session,
        update(ConsentChallenge)
        .where(ConsentChallenge.id == challenge.id, ConsentChallenge.used_at.is_(None))
        .values(used_at=utcnow()),
    )
    if used == 0:
        raise ConsentRefused("Consent refused (challenge test): this challenge was already used.")


def _usable_challenge(
    session: Session, owner: str, challenge_id: str, settings: Settings
) -> ConsentChallenge:
    challenge = find_owned(session, ConsentChallenge, owner, challenge_id)
    if challenge is None:
        raise ConsentRefused(
            f"Consent refused (challenge test): no consent challenge {challenge_id[:80]!r} of "
            "yours exists. Ask for one with POST /v1/consent/challenges."
        )
    if challenge.used_at is not None:
        raise ConsentRefused(
            "Consent refused (challenge test): this challenge was already used; ask for a new one."
        )
    if challenge.expires_at <= utcnow():
        raise ConsentRefused(
            "Consent refused (challenge test): this challenge has expired; ask for a new one "
            "and record it within "
            f"{settings.consent_challenge_ttl_seconds // 60} minutes."
        )
    return challenge


# -- the tests' measurements ----------------------------------------------------------------


def _code_tail(text: str, language: str) -> tuple[str, str]:
    """``text`` (NFKC, lower case) split before and after its last code marker."""
    text = unicodedata.normalize("NFKC", text).lower()
    marker = CODE_MARKERS[language]
    index = text.rfind(marker)
    if index < 0:
        return text, ""
    return text[: index + len(marker)], text[index + len(marker) :]


def _digits(tail: str, language: str) -> str:
    """The digits said in ``tail``: written as digits or as number words."""
    words = DIGIT_WORDS[language]
    digits = []
    for token in re.findall(r"\d|[^\W\d_]+", tail):
        if token.isdigit():
            digits.append(token)
        elif language == "ko":
            digits.extend(words[ch] for ch in token if ch in words)
        elif token in words:
            digits.append(words[token])
    return "".join(digits)


def _comparable(text: str, language: str) -> list[str]:
    """Letters and digits of ``text``, the code read after its marker turned into digits."""
    head, tail = _code_tail(text, language)
    return list("".join(normalise_words(head)) + _digits(tail, language))


def sentence_error(challenge: ConsentChallenge, transcript: str) -> float:
    """Character error rate of what was heard against the whole sentence (code included)."""
    expected = _comparable(challenge.text, challenge.language)
    heard = _comparable(transcript, challenge.language)
    return edit_distance(expected, heard) / max(1, len(expected))


def heard_code(challenge: ConsentChallenge, transcript: str) -> str:
    """The digits heard after the code marker (or anywhere, if it was not heard)."""
    head, tail = _code_tail(transcript, challenge.language)
    digits = _digits(tail if tail else head, challenge.language)
    return digits[-max(len(challenge.code), CODE_DIGITS) :]


def speaker_similarity(audio_16k: np.ndarray, samples: list[VoiceSample]) -> float:
    """Cosine of d-vectors: the consent reading against the pooled voice samples."""
    embedder = _embedder()
    try:
        reading = prepare_reference(audio_16k, ASR_RATE)
    except InvalidAudio as error:
        raise InvalidAudio(f"Consent recording: {error.message}") from error
    pooled = np.concatenate(
        [soxr.resample(sample.samples, sample.sample_rate, EMBED_RATE) for sample in samples]
    )
    return cosine(embedder.embed(reading), embedder.embed(pooled))


@lru_cache(maxsize=1)
def _embedder() -> SpeakerEmbedder:
    from voiceclone.assets.paths import require_engine_assets

    return SpeakerEmbedder(require_engine_assets().embedder)


_whisper_lock = threading.Lock()


@lru_cache(maxsize=1)
def _whisper() -> Any:
    from faster_whisper import WhisperModel

    from voiceclone.assets.paths import require_asr_assets

    return WhisperModel(str(require_asr_assets().whisper_dir), device="cpu", compute_type="int8")


def transcribe(audio_16k: np.ndarray, language: str) -> str:
    """What faster-whisper (the pinned base model) hears, greedy, in ``language``."""
    with _whisper_lock:
        segments, _ = _whisper().transcribe(
            audio_16k.astype(np.float32), language=language, beam_size=1, vad_filter=False
        )
        return " ".join(segment.text.strip() for segment in segments)
