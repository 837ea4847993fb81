"""Names and pieces the streaming routes share: OpenAI's model and voice names mapped to
this server's engines and voices, a voice reference resolved to its profile, and
:class:`TextFeed`, which carries text arriving over a WebSocket to the speech pipeline.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterable, Iterator

from sqlalchemy.orm import Session

from voiceclone.engines.base import Engine, VoiceProfile
from voiceclone.errors import InvalidRequest, NotFound
from voiceclone.services.voices import find_voice
from voiceclone.storage.base import ObjectStore

#: Voice names of OpenAI's speech API, mapped to the closest stock voice, so clients written
#: for OpenAI work unchanged. A voice of the caller's with the same name takes precedence.
OPENAI_VOICE_ALIASES: dict[str, str] = {
    "alloy": "af_alloy",
    "ash": "am_adam",
    "ballad": "bm_fable",
    "cedar": "am_michael",
    "coral": "af_heart",
    "echo": "am_echo",
    "fable": "bm_fable",
    "marin": "af_bella",
    "nova": "af_nova",
    "onyx": "am_onyx",
    "sage": "af_sarah",
    "shimmer": "af_sky",
    "verse": "am_puck",
}

#: Dated snapshots of OpenAI's model, such as gpt-4o-mini-tts-2025-03-20.
DATED_MODEL = re.compile(r"gpt-4o-mini-tts-[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: OpenAI's speech model names, accepted as aliases of the engine this server runs.
OPENAI_MODEL_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")


#: Model names that pick an engine besides its own name.
ENGINE_MODEL_NAMES = {"xtts-v2": "xtts"}


def openai_model_ids(engines: Iterable[Engine]) -> list[str]:
    """The ``model`` values this server takes: each engine's name (and other names for
    it), then OpenAI's, which mean the default engine."""
    names = [engine.name for engine in engines]
    extra = [model for model, name in ENGINE_MODEL_NAMES.items() if name in names]
    return [*names, *extra, *OPENAI_MODEL_ALIASES]


def check_openai_model(engines: Iterable[Engine], model: str) -> None:
    """Accept the engines' names and OpenAI's TTS model names (dated ones included)."""
    models = openai_model_ids(engines)
    if model not in models and not DATED_MODEL.fullmatch(model):
        raise InvalidRequest(
            f"Unknown model {model!r}; available: {', '.join(models)}.", code="model_not_found"
        )


def engine_for_model(engines: dict[str, Engine], default: Engine, model: str) -> Engine:
    """The engine an OpenAI ``model`` names; OpenAI's own names mean the default one."""
    check_openai_model(engines.values(), model)
    name = ENGINE_MODEL_NAMES.get(model, model)
    return engines.get(name, default)


def resolve_voice(
    session: Session,
    engine: Engine,
    owner: str,
    voice_ref: str,
    store: ObjectStore | None,
    openai_aliases: bool = False,
) -> VoiceProfile:
    """The profile a voice reference names (see ``find_voice``); with ``openai_aliases``,
    OpenAI's voice names too (``alloy``, ``nova``...), unless the caller has such a voice."""
    try:
        return find_voice(session, engine, owner, voice_ref, store).profile
    except NotFound:
        alias = OPENAI_VOICE_ALIASES.get((voice_ref or "").strip().lower())
        if not openai_aliases or alias is None or alias not in engine.stock_voice_names():
            raise
        return engine.stock_voice(alias)


class TextFeed:
    """Text arriving in pieces (e.g. from a WebSocket) as a blocking iterator for the engine.

    ``put`` pieces from any thread; ``end`` finishes the text; ``abort`` also ends it but
    marks the utterance as abandoned (the consumer stops as soon as it looks).
    """

    _END = object()

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.aborted = threading.Event()

    def put(self, text: str) -> None:
        if text:
            self._queue.put(text)

    def end(self) -> None:
        self._queue.put(self._END)

    def abort(self) -> None:
        self.aborted.set()
        self._queue.put(self._END)

    def __iter__(self) -> Iterator[str]:
        while True:
            item = self._queue.get()
            if item is self._END or self.aborted.is_set():
                return
            yield item  # type: ignore[misc]
