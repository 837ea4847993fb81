"""Cloned voices: made once from uploaded recordings, stored, listed, renamed and deleted.

Every function is scoped to an owner: another owner's voice, or an id that is not a voice
id at all, is NotFound (never "forbidden", so existence does not leak).
"""

from __future__ import annotations

import logging
import mimetypes
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from voiceclone.db.models import Voice, VoiceEngineProfile, utcnow
from voiceclone.engines.base import Engine, VoiceProfile, VoiceSample
from voiceclone.errors import Conflict, InvalidAudio, InvalidRequest, NotFound, VoiceCloneError
from voiceclone.metrics import UPLOADS_REFUSED, VOICES_CREATED
from voiceclone.safety.consent import ConsentClaim, ConsentEvidence, Verdict, consume
from voiceclone.safety.consent import verify as verify_consent
from voiceclone.services import audit
from voiceclone.services.ownership import find_owned, get_owned
from voiceclone.services.speech import load_reference, make_profile
from voiceclone.services.validation import has_control_characters, trimmed
from voiceclone.services.voice_quality import assess_quality
from voiceclone.settings import Settings, get_settings
from voiceclone.storage.base import ObjectStore
from voiceclone.storage.layout import KeyKind, checked_key, new_key, validate_owner
from voiceclone.text.language import DEFAULT_LANGUAGE, resolve_language

log = logging.getLogger(__name__)

#: One upload: a path, or a path with the file name the client gave it.
VoiceFile = Path | tuple[Path, str]

UNKNOWN_EXTENSION = "bin"
_EXTENSION = re.compile(r"[a-z0-9]{1,16}")

PREVIEW_TEXTS: dict[str, str] = {
    "en-us": "Hello! This is a preview of my voice. How does it sound to you?",
    "en-gb": "Hello! This is a preview of my voice. How does it sound to you?",
    "ko": "안녕하세요! 제 목소리 미리 듣기입니다. 어떻게 들리나요?",
    "ja": "こんにちは！これは私の声のプレビューです。どう聞こえますか？",
    "zh": "你好！这是我的声音预览。你觉得听起来怎么样？",
    "es": "¡Hola! Esta es una muestra de mi voz. ¿Qué te parece?",
    "fr": "Bonjour ! Voici un aperçu de ma voix. Qu'en pensez-vous ?",
    "it": "Ciao! Questa è un'anteprima della mia voce. Come ti sembra?",
    "pt": "Olá! Esta é uma prévia da minha voz. O que você acha?",
    "hi": "नमस्ते! यह मेरी आवाज़ का नमूना है। आपको कैसी लगी?",
}


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    owner: str
    name: str
    language: str | None
    method: str
    sample_keys: list[str]
    sample_seconds: float
    created_at: datetime
    updated_at: datetime
    quality: dict[str, Any] | None = None


@dataclass(frozen=True)
class ResolvedVoice:
    """What a voice reference named: a profile, and the caller's voice row or stock name."""

    profile: VoiceProfile
    voice_id: str | None = None
    stock_name: str | None = None


@dataclass(frozen=True)
class _Upload:
    path: Path
    file_name: str
    extension: str


# -- creating -----------------------------------------------------------------------------


def create_voice(
    session: Session,
    store: ObjectStore,
    engine: Engine,
    owner: str,
    name: str,
    files: Sequence[VoiceFile],
    language: str | None = None,
    *,
    consent: ConsentClaim | None = None,
    actor_key_id: str | None = None,
    settings: Settings | None = None,
) -> VoiceInfo:
    """Validate every recording, check consent, compute the profile, then store samples
    and the row (with the consent evidence).

    Bad audio raises InvalidAudio (naming the file) and missing or refused consent
    ConsentRefused, before anything is stored.
    """
    try:
        info = _create_voice(
            session, store, engine, owner, name, files, language, consent, actor_key_id, settings
        )
    except VoiceCloneError as refusal:
        if refusal.status < 500:
            UPLOADS_REFUSED.labels(refusal.code).inc()
        raise
    VOICES_CREATED.inc()
    return info


