"""The HTTP service (FastAPI)."""

from voiceclone.api.app import create_app

__all__ = ["create_app"]
