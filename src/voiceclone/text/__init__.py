"""Text preparation for the TTS engines: language, normalization, splitting, phonemes.

- :mod:`voiceclone.text.language`: supported languages, aliases and script detection.
- :mod:`voiceclone.text.normalize`: clean-up and numbers read out (English, Korean).
- :mod:`voiceclone.text.split`: streaming sentence and chunk splitting, file reading.
- :mod:`voiceclone.text.phonemize`: espeak-ng phonemes with cached backends.
- :mod:`voiceclone.text.korean_g2p`: Hangul to IPA with Korean pronunciation rules.
"""