def _create_voice(
    session: Session,
    store: ObjectStore,
    engine: Engine,
    owner: str,
    name: str,
    files: Sequence[VoiceFile],
    language: str | None,
    consent: ConsentClaim | None,
    actor_key_id: str | None,
    settings: Settings | None,
) -> VoiceInfo:
    validate_owner(owner)
    name = check_voice_name(name)
    uploads = [_as_upload(file) for file in files]
    if not uploads:
        raise InvalidAudio("No reference recordings were given.")
    language_code = resolve_language("", language) if language else None
    samples = [_load_sample(upload, engine.sample_rate) for upload in uploads]
    verdict = verify_consent(session, owner, consent, samples, actor_key_id, settings)
    profile = make_profile(engine, samples, [language_code] if language_code else [])
    quality = assess_quality(samples, profile)
    stored = _store_samples(store, owner, uploads)
    with _kept_only_if_committed(session, store, stored):
        evidence = _store_consent_recording(store, owner, verdict, consent, stored)
        voice = Voice(
            owner=owner,
            name=name,
            language=language_code,
            engine=profile.engine,
            method=profile.method,
            profile=profile.to_json(),
            sample_keys=stored[: len(uploads)],
            sample_seconds=round(sum(len(s.samples) / s.sample_rate for s in samples), 3),
            consent=evidence.as_json() if evidence else None,
            quality=quality.as_json(),
        )
        session.add(voice)
        if verdict.challenge is not None:
            consume(session, verdict.challenge)
        session.flush()
        mode = evidence.mode if evidence else "none"
        audit.record(
            session, "consent.accepted", owner, actor_key_id, str(voice.id), {"mode": mode}
        )
        audit.record(session, "voice.created", owner, actor_key_id, str(voice.id), {"name": name})
        session.commit()
    return _info(voice)


ADDED_CONSENT = "added"
"""In a voice's consent evidence: the evidence given with each set of added recordings."""
MAX_VOICE_RECORDINGS = 20
"""Recordings one voice is made from, at most: more add little and slow every rebuild."""


def consent_recording_keys(consent: dict[str, Any] | None) -> list[str]:
    """The stored consent recordings a voice's evidence names (its own and added ones')."""
    if not consent:
        return []
    evidence = [consent, *consent.get(ADDED_CONSENT, [])]
    return [item["recording_key"] for item in evidence if item.get("recording_key")]


def voice_engine(session: Session, owner: str, voice_id: str) -> str:
    """The name of the engine that made the caller's voice."""
    return _owned_voice(session, owner, voice_id).engine


def add_samples(
    session: Session,
    store: ObjectStore,
    engine: Engine,
    owner: str,
    voice_id: str,
    files: Sequence[VoiceFile],
    folder: Path,
    *,
    consent: ConsentClaim | None = None,
    actor_key_id: str | None = None,
    settings: Settings | None = None,
) -> VoiceInfo:
    """Add recordings to a voice and rebuild its profile from all of them (the stored ones
    are fetched into ``folder``). Refused, with nothing changed, like a new voice's
    recordings: bad audio, missing consent, or more than MAX_VOICE_RECORDINGS in all."""
    voice = _owned_voice(session, owner, voice_id)
    uploads = [_as_upload(file) for file in files]
    if not uploads:
        raise InvalidAudio("No recordings were given.")
    if len(voice.sample_keys) + len(uploads) > MAX_VOICE_RECORDINGS:
        raise InvalidRequest(
            f"A voice is made from at most {MAX_VOICE_RECORDINGS} recordings; this one has "
            f"{len(voice.sample_keys)}. Make a new voice for more.",
            code="too_many_recordings",
        )
    added = [_load_sample(upload, engine.sample_rate) for upload in uploads]
    verdict = verify_consent(session, owner, consent, added, actor_key_id, settings)
    with tempfile.TemporaryDirectory(prefix="samples-", dir=folder) as fetched:
        kept = [
            _fetch_sample(store, key, Path(fetched), engine.sample_rate)
            for key in voice.sample_keys
        ]
    samples = kept + added
    profile = make_profile(engine, samples, [voice.language] if voice.language else [])
    quality = assess_quality(samples, profile)
    stored = _store_samples(store, owner, uploads)
    with _kept_only_if_committed(session, store, stored):
        details: dict[str, Any] = {"recordings": len(stored)}
        evidence = _store_consent_recording(store, owner, verdict, consent, stored)
        if evidence is not None:  # kept with the voice's own, for as long as the voice
            earlier = voice.consent or {}
            given = [*earlier.get(ADDED_CONSENT, []), evidence.as_json()]
            voice.consent = {**earlier, ADDED_CONSENT: given}
        voice.sample_keys = [*voice.sample_keys, *stored[: len(uploads)]]
        voice.sample_seconds = round(sum(len(s.samples) / s.sample_rate for s in samples), 3)
        voice.engine, voice.method = profile.engine, profile.method
        voice.profile = profile.to_json()
        voice.quality = quality.as_json()
        voice.updated_at = utcnow()
        # Profiles other engines made from the old recordings are rebuilt on first use.
        session.execute(delete(VoiceEngineProfile).where(VoiceEngineProfile.voice_id == voice.id))
        if verdict.challenge is not None:
            consume(session, verdict.challenge)
        audit.record(session, "voice.samples_added", owner, actor_key_id, voice_id, details)
        session.commit()
    return _info(voice)


