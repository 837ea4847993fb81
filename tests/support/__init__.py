"""Helpers the tests share: fakes, in-process and live servers, emulators."""
