"""Multipart uploads streamed straight to temporary files, with a size cap.

Starlette's own form parser caps only plain fields; its files grow without limit (and keep
the first megabyte in memory). Here the request body is fed, piece by piece as it arrives,
to ``python-multipart``'s streaming parser: file parts go to a temporary file on disk (the
writes run in a worker thread), plain fields are kept only if small, and the upload is
refused with 413 as soon as the file bytes pass the cap — or before reading anything, when
``Content-Length`` already says it is too big. Memory use does not depend on upload size.
"""

from __future__ import annotations

import codecs
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread
from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from voiceclone.errors import PayloadTooLarge, VoiceCloneError
from voiceclone.safety.consent import ConsentClaim

#: Room for field values, part headers and boundaries on top of the file bytes.
FORM_OVERHEAD_BYTES = 1024 * 1024
MAX_FIELD_BYTES = 64 * 1024
MAX_PART_HEADER_BYTES = 16 * 1024
MAX_FIELDS = 50
MAX_FILES = 20
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


class BadUpload(VoiceCloneError):
    code = "invalid_upload"
    status = 400


@dataclass
class UploadedFile:
    """One file part, saved to ``path`` (deleted when the form is closed)."""

    field: str
    filename: str
    content_type: str | None
    path: Path
    size: int = 0


@dataclass
class MultipartForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)
    directory: Path | None = None

    def value(self, name: str) -> str | None:
        """The last value of plain field ``name``, or None."""
        values = self.fields.get(name)
        return values[-1] if values else None

    def files_named(self, *names: str) -> list[UploadedFile]:
        return [upload for upload in self.files if upload.field in names]

    def close(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


def human_size(size: int) -> str:
    mib = 1024 * 1024
    if size % mib == 0:
        return f"{size // mib} MiB"
    return f"{size / 1_000_000:.3g} MB"


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The upload is too large: the limit is {human_size(limit)} of audio per request."
    )


class _FormBuilder:
    """python-multipart callbacks collecting fields and spooling file parts to disk."""

    def __init__(self, directory: Path, max_file_bytes: int, charset: str) -> None:
        self.form = MultipartForm(directory=directory)
        self._max_file_bytes = max_file_bytes
        self._charset = charset
        self._file_bytes = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition: bytes | None = None
        self._content_type: bytes | None = None
        self._field_name = ""
        self._field_data = bytearray()
        self._file: UploadedFile | None = None
        self._sink: BinaryIO | None = None
        self._pending: list[tuple[BinaryIO, bytes]] = []
        self._sinks: list[BinaryIO] = []
        self.ended = False

    # -- parser callbacks -------------------------------------------------------------
    def on_end(self) -> None:
        """The closing boundary arrived: the body is whole."""
        self.ended = True

    def on_part_begin(self) -> None:
        self._disposition = self._content_type = None
        self._field_data = bytearray()
        self._file = self._sink = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._check_header_size()

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._check_header_size()

    def _check_header_size(self) -> None:
        if len(self._header_name) + len(self._header_value) > MAX_PART_HEADER_BYTES:
            raise BadUpload("A form part header is too long.")

    def on_header_end(self) -> None:
        name = self._header_name.lower()
        if name == b"content-disposition":
            self._disposition = self._header_value
        elif name == b"content-type":
            self._content_type = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise BadUpload('Every form part needs a Content-Disposition header with a "name".')
        self._field_name = self._decode(options[b"name"])
        if not self._is_file_part(options):
            if sum(len(v) for v in self.form.fields.values()) >= MAX_FIELDS:
                raise BadUpload(f"Too many form fields (at most {MAX_FIELDS}).")
            return
        if len(self.form.files) >= MAX_FILES:
            raise BadUpload(f"Too many files in one upload (at most {MAX_FILES}).")
        filename = self._decode(options.get(b"filename", b""))
        suffix = Path(filename).suffix
        assert self.form.directory is not None
        path = (
            self.form.directory
            / f"part-{len(self.form.files)}{suffix if _SUFFIX.match(suffix) else ''}"
        )
        content_type = self._decode(self._content_type) if self._content_type else None
        self._file = UploadedFile(self._field_name, filename, content_type, path)
        self._sink = path.open("wb")
        self._sinks.append(self._sink)
        self.form.files.append(self._file)

    def _is_file_part(self, options: dict[bytes, bytes]) -> bool:
        """RFC 7578 makes ``filename`` optional: a part typed as anything but text is a
        file too (as OpenAPI clients send ``format: binary`` fields)."""
        if b"filename" in options:
            return True
        if not self._content_type:
            return False
        media_type, _ = parse_options_header(self._content_type)
        return not media_type.startswith(b"text/")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self._file is None:
            if len(self._field_data) + size > MAX_FIELD_BYTES:
                raise BadUpload(f"Form field {self._field_name!r} is too long.")
            self._field_data += data[start:end]
            return
        self._file_bytes += size
        if self._file_bytes > self._max_file_bytes:
            raise too_large(self._max_file_bytes)
        self._file.size += size
        assert self._sink is not None
        self._pending.append((self._sink, data[start:end]))

    def on_part_end(self) -> None:
        if self._file is None:
            self.form.fields.setdefault(self._field_name, []).append(
                self._decode(bytes(self._field_data))
            )

    # -- helpers ----------------------------------------------------------------------
    def _decode(self, raw: bytes) -> str:
        return raw.decode(self._charset, errors="replace")

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def write_pending(self) -> None:
        """Write the file bytes parsed so far (called in a worker thread)."""
        pending, self._pending = self._pending, []
        for sink, data in pending:
            sink.write(data)

    def close_files(self) -> None:
        for sink in self._sinks:
            sink.close()