@contextmanager
def _kept_only_if_committed(
    session: Session, store: ObjectStore, stored: list[str]
) -> Iterator[None]:
    """Objects just stored are removed again if the rows that point to them fail."""
    try:
        yield
    except BaseException:
        session.rollback()
        _delete_quietly(store, stored)
        raise


def _store_consent_recording(
    store: ObjectStore,
    owner: str,
    verdict: Verdict,
    consent: ConsentClaim | None,
    stored: list[str],
) -> ConsentEvidence | None:
    """The verdict's evidence, with its spoken-consent recording stored (added to
    ``stored``) when there is one."""
    evidence = verdict.evidence
    if verdict.recording is not None and evidence is not None:
        recording = _as_upload((verdict.recording, consent.recording_name if consent else ""))
        evidence.recording_key = _store_file(store, "consent", owner, recording)
        stored.append(evidence.recording_key)
    return evidence


def _fetch_sample(store: ObjectStore, key: str, folder: Path, sample_rate: int) -> VoiceSample:
    """A stored recording, fetched to ``folder`` and prepared as when it was uploaded."""
    path = folder / Path(key).name
    try:
        with path.open("wb") as sink:
            for block in store.iter_range(key):
                sink.write(block)
        return _load_sample(_as_upload((path, path.name)), sample_rate)
    finally:
        path.unlink(missing_ok=True)


def check_voice_name(name: str) -> str:
    """``name`` trimmed, or InvalidRequest saying what is wrong with it."""
    name = trimmed(name or "")
    limit = get_settings().max_voice_name_chars
    if not name:
        raise InvalidRequest("A voice needs a name.", code="invalid_name")
    if has_control_characters(name):
        raise InvalidRequest(
            "Voice names cannot hold control characters (such as NUL, escape or line breaks).",
            code="invalid_name",
        )
    if len(name) > limit:
        raise InvalidRequest(
            f"Voice names are at most {limit} characters; got {len(name)}.", code="invalid_name"
        )
    return name


def _as_upload(file: VoiceFile) -> _Upload:
    path, file_name = file if isinstance(file, tuple) else (file, file.name)
    suffix = Path(file_name or "").suffix.lstrip(".").lower()
    extension = suffix if _EXTENSION.fullmatch(suffix) else UNKNOWN_EXTENSION
    return _Upload(path=Path(path), file_name=file_name or Path(path).name, extension=extension)


def _load_sample(upload: _Upload, sample_rate: int) -> VoiceSample:
    try:
        return load_reference(upload.path, sample_rate, name=upload.file_name)
    except InvalidAudio as error:
        raise InvalidAudio(f"{upload.file_name}: {error.message}", code=error.code) from error


def _store_samples(store: ObjectStore, owner: str, uploads: Sequence[_Upload]) -> list[str]:
    """Upload the original files; on any failure remove those already stored."""
    keys: list[str] = []
    try:
        for upload in uploads:
            keys.append(_store_file(store, "voices", owner, upload))
    except BaseException:
        _delete_quietly(store, keys)
        raise
    return keys


