"""The OpenAPI document, exact for this server: what it generates from the routes, plus what
depends on how the server is set up — the consent fields its consent mode needs, the models
its engine answers to, the configured text limit — and links between operations (a job's
id from ``POST /v1/jobs`` opens ``GET /v1/jobs/{job_id}``, ...)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from voiceclone.api.deps import held_engines, job_engine_names
from voiceclone.api.uploads import AUDIO_MEDIA_TYPE, BINARY, CONSENT_MARK
from voiceclone.services.streaming import openai_model_ids
from voiceclone.settings import Settings

CONSENT_TRUE = ["true", "1", "yes", "on"]
DATED_MODEL_PATTERN = r"^gpt-4o-mini-tts-[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: Request bodies whose "text" obeys the configurable job limit.
LIMITED_TEXT_SCHEMAS = ("JobCreate", "SpeechCreate", "LegacySynthesize")
#: operationId of the operations an id leads to, by the response field holding it.
JOB_LINKS = {
    "GetJob": "get_job_v1_jobs__job_id__get",
    "GetJobAudio": "get_job_audio_v1_jobs__job_id__audio_get",
    "GetJobCaptions": "get_job_captions_v1_jobs__job_id__captions_get",
    "CancelJob": "cancel_job_v1_jobs__job_id__cancel_post",
    "DeleteJob": "delete_job_v1_jobs__job_id__delete",
}
STREAM_RESULT = "stream_result_results_stream_get"
VOICE_LINKS = {
    "GetVoice": "get_voice_v1_voices__voice_id__get",
    "RenameVoice": "rename_voice_v1_voices__voice_id__patch",
    "DeleteVoice": "delete_voice_v1_voices__voice_id__delete",
    "PreviewVoice": "preview_voice_v1_voices__voice_id__preview_get",
    "VoiceConsent": "voice_consent_v1_voices__voice_id__consent_get",
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            settings: Settings = app.state.settings
            _consent_fields(schema, settings.consent)
            _text_limits(schema, settings.max_job_chars)
            if hasattr(app.state, "pipeline"):  # known once the app has started
                held = held_engines(app)
                _model_names(schema, openai_model_ids(held.values()))
                _engine_names(schema, "SpeechCreate", list(held))
                _engine_names(schema, "JobCreate", job_engine_names(app))
            _links(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in schema["paths"].values() for op in path.values() if isinstance(op, dict)]


def _consent_fields(schema: dict[str, Any], mode: str) -> None:
    """The fields voice uploads need in this consent mode, marked required."""
    for operation in _operations(schema):
        if not operation.pop(CONSENT_MARK, False):
            continue
        form = operation["requestBody"]["content"]["multipart/form-data"]
        properties, required = form["schema"]["properties"], form["schema"]["required"]
        if mode == "attest":
            properties["consent"] = {
                "type": "string",
                "enum": CONSENT_TRUE,
                "description": "The speaker consents (GET /v1/consent shows the statement).",
            }
            required.append("consent")
        elif mode == "spoken":
            properties["consent_challenge"] = {"type": "string", "format": "uuid"}
            properties["consent_recording"] = BINARY
            form["encoding"]["consent_recording"] = {"contentType": AUDIO_MEDIA_TYPE}
            required += ["consent_challenge", "consent_recording"]


def _text_limits(schema: dict[str, Any], max_chars: int) -> None:
    components = schema.get("components", {}).get("schemas", {})
    for name in LIMITED_TEXT_SCHEMAS:
        if name in components:
            components[name]["properties"]["text"]["maxLength"] = max_chars


def _model_names(schema: dict[str, Any], models: list[str]) -> None:
    speech = schema.get("components", {}).get("schemas", {}).get("OpenAISpeechCreate")
    if speech is not None:
        described = speech["properties"]["model"]
        speech["properties"]["model"] = {
            "anyOf": [
                {"type": "string", "enum": models},
                {"type": "string", "pattern": DATED_MODEL_PATTERN},
            ],
            "description": described.get("description", ""),
            "title": "Model",
        }


def _engine_names(schema: dict[str, Any], body: str, engines: list[str]) -> None:
    """``engine`` in ``body`` takes these engines (one more is a 400)."""
    components = schema.get("components", {}).get("schemas", {})
    if body in components:
        field = components[body]["properties"]["engine"]
        field.pop("anyOf", None)
        field.update({"type": "string", "enum": engines})


#: (path, method) of an operation -> {link name: (target operationId, parameters)}.
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str]]]] = {
    ("/v1/jobs", "post"): {
        name: (target, {"job_id": "$response.body#/id"}) for name, target in JOB_LINKS.items()
    },
    ("/synthesize", "post"): {
        **{name: (target, {"job_id": "$response.body#/job"}) for name, target in JOB_LINKS.items()},
        "StreamResult": (STREAM_RESULT, {"blob": "$response.body#/result_blob"}),
    },
    ("/v1/voices", "post"): {
        name: (target, {"voice_id": "$response.body#/id"}) for name, target in VOICE_LINKS.items()
    },
    ("/upload-voice", "post"): {
        **{
            name: (target, {"voice_id": "$response.body#/voice_id"})
            for name, target in VOICE_LINKS.items()
        },
        "StreamSample": (STREAM_RESULT, {"blob": "$response.body#/blob"}),
    },
}


def _links(schema: dict[str, Any]) -> None:
    """OpenAPI links from the operations that create jobs and voices to those using them."""
    for (path, method), links in LINKS.items():
        operation = schema["paths"].get(path, {}).get(method)
        if operation is None:
            continue
        for status, response in operation["responses"].items():
            if status.startswith("2") and "content" in response:
                response["links"] = {
                    name: {"operationId": target, "parameters": parameters}
                    for name, (target, parameters) in links.items()
                }


def print_document() -> None:
    """Print the OpenAPI document of a server with default settings (for the docs site)."""
    import json

    from voiceclone.api.app import create_app

    print(json.dumps(create_app().openapi(), ensure_ascii=False, indent=1))