async def read_multipart(request: Request, *, max_file_bytes: int, folder: Path) -> MultipartForm:
    """Parse a ``multipart/form-data`` body, spooling files to a fresh folder in ``folder``.

    Raises :class:`PayloadTooLarge` once the file parts together pass ``max_file_bytes``
    and :class:`BadUpload` for a body that is not a well-formed form. The caller must
    ``close()`` the form to delete the files.
    """
    media_type, params = parse_options_header(request.headers.get("content-type", ""))
    if media_type != b"multipart/form-data":
        raise BadUpload("Send the upload as multipart/form-data.")
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadUpload("The multipart/form-data body has no boundary.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_file_bytes + FORM_OVERHEAD_BYTES:
        raise too_large(max_file_bytes)
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        charset = codecs.lookup(charset).name
    except LookupError:
        charset = "utf-8"

    directory = Path(tempfile.mkdtemp(prefix="upload-", dir=folder))
    builder = _FormBuilder(directory, max_file_bytes, charset)
    callbacks = {
        name: getattr(builder, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if builder.has_pending:
                await anyio.to_thread.run_sync(builder.write_pending)
        parser.finalize()
        if not builder.ended:
            raise BadUpload(
                "The upload ended before the form's closing boundary: it was cut off on the "
                "way. Send it again."
            )
        if builder.has_pending:
            await anyio.to_thread.run_sync(builder.write_pending)
    except FormParserError as exc:
        builder.close_files()
        builder.form.close()
        raise BadUpload("The multipart/form-data body is malformed.") from exc
    except BaseException:
        builder.close_files()
        builder.form.close()
        raise
    builder.close_files()
    return builder.form


def require_files(form: MultipartForm, *names: str) -> list[UploadedFile]:
    """The files sent under any of ``names``; a clear 400 if there are none."""
    uploads = form.files_named(*names)
    if not uploads:
        raise BadUpload(f"Attach the recording(s) as the form field {names[0]!r}.")
    return uploads


def consent_claim(form: MultipartForm) -> ConsentClaim:
    """The consent fields of a voice upload: ``consent``, or ``consent_challenge`` with a
    ``consent_recording`` file."""
    recordings = form.files_named("consent_recording")
    return ConsentClaim.from_form(
        form.value("consent"),
        form.value("consent_challenge"),
        recordings[0].path if recordings else None,
        recordings[0].filename if recordings else "",
    )


#: A file part in an OpenAPI form schema.
BINARY: dict[str, object] = {"type": "string", "format": "binary"}
#: Marks an operation whose form takes the consent fields of the server's consent mode
#: (filled in by :mod:`voiceclone.api.openapi`).
CONSENT_MARK = "x-voiceclone-consent"
AUDIO_MEDIA_TYPE = "audio/*"


def multipart_doc(
    fields: Mapping[str, Mapping[str, object]],
    required: list[str],
    audio: tuple[str, ...] = (),
    consent: bool = False,
) -> dict[str, object]:
    """OpenAPI ``requestBody`` for a form read by :func:`read_multipart` (FastAPI cannot see
    it in the signature). ``audio`` names the file parts that must be recordings."""
    doc: dict[str, object] = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": fields, "required": required},
                    "encoding": {name: {"contentType": AUDIO_MEDIA_TYPE} for name in audio},
                }
            },
        }
    }
    if consent:
        doc[CONSENT_MARK] = True
    return doc
