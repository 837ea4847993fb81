"""``/v1/watermark/detect``: does a recording carry the mark this service puts on speech?"""

from __future__ import annotations

from fastapi import APIRouter

from voiceclone.api.deps import OwnerDep, SettingsDep, UploadDep
from voiceclone.api.schemas import ERROR_RESPONSES, WatermarkDetection
from voiceclone.api.uploads import BINARY, multipart_doc, require_files
from voiceclone.safety.marks import detect_in_file

router = APIRouter(prefix="/v1/watermark", tags=["trust and safety"], responses=ERROR_RESPONSES)


@router.post(
    "/detect",
    response_model=WatermarkDetection,
    summary="Look for the synthetic-speech watermark in a recording (any supported format)",
    openapi_extra=multipart_doc({"file": BINARY}, required=["file"], audio=("file",)),
)
def detect_watermark(owner: OwnerDep, form: UploadDep, settings: SettingsDep) -> WatermarkDetection:
    upload = require_files(form, "file")[0]
    return WatermarkDetection.of(detect_in_file(upload.path, settings), settings)