def _store_file(store: ObjectStore, kind: KeyKind, owner: str, upload: _Upload) -> str:
    key = new_key(kind, owner, upload.extension)
    content_type, _ = mimetypes.guess_type(f"sample.{upload.extension}")
    store.put_file(key, upload.path, content_type)
    return key


def _delete_quietly(store: ObjectStore, keys: Sequence[str]) -> None:
    for key in keys:
        try:
            store.delete(key)
        except Exception:
            log.exception("could not delete %s", key)


# -- reading and changing -----------------------------------------------------------------


def list_voices(session: Session, owner: str) -> list[VoiceInfo]:
    """The owner's voices, newest first."""
    voices = session.scalars(
        select(Voice)
        .options(defer(Voice.profile))  # ~0.7 MB each; listing never needs it
        .where(Voice.owner == owner)
        .order_by(Voice.created_at.desc())
    )
    return [_info(voice) for voice in voices]


def get_voice(session: Session, owner: str, voice_id: str) -> VoiceInfo:
    return _info(_owned_voice(session, owner, voice_id))


def rename_voice(session: Session, owner: str, voice_id: str, name: str) -> VoiceInfo:
    voice = _owned_voice(session, owner, voice_id)
    voice.name = check_voice_name(name)
    voice.updated_at = utcnow()
    session.commit()
    return _info(voice)


def delete_voice(
    session: Session,
    store: ObjectStore,
    owner: str,
    voice_id: str,
    actor_key_id: str | None = None,
) -> None:
    """Remove the voice's stored samples and consent recording, then its row (and so its
    profiles and consent evidence). The objects go first: when the store fails, the voice
    is still there to delete again, and nothing is left unreachable."""
    voice = _owned_voice(session, owner, voice_id)
    keys = [*voice.sample_keys, *consent_recording_keys(voice.consent)]
    for key in keys:
        store.delete(key)
    session.execute(delete(VoiceEngineProfile).where(VoiceEngineProfile.voice_id == voice.id))
    session.delete(voice)
    audit.record(session, "voice.deleted", owner, actor_key_id, voice_id, {"name": voice.name})
    session.commit()


def consent_evidence(session: Session, owner: str, voice_id: str) -> dict[str, Any] | None:
    """What was stored about the speaker's consent to this voice (None: made before
    consent was recorded)."""
    return _owned_voice(session, owner, voice_id).consent


def preview_text(language: str | None = None) -> str:
    """A short sentence to hear a voice by, in ``language`` (default English)."""
    code = resolve_language("", language) if language else DEFAULT_LANGUAGE
    return PREVIEW_TEXTS.get(code, PREVIEW_TEXTS[DEFAULT_LANGUAGE])


# -- resolving references -----------------------------------------------------------------


def resolve_voice(
    session: Session, engine: Engine, owner: str, ref: str, store: ObjectStore | None = None
) -> VoiceProfile:
    """The profile ``ref`` names; see :func:`find_voice`."""
    return find_voice(session, engine, owner, ref, store).profile


def find_voice(
    session: Session, engine: Engine, owner: str, ref: str, store: ObjectStore | None = None
) -> ResolvedVoice:
    """Resolve a voice id, a voice name (newest wins), a sample key of the caller's
    (``voices/{owner}/….wav``), or a stock voice name — in that order. A voice made with
    another engine gets this engine's profile, made from its samples in ``store`` the first
    time and kept.
    """
    ref = (ref or "").strip()
    voice = _own_voice_named_by(session, owner, ref)
    if voice is not None:
        profile = _profile_of(session, voice, engine, store)
        return ResolvedVoice(profile=profile, voice_id=str(voice.id))
    if ref and ref in engine.stock_voice_names():
        return ResolvedVoice(profile=engine.stock_voice(ref), stock_name=ref)
    raise NotFound(
        f"Unknown voice {ref[:120]!r}: it is not the id or name of one of your voices, "
        "a sample you uploaded, or a stock voice."
    )


