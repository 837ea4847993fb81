"""Cloned voices: made once from uploaded recordings, stored, listed, renamed and deleted.

Every function is scoped to an owner: another owner's voice, or an id that is not a voice
id at all, is NotFound (never "forbidden", so existence does not leak).
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from voiceclone.db.models import Voice, utcnow
from voiceclone.engines.base import Engine, VoiceProfile, VoiceSample
from voiceclone.errors import Conflict, InvalidAudio, InvalidRequest, NotFound
from voiceclone.services.ownership import find_owned, get_owned
from voiceclone.services.speech import load_reference, make_profile
from voiceclone.settings import get_settings
from voiceclone.storage.base import ObjectStore
from voiceclone.storage.keys import checked_key, new_voice_key, validate_owner
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
) -> VoiceInfo:
    """Validate every recording, compute the profile, then store samples and the row.

    Bad audio raises InvalidAudio (naming the file) before anything is stored.
    """
    validate_owner(owner)
    name = _checked_name(name)
    uploads = [_as_upload(file) for file in files]
    if not uploads:
        raise InvalidAudio("No reference recordings were given.")
    language_code = resolve_language("", language) if language else None
    samples = [_load_sample(upload, engine.sample_rate) for upload in uploads]
    profile = make_profile(engine, samples, [language_code] if language_code else [])
    sample_keys = _store_samples(store, owner, uploads)
    try:
        voice = Voice(
            owner=owner,
            name=name,
            language=language_code,
            engine=profile.engine,
            method=profile.method,
            profile=profile.to_json(),
            sample_keys=sample_keys,
            sample_seconds=round(sum(len(s.samples) / s.sample_rate for s in samples), 3),
        )
        session.add(voice)
        session.commit()
    except BaseException:
        session.rollback()
        _delete_quietly(store, sample_keys)
        raise
    return _info(voice)


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    limit = get_settings().max_voice_name_chars
    if not name:
        raise InvalidRequest("A voice needs a name.", code="invalid_name")
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
            key = new_voice_key(owner, upload.extension)
            content_type, _ = mimetypes.guess_type(f"sample.{upload.extension}")
            store.put_file(key, upload.path, content_type)
            keys.append(key)
    except BaseException:
        _delete_quietly(store, keys)
        raise
    return keys


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
    voice.name = _checked_name(name)
    voice.updated_at = utcnow()
    session.commit()
    return _info(voice)


def delete_voice(session: Session, store: ObjectStore, owner: str, voice_id: str) -> None:
    """Remove the voice's row (and so its profile), then its stored samples."""
    voice = _owned_voice(session, owner, voice_id)
    sample_keys = list(voice.sample_keys)
    session.delete(voice)
    session.commit()
    _delete_quietly(store, sample_keys)


def preview_text(language: str | None = None) -> str:
    """A short sentence to hear a voice by, in ``language`` (default English)."""
    code = resolve_language("", language) if language else DEFAULT_LANGUAGE
    return PREVIEW_TEXTS.get(code, PREVIEW_TEXTS[DEFAULT_LANGUAGE])


# -- resolving references -----------------------------------------------------------------


def resolve_voice(session: Session, engine: Engine, owner: str, ref: str) -> VoiceProfile:
    """The profile ``ref`` names; see :func:`find_voice`."""
    return find_voice(session, engine, owner, ref).profile


def find_voice(session: Session, engine: Engine, owner: str, ref: str) -> ResolvedVoice:
    """Resolve a voice id, a voice name (newest wins), a sample key of the caller's
    (``voices/{owner}/….wav``), or a stock voice name — in that order.
    """
    ref = (ref or "").strip()
    voice = (
        _voice_by_id(session, owner, ref)
        or _newest_voice_named(session, owner, ref)
        or _voice_with_sample(session, owner, ref)
    )
    if voice is not None:
        return ResolvedVoice(profile=_profile_of(voice, engine), voice_id=str(voice.id))
    if ref and ref in engine.stock_voice_names():
        return ResolvedVoice(profile=engine.stock_voice(ref), stock_name=ref)
    raise NotFound(
        f"Unknown voice {ref[:120]!r}: it is not the id or name of one of your voices, "
        "a sample you uploaded, or a stock voice."
    )


def voice_profile(session: Session, engine: Engine, owner: str, voice_id: str) -> VoiceProfile:
    """The stored profile of one of ``owner``'s voices, by id."""
    return _profile_of(_owned_voice(session, owner, voice_id), engine)


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


def _profile_of(voice: Voice, engine: Engine) -> VoiceProfile:
    profile = VoiceProfile.from_json(voice.profile)
    if profile.engine != engine.name:
        raise Conflict(
            f"Voice {voice.name!r} was made for the {profile.engine!r} engine; this server "
            f"runs {engine.name!r}. Upload its recordings again to use it here.",
            code="voice_engine_mismatch",
        )
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
    )
