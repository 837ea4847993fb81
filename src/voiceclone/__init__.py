"""voiceclone: speak any text in the voice of a short recording."""

__version__ = "0.1.0"