def own_voice_id(session: Session, owner: str, ref: str, engine_name: str) -> str:
    """The id of the caller's voice that ``ref`` names (id, name or sample key), for an
    engine this process does not hold: its profile is made later, by a worker that does."""
    voice = _own_voice_named_by(session, owner, (ref or "").strip())
    if voice is None:
        raise NotFound(
            f"Unknown voice {ref[:120]!r}: jobs for the {engine_name!r} engine speak with one "
            "of your voices (its id, name or a sample you uploaded)."
        )
    return str(voice.id)


def _own_voice_named_by(session: Session, owner: str, ref: str) -> Voice | None:
    return (
        _voice_by_id(session, owner, ref)
        or _newest_voice_named(session, owner, ref)
        or _voice_with_sample(session, owner, ref)
    )


def voice_profile(
    session: Session,
    engine: Engine,
    owner: str,
    voice_id: str,
    store: ObjectStore | None = None,
) -> VoiceProfile:
    """The profile of one of ``owner``'s voices for ``engine``, by id."""
    return _profile_of(session, _owned_voice(session, owner, voice_id), engine, store)


def _voice_by_id(session: Session, owner: str, ref: str) -> Voice | None:
    return find_owned(session, Voice, owner, ref)


def _newest_voice_named(session: Session, owner: str, name: str) -> Voice | None:
    if not name:
        return None
    return session.scalar(
        select(Voice)
        .where(Voice.owner == owner, Voice.name == name)
        .order_by(Voice.created_at.desc())
        .limit(1)
    )


def _voice_with_sample(session: Session, owner: str, ref: str) -> Voice | None:
    """The voice whose samples include ``ref``; NotFound for keys that are not the caller's."""
    if "/" not in ref and "%" not in ref and "\\" not in ref:
        return None
    key = checked_key(owner, ref, "voices")
    # Filtered here rather than in SQL: JSON containment differs across databases, and one
    # owner's voices are few.
    for voice in session.scalars(select(Voice).where(Voice.owner == owner)):
        if key in voice.sample_keys:
            return voice
    return None


def _owned_voice(session: Session, owner: str, voice_id: str) -> Voice:
    return get_owned(session, Voice, owner, voice_id, "voice")


def _profile_of(
    session: Session, voice: Voice, engine: Engine, store: ObjectStore | None
) -> VoiceProfile:
    if voice.engine == engine.name:
        return VoiceProfile.from_json(voice.profile)
    kept = session.get(VoiceEngineProfile, (voice.id, engine.name))
    if kept is not None and kept.engine_version == engine.version:
        return VoiceProfile.from_json(kept.profile)
    if store is None:
        raise Conflict(
            f"Voice {voice.name!r} was made with the {voice.engine!r} engine and has no "
            f"{engine.name!r} profile yet; it is made the first time the voice speaks with it.",
            code="voice_engine_mismatch",
        )
    return _make_engine_profile(session, voice, engine, store, kept)


def _make_engine_profile(
    session: Session,
    voice: Voice,
    engine: Engine,
    store: ObjectStore,
    stale: VoiceEngineProfile | None,
) -> VoiceProfile:
    """``engine``'s profile of ``voice``, from its stored samples; kept for next time."""
    samples = [
        load_reference(b"".join(store.iter_range(key)), engine.sample_rate, name=key)
        for key in voice.sample_keys
    ]
    profile = make_profile(engine, samples, [voice.language] if voice.language else [])
    if stale is not None:
        session.delete(stale)
        session.flush()
    session.add(
        VoiceEngineProfile(
            voice_id=voice.id,
            engine=engine.name,
            engine_version=engine.version,
            profile=profile.to_json(),
        )
    )
    try:
        session.commit()
    except IntegrityError:  # another process made it meanwhile: theirs is as good
        session.rollback()
    log.info("made the %s profile of voice %s from its samples", engine.name, voice.id)
    return profile


def _info(voice: Voice) -> VoiceInfo:
    return VoiceInfo(
        id=str(voice.id),
        owner=voice.owner,
        name=voice.name,
        language=voice.language,
        method=voice.method,
        sample_keys=list(voice.sample_keys),
        sample_seconds=voice.sample_seconds,
        created_at=voice.created_at,
        updated_at=voice.updated_at,
        quality=voice.quality,
    )
