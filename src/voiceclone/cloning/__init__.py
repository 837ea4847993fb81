"""Turning reference recordings into something an engine can speak with."""
