"""Realistic data for schemathesis: audio parts of forms (``encoding: audio/*`` in the API
document) get real recordings of people reading, since the service refuses anything that
is not speech — which no schema can say. Loaded with ``SCHEMATHESIS_HOOKS``."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import schemathesis
import soundfile as sf
from hypothesis import strategies as st

from support.fakes import real_speech

SPEAKERS = ("en_brandon", "en_karen", "en_james", "en_susan")


def _recording(speaker: str, seconds: float = 3.0) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, real_speech(seconds, 16_000, speaker), 16_000, format="WAV")
    return buffer.getvalue()


schemathesis.openapi.media_type(
    "audio/wav", st.sampled_from([_recording(speaker) for speaker in SPEAKERS])
)


#: Form fields the schema declares as arrays of recordings: schemathesis' custom-encoding
#: generator draws a single recording for them, which no longer matches the schema.
RECORDING_LISTS = ("files",)


@schemathesis.hook
def map_case(ctx, case):
    body = case.body
    if isinstance(body, dict) and case.media_type == "multipart/form-data":
        for name in RECORDING_LISTS:
            if isinstance(body.get(name), bytes):
                body[name] = [body[name]]
    return case


def _is_custom_encoding_template(case) -> bool:
    """The coverage phase's "Multipart body with custom encoding" case fills every required
    plain field with "" whatever its schema says (an enum, a minimum length)."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    return getattr(data, "description", None) == "Multipart body with custom encoding"


FILE_PLACEHOLDER = "<file>"


def _as_sent(name: str, value: Any) -> Any:
    """A form field's value as the server receives it: text, or files (a placeholder)."""
    if isinstance(value, bytes):
        return [FILE_PLACEHOLDER] if name in RECORDING_LISTS else FILE_PLACEHOLDER
    if isinstance(value, list):
        return [FILE_PLACEHOLDER if isinstance(item, bytes) else item for item in value]
    return value if isinstance(value, str) else json.dumps(value)


def _form_schema(case) -> dict[str, Any] | None:
    content = case.operation.definition.raw.get("requestBody", {}).get("content", {})
    return content.get("multipart/form-data", {}).get("schema")


def _is_negative_form_that_is_valid(case) -> bool:
    """A form labelled "negative" that, as sent, satisfies the schema after all (e.g. a
    string drawn to break ``pattern`` that still matches it). Schemathesis can only re-check
    a body without file parts, and these forms always have them."""
    if case.media_type != "multipart/form-data" or not isinstance(case.body, dict):
        return False
    if case.meta is None or case.meta.generation.mode != schemathesis.GenerationMode.NEGATIVE:
        return False
    schema = _form_schema(case)
    if schema is None:
        return False
    sent = {name: _as_sent(name, value) for name, value in case.body.items()}
    return jsonschema.Draft202012Validator(schema).is_valid(sent)


@schemathesis.hook
def filter_case(ctx, case) -> bool:
    return not (_is_custom_encoding_template(case) or _is_negative_form_that_is_valid(case))
