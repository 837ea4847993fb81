"""The web app in a real browser: Debian's Chromium driven by Playwright, against a real
``voiceclone serve`` with the real engine. The microphone is Chromium's fake device playing
a real reference recording. A failing test leaves a screenshot in build/test-screenshots/.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
import soxr
from sqlalchemy import create_engine, text
from support.servers import Server, skip_or_fail

pytestmark = [pytest.mark.models, pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "test-screenshots"
KOREAN = (
    "안녕하세요. 오늘은 날씨가 맑고 바람이 시원합니다. 우리는 주말에 가족과 함께 바다에 갔습니다."
)
LONG_TEXT = "The little boat drifted slowly toward the island as the sun went down. " * 9
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory, reference_voices) -> Path:
    """What the fake microphone plays: a person reading (48 kHz, 16-bit)."""
    audio, rate = sf.read(reference_voices["harold"], dtype="float32")
    path = tmp_path_factory.mktemp("mic") / "clip.wav"
    sf.write(path, soxr.resample(audio, rate, 48_000), 48_000, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def browser(microphone: Path) -> Iterator[object]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        skip_or_fail("Chromium is not installed (scripts/setup.sh --browser installs it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={microphone}"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def key(server: Server) -> str:
    return server.create_key("alice")


def _new_page(
    browser, request: pytest.FixtureRequest, locale: str = "en-US", width: int | None = None
):
    screen = {"viewport": {"width": width, "height": 844}, "is_mobile": True} if width else {}
    context = browser.new_context(
        locale=locale,
        permissions=["microphone"],
        bypass_csp=True,
        accept_downloads=True,
        **screen,
    )
    page = context.new_page()
    page.set_default_timeout(60_000)

    def screenshot_on_failure() -> None:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / f"{request.node.name}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot: {path}")
        context.close()

    request.addfinalizer(screenshot_on_failure)
    return page


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    return _new_page(browser, request)


def _sign_in(page, server: Server, key: str) -> None:
    page.goto(server.url)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("textbox", name="Voice name").wait_for()


def _record(page, seconds: float = 5.0) -> None:
    page.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_timeout(seconds * 1000)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text(re.compile(r"^Recorded \d+(\.\d)? s\.$")).wait_for()


def _wait_result(page) -> dict:
    page.wait_for_function("() => document.getElementById('result').dataset.doneMs")
    result = page.locator("#result")
    return {
        "first": result.get_attribute("data-first-sound-ms"),
        "done": int(result.get_attribute("data-done-ms")),
    }


def test_record_clone_speak_korean_listen_and_download(page, server: Server, key: str) -> None:
    bearer = {"Authorization": f"Bearer {key}"}
    _sign_in(page, server, key)

    page.get_by_role("textbox", name="Voice name").fill("My recorded voice")
    _record(page)
    page.get_by_role("checkbox", name="Consent").check()
    page.get_by_role("button", name="Create voice").click()
    page.get_by_text("Voice “My recorded voice” created.").wait_for()
    voice_select = page.get_by_role("combobox", name="Voice", exact=True)
    assert voice_select.locator("option:checked").text_content() == "My recorded voice"
    voices = page.locator("#voice-list li")
    voices.get_by_role("button", name="Rename").click()
    page.get_by_role("textbox", name="New name for “My recorded voice”").fill("Renamed voice")
    page.keyboard.press("Enter")
    voices.get_by_text("Renamed voice").wait_for()
    voices.get_by_role("button", name="Preview").click()
    page.wait_for_function("() => document.getElementById('preview-audio').currentTime > 0.3")

    page.get_by_role("textbox", name="Text").fill(KOREAN)
    page.get_by_role("button", name="Speak").click()
    timing = _wait_result(page)
    assert timing["first"] is not None, "no sound was played while the audio was made"
    assert int(timing["first"]) < timing["done"], timing  # playback began before the end
    audio = page.locator("#result-audio")
    page.evaluate("() => document.getElementById('result-audio').play()")
    page.wait_for_function("() => document.getElementById('result-audio').currentTime > 0.5")
    assert audio.evaluate("element => element.duration") > 3.0
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    saved = Path(download.value.path()).read_bytes()
    samples, rate = sf.read(io.BytesIO(saved), dtype="float32")  # what the server streamed
    assert rate == 24_000 and len(samples) / rate > 3.0
    found = httpx.post(
        f"{server.url}/v1/watermark/detect", headers=bearer, files={"file": ("a.wav", saved)}
    ).json()
    assert found["detected"] and found["payload"]["this_server"]

    # a long text becomes a job with a progress bar
    page.get_by_role("textbox", name="Text").fill(LONG_TEXT)
    page.get_by_role("button", name="Speak").click()
    bar = page.get_by_label("Job progress")
    bar.wait_for()
    seen = set()
    deadline = time.monotonic() + 120
    while page.locator("#result").get_attribute("data-job-id") is None:
        assert time.monotonic() < deadline, "the job did not finish"
        seen.add(float(bar.get_attribute("value") or 0))
        page.wait_for_timeout(150)
    assert any(0 < value < 100 for value in seen), seen  # it moved while the job ran
    assert bar.get_attribute("value") == "100"
    job_id = page.locator("#result").get_attribute("data-job-id")
    with page.expect_download() as download:
        page.locator("#result").get_by_role("link", name="Download").click()
    api_result = httpx.get(f"{server.url}/v1/jobs/{job_id}/audio", headers=bearer).content
    assert Path(download.value.path()).read_bytes() == api_result

    # past jobs: the job is listed; delete it, then the voice (each confirmed)
    jobs = page.locator("#job-list li")
    assert jobs.count() == 1
    listed_job = jobs.locator(".name").inner_text()
    assert "The little boat drifted slowly" in listed_job  # the start of its text
    assert re.search(r"\b\d+:\d\d\b", listed_job), listed_job  # its duration
    page.once("dialog", lambda dialog: dialog.accept())
    jobs.get_by_role("button", name="Delete").click()
    page.get_by_text("No jobs yet.").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#voice-list li").get_by_role("button", name="Delete").click()
    page.get_by_text("No voices yet.").wait_for()
    listed = httpx.get(f"{server.url}/v1/voices", headers=bearer).json()
    assert listed == {"voices": []}


def test_wrong_key_shows_its_message(page, server: Server) -> None:
    page.goto(server.url)
    page.get_by_label("API key").fill("vc_this-is-not-a-key")
    page.keyboard.press("Enter")  # the keyboard alone signs in

    page.get_by_role("alert").get_by_text("That API key is not valid").wait_for()
    assert page.get_by_role("textbox", name="Voice name").is_hidden()


def test_a_refused_sample_shows_the_api_message(
    page, server: Server, key: str, tmp_path: Path
) -> None:
    noise = tmp_path / "noise.wav"
    sf.write(noise, np.random.default_rng(1).normal(0, 0.1, 80_000).astype(np.float32), 16_000)
    _sign_in(page, server, key)

    page.get_by_role("textbox", name="Voice name").fill("Noise")
    page.get_by_label("Voice sample").set_input_files(str(noise))
    page.get_by_role("checkbox", name="Consent").check()
    page.get_by_role("button", name="Create voice").click()

    page.get_by_role("alert").get_by_text("No speech found").wait_for()


def test_missing_consent_shows_the_api_message(page, server: Server, key: str) -> None:
    _sign_in(page, server, key)
    page.get_by_role("textbox", name="Voice name").fill("Without consent")
    _record(page, 3.0)
    page.get_by_role("button", name="Create voice").click()

    page.get_by_role("alert").get_by_text("send the form field consent=true").wait_for()


def test_korean_ui_and_the_language_switch(browser, request, server: Server, key: str) -> None:
    page = _new_page(browser, request, locale="ko-KR")
    page.goto(server.url)
    page.get_by_label("API 키").fill(key)
    page.get_by_role("button", name="로그인").click()

    page.get_by_role("textbox", name="목소리 이름").wait_for()
    assert page.get_by_role("textbox", name="텍스트").input_value().startswith("안녕하세요")
    page.get_by_role("button", name="English").click()
    page.get_by_role("textbox", name="Voice name").wait_for()
    assert page.get_by_role("button", name="Speak").is_visible()
    assert page.get_by_role("textbox", name="Text").input_value().startswith("Hello")


PHONE_WIDTH = 390


def _overflowing(page) -> list[str]:
    """Elements reaching past the right edge of the screen (none when nothing scrolls)."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll("body *")].filter((element) => {
                const box = element.getBoundingClientRect();
                return box.width > 0 && box.right > width + 0.5;
            });
            return wide.map((element) => element.id || element.className || element.tagName);
        }"""
    )


def _assert_fits_the_screen(page) -> None:
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= PHONE_WIDTH, f"{scroll} px wide: {_overflowing(page)}"
    assert _overflowing(page) == []


@pytest.mark.parametrize(
    ("locale", "sign_in", "key_label"),
    [
        ("en-US", "Sign in", "API key"),
        ("ko-KR", "로그인", "API 키"),
    ],
)
def test_the_app_fits_a_phone_screen(
    browser, request, server: Server, key: str, reference_voices, locale, sign_in, key_label
) -> None:
    bearer = {"Authorization": f"Bearer {key}"}
    voice = next(iter(reference_voices.values()))
    with voice.open("rb") as audio:
        httpx.post(
            f"{server.url}/v1/voices",
            headers=bearer,
            data={"name": "A voice with a rather long name for a phone", "consent": "true"},
            files={"files": (voice.name, audio, "audio/wav")},
            timeout=120,
        ).raise_for_status()
    job = httpx.post(
        f"{server.url}/v1/jobs",
        headers=bearer,
        json={"voice": "af_heart", "text": "A short job for the list of past jobs."},
    ).json()
    deadline = time.monotonic() + 120
    while httpx.get(f"{server.url}/v1/jobs/{job['id']}", headers=bearer).json()["status"] != (
        "succeeded"
    ):
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.2)
    page = _new_page(browser, request, locale=locale, width=PHONE_WIDTH)
    page.goto(server.url)
    _assert_fits_the_screen(page)  # signed out

    page.get_by_label(key_label).fill(key)
    page.get_by_role("button", name=sign_in).click()
    page.locator("#job-list li").first.wait_for()
    page.locator("#voice-list li").first.wait_for()
    _assert_fits_the_screen(page)
    assert "A short job for the list" in page.locator("#job-list li").first.inner_text()


def test_an_expired_session_returns_to_sign_in(page, server: Server, key: str) -> None:
    _sign_in(page, server, key)
    database = create_engine(f"sqlite:///{server.root / 'voiceclone.db'}")
    with database.begin() as connection:
        connection.execute(text("UPDATE web_sessions SET expires_at = '2000-01-01 00:00:00'"))
    database.dispose()

    page.reload()

    page.get_by_role("alert").get_by_text("Your session has expired").wait_for()
    assert page.get_by_label("API key").is_visible()


def test_a_dropped_stream_shows_its_message(browser, request, tmp_path: Path, asset_paths) -> None:
    doomed = Server(tmp_path)
    doomed.start()
    try:
        page = _new_page(browser, request)
        _sign_in(page, doomed, doomed.create_key("alice"))
        page.get_by_role("combobox", name="Voice", exact=True).select_option("af_heart")
        page.get_by_role("textbox", name="Text").fill(LONG_TEXT[:590])
        page.get_by_role("button", name="Speak").click()
        page.wait_for_function("() => document.getElementById('result').dataset.firstSoundMs")
        assert doomed.process is not None
        os.kill(doomed.process.pid, signal.SIGKILL)

        page.get_by_role("alert").get_by_text("The connection was lost").wait_for()
    finally:
        doomed.stop()


def test_another_recording_makes_the_voice_from_both_and_shows_its_quality(
    page, server: Server, key: str, reference_voices
) -> None:
    bearer = {"Authorization": f"Bearer {key}"}
    first, second = list(reference_voices.values())[:2]
    with first.open("rb") as audio:
        created = httpx.post(
            f"{server.url}/v1/voices",
            headers=bearer,
            data={"name": "Two takes", "consent": "true"},
            files={"files": (first.name, audio, "audio/wav")},
            timeout=120,
        ).json()
    _sign_in(page, server, key)
    item = page.get_by_role("listitem").filter(has_text="Two takes")
    item.get_by_text(re.compile(r"\d+\.\d s of speech, noise \d+ dB below it")).wait_for()

    page.get_by_role("checkbox", name="Consent").check()
    with page.expect_file_chooser() as chooser:
        item.get_by_role("button", name="Add another recording").click()
    chooser.value.set_files(str(second))

    page.get_by_text("Recordings added to “Two takes”.").wait_for()
    voice = httpx.get(f"{server.url}/v1/voices/{created['id']}", headers=bearer).json()
    assert len(voice["samples"]) == 2
    assert voice["quality"]["speech_seconds"] > created["quality"]["speech_seconds"]
