"""Object storage for voice samples and job results, behind one small interface."""

from voiceclone.storage.base import ObjectStore
from voiceclone.storage.layout import checked_key, new_voice_key, result_key, validate_owner
from voiceclone.storage.obstore_store import ObstoreStore, open_store

__all__ = [
    "ObjectStore",
    "ObstoreStore",
    "checked_key",
    "new_voice_key",
    "open_store",
    "result_key",
    "validate_owner",
]
