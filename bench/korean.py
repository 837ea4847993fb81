"""Korean intelligibility: character error rate per category, heard back by two recognisers.

Cloned voices (from the held-out real speakers of ``bench/quality.py``) speak the Korean
sentence set below; faster-whisper "base" and Vosk's small Korean model (two independent
recognisers) transcribe it, and CER compares what they heard with what should be said.

- References are written out as spoken (numbers, times and letters in Hangul) by hand, not
  by the front end under test. Transcripts have their digits and Latin letters read out by
  the front end's reader before comparing (Whisper writes "3시" for what it heard as "세 시");
  spaces and punctuation are ignored.
- Sentences alternate dev / held-out within each category (index % 2 == 1 is held out).
  ``--search`` tunes the G2P renderings on the dev sentences and dev speakers only; the
  report runs on held-out sentences and held-out speakers.
- ``--variant OPTION=VALUE`` also runs this front end with one G2P option changed;
  ``--speed S`` at another speaking speed; ``--prosody-from PREFIX`` with the voices' prosody
  half (the second 128 values of each style row, which drive durations and pitch) replaced
  by the mean of the stock voices whose names start with ``PREFIX`` (``j``: Japanese).
- ``--baseline REV`` also runs the front end as it was at git revision ``REV`` (exported to
  a temporary folder and imported from there in a child process), so the table shows today's
  front end beside this one, measured in the same run on the same voices; ``--searched``
  adds this front end with the renderings ``--search`` kept on the dev sentences.
- Questions: the pitch movement over the last 300 ms of each question (semitones, median
  voiced F0 of the last 150 ms against the 150 ms before, folded into one octave since pYIN
  often halves a creaky ending), which recognisers do not judge.
- DNSMOS overall (Microsoft's predictor, from ``speechmos``) of every utterance.

    python bench/korean.py --baseline HEAD~5 --searched
    python bench/korean.py --search --speakers 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from judging import dnsmos
from revisions import run_at_revision
from rich.console import Console
from rich.table import Table
from splits import speakers_in

from voiceclone.assets.paths import require_eval_assets
from voiceclone.audio.reference import prepare_reference
from voiceclone.engines.base import VoiceProfile, VoiceSample
from voiceclone.engines.kokoro import SAMPLE_RATE, KokoroEngine
from voiceclone.engines.kokoro.engine import STYLE_DIM, TIMBRE_DIMS
from voiceclone.settings import Settings
from voiceclone.text.compare import error_rate
from voiceclone.text.korean import read_korean

ASR_RATE = 16_000

# (written, as it is said). Within each category, odd positions are held out.
SENTENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "plain": (
        ("우리는 주말에 가족과 함께 바다에 갔습니다.", "우리는 주말에 가족과 함께 바다에 갔습니다"),
        ("아이들이 공원에서 즐겁게 놀고 있어요.", "아이들이 공원에서 즐겁게 놀고 있어요"),
        ("이 길을 따라가면 기차역이 나옵니다.", "이 길을 따라가면 기차역이 나옵니다"),
        ("저는 매일 아침 일찍 일어나서 운동을 해요.", "저는 매일 아침 일찍 일어나서 운동을 해요"),
        ("어머니께서 맛있는 반찬을 만들어 주셨어요.", "어머니께서 맛있는 반찬을 만들어 주셨어요"),
        ("도서관은 저녁 아홉 시까지 문을 엽니다.", "도서관은 저녁 아홉 시까지 문을 엽니다"),
        (
            "지난주에 친구와 함께 영화를 보고 저녁을 먹었어요.",
            "지난주에 친구와 함께 영화를 보고 저녁을 먹었어요",
        ),
        (
            "날씨가 추워지면 따뜻한 차를 자주 마시게 됩니다.",
            "날씨가 추워지면 따뜻한 차를 자주 마시게 됩니다",
        ),
        ("동생은 학교가 끝나면 곧바로 학원에 갑니다.", "동생은 학교가 끝나면 곧바로 학원에 갑니다"),
        (
            "시장에서 신선한 과일과 채소를 많이 샀습니다.",
            "시장에서 신선한 과일과 채소를 많이 샀습니다",
        ),
        (
            "창문을 열어 두었더니 방 안이 금방 시원해졌어요.",
            "창문을 열어 두었더니 방 안이 금방 시원해졌어요",
        ),
        (
            "할머니는 시골에서 작은 밭을 가꾸며 지내십니다.",
            "할머니는 시골에서 작은 밭을 가꾸며 지내십니다",
        ),
    ),
    "tense/aspirated": (
        ("비가 와서 빨래를 밖에 널지 못했어요.", "비가 와서 빨래를 밖에 널지 못했어요"),
        ("아빠는 커피를 마시고 쌀을 사러 갔어요.", "아빠는 커피를 마시고 쌀을 사러 갔어요"),
        ("토끼가 깡충깡충 뛰어서 숲으로 들어갔다.", "토끼가 깡충깡충 뛰어서 숲으로 들어갔다"),
        ("짜장면하고 탕수육을 시켰는데 아주 짰어요.", "짜장면하고 탕수육을 시켰는데 아주 짰어요"),
        ("친구가 편지를 써서 책상 위에 두었다.", "친구가 편지를 써서 책상 위에 두었다"),
        ("꽃이 피면 다 같이 사진을 찍자.", "꽃이 피면 다 같이 사진을 찍자"),
        ("빵집에서 갓 구운 빵을 사 왔어요.", "빵집에서 갓 구운 빵을 사 왔어요"),
        ("창밖에 눈이 펑펑 쏟아지고 있었다.", "창밖에 눈이 펑펑 쏟아지고 있었다"),
        ("오빠가 씩씩하게 짐을 차에 실었다.", "오빠가 씩씩하게 짐을 차에 실었다"),
        (
            "택시를 타고 가까운 병원으로 빨리 가 주세요.",
            "택시를 타고 가까운 병원으로 빨리 가 주세요",
        ),
        ("칼국수가 뜨거우니까 천천히 드세요.", "칼국수가 뜨거우니까 천천히 드세요"),
        ("싸움이 끝나자 모두 크게 웃었다.", "싸움이 끝나자 모두 크게 웃었다"),
    ),
    "assimilation": (
        ("국물이 정말 시원하고 맛있네요.", "국물이 정말 시원하고 맛있네요"),
        ("신라의 역사는 천 년이 넘습니다.", "신라의 역사는 천 년이 넘습니다"),
        ("설날에는 떡국을 먹고 세배를 합니다.", "설날에는 떡국을 먹고 세배를 합니다"),
        ("입학식에 많은 학생들이 모였습니다.", "입학식에 많은 학생들이 모였습니다"),
        ("축하해요, 좋은 일이 생겼군요.", "축하해요 좋은 일이 생겼군요"),
        ("독립문 앞에서 친구를 만났습니다.", "독립문 앞에서 친구를 만났습니다"),
        ("박물관 앞에서 만나기로 했어요.", "박물관 앞에서 만나기로 했어요"),
        ("작년 겨울에는 눈이 정말 많이 왔습니다.", "작년 겨울에는 눈이 정말 많이 왔습니다"),
        ("한라산에 오르려면 옷을 넉넉히 챙기세요.", "한라산에 오르려면 옷을 넉넉히 챙기세요"),
        ("학교 앞 식당에서 국밥을 먹었다.", "학교 앞 식당에서 국밥을 먹었다"),
        ("좋은 결과가 나오도록 열심히 노력할게요.", "좋은 결과가 나오도록 열심히 노력할게요"),
        ("빛나는 별들이 밤하늘을 가득 채웠다.", "빛나는 별들이 밤하늘을 가득 채웠다"),
    ),
    "numbers/times": (
        ("회의는 오후 3시 30분에 시작합니다.", "회의는 오후 세 시 삼십 분에 시작합니다"),
        ("사과 2개와 우유 1병을 샀어요.", "사과 두 개와 우유 한 병을 샀어요"),
        (
            "이 책은 15,000원이고 배송비는 3,000원입니다.",
            "이 책은 만 오천 원이고 배송비는 삼천 원입니다",
        ),
        ("2024년 3월 5일에 서울로 이사했어요.", "이천이십사 년 삼월 오 일에 서울로 이사했어요"),
        ("매장은 9:00~18:00에 문을 엽니다.", "매장은 아홉 시에서 열여덟 시에 문을 엽니다"),
        ("할인율은 20%이고 거리는 5km입니다.", "할인율은 이십 퍼센트이고 거리는 오 킬로미터입니다"),
        ("3번 출구로 나와서 왼쪽으로 오세요.", "삼 번 출구로 나와서 왼쪽으로 오세요"),
        ("그 영화를 벌써 3번이나 봤어요.", "그 영화를 벌써 세 번이나 봤어요"),
        ("기차는 7시 15분에 출발합니다.", "기차는 일곱 시 십오 분에 출발합니다"),
        ("고양이 3마리와 강아지 1마리를 키워요.", "고양이 세 마리와 강아지 한 마리를 키워요"),
        ("전화번호는 010-1234-5678입니다.", "전화번호는 공일공 일이삼사 오육칠팔입니다"),
        ("오늘 아침 기온은 영하 5℃였어요.", "오늘 아침 기온은 영하 오 도였어요"),
    ),
    "latin/loanwords": (
        ("내일 AI 관련 미팅이 있어요.", "내일 에이아이 관련 미팅이 있어요"),
        ("KTX를 타고 부산에 갔습니다.", "케이티엑스를 타고 부산에 갔습니다"),
        ("회의 자료는 USB에 저장했어요.", "회의 자료는 유에스비에 저장했어요"),
        ("우리 회사 CEO가 새 TV 광고를 발표했다.", "우리 회사 씨이오가 새 티비 광고를 발표했다"),
        ("요즘 SNS에서 K-pop이 인기예요.", "요즘 에스엔에스에서 케이팝이 인기예요"),
        ("meeting 끝나고 email 보내 주세요.", "미팅 끝나고 이메일 보내 주세요"),
        ("새 laptop에 app을 설치했어요.", "새 노트북에 앱을 설치했어요"),
        ("PDF 파일을 email로 보내 주세요.", "피디에프 파일을 이메일로 보내 주세요"),
        ("주말에 Netflix로 드라마를 봤어요.", "주말에 넷플릭스로 드라마를 봤어요"),
        ("회의실 Wi-Fi 비밀번호가 뭐예요?", "회의실 와이파이 비밀번호가 뭐예요"),
        ("이번 project는 IT 팀이 맡았습니다.", "이번 프로젝트는 아이티 팀이 맡았습니다"),
        ("YouTube에서 요리 영상을 찾아봤어요.", "유튜브에서 요리 영상을 찾아봤어요"),
    ),
    "questions": (
        ("지금 몇 시예요?", "지금 몇 시예요"),
        ("내일 같이 점심 먹을래요?", "내일 같이 점심 먹을래요"),
        ("이 버스는 시청에 가나요?", "이 버스는 시청에 가나요"),
        ("어디에서 오셨어요?", "어디에서 오셨어요"),
        ("주말에 뭐 할 거예요?", "주말에 뭐 할 거예요"),
        ("혹시 이 근처에 약국이 있나요?", "혹시 이 근처에 약국이 있나요"),
        ("화장실이 어디에 있어요?", "화장실이 어디에 있어요"),
        ("이거 얼마예요?", "이거 얼마예요"),
        ("오늘 저녁에 시간 있으세요?", "오늘 저녁에 시간 있으세요"),
        ("커피 한 잔 더 드릴까요?", "커피 한 잔 더 드릴까요"),
        ("왜 그렇게 생각하세요?", "왜 그렇게 생각하세요"),
        ("이 옷 입어 봐도 돼요?", "이 옷 입어 봐도 돼요"),
    ),
}
QUESTIONS = "questions"
RISE = "question rise (st)"
MOS = "DNSMOS overall"
RECOGNISERS = ("whisper", "vosk")

# G2P renderings tried by --search, each a change from the one before it that was kept.
SEARCH_STEPS: tuple[dict[str, object], ...] = (
    {"voice_lax_stops": True},
    {"link_words": True},
    {"tense_mark": "ʔ"},
    {"tense_geminate": True},
    {"long_vowel_before_tense": True},
    {"eo": "ɔ"},
    {"eu": "ɨ"},
    {"question_rise": "↗"},
    {"phrase_breaks": True},
)


def sentences_of(split: str) -> list[tuple[str, str, str]]:
    """(category, written, spoken) for ``dev``, ``held-out`` or ``all``."""
    chosen = []
    for category, pairs in SENTENCES.items():
        for index, (written, spoken) in enumerate(pairs):
            part = "held-out" if index % 2 == 1 else "dev"
            if split in ("all", part):
                chosen.append((category, written, spoken))
    return chosen


class Recognisers:
    def __init__(self, whisper_dir: Path, vosk_dir: Path, threads: int) -> None:
        from faster_whisper import WhisperModel
        from vosk import Model, SetLogLevel

        SetLogLevel(-1)
        self.whisper = WhisperModel(
            str(whisper_dir), device="cpu", compute_type="int8", cpu_threads=threads
        )
        self.vosk = Model(str(vosk_dir))

    def transcribe(self, audio: np.ndarray) -> dict[str, str]:
        audio16 = soxr.resample(audio, SAMPLE_RATE, ASR_RATE).astype(np.float32)
        segments, _ = self.whisper.transcribe(
            audio16, language="ko", beam_size=1, vad_filter=False, without_timestamps=True
        )
        return {"whisper": " ".join(s.text for s in segments), "vosk": self._vosk(audio16)}

    def _vosk(self, audio16: np.ndarray) -> str:
        from vosk import KaldiRecognizer

        recogniser = KaldiRecognizer(self.vosk, ASR_RATE)
        pcm = (np.clip(audio16, -1, 1) * 32767).astype("<i2").tobytes()
        recogniser.AcceptWaveform(pcm)
        return json.loads(recogniser.FinalResult())["text"]


def question_rise_semitones(audio: np.ndarray) -> float | None:
    """Median F0 of the last 150 ms of voicing against the 150 ms before, in semitones."""
    import librosa

    f0, voiced, _ = librosa.pyin(
        audio, fmin=65, fmax=500, sr=SAMPLE_RATE, frame_length=1024, hop_length=240
    )
    voiced_f0 = f0[voiced & ~np.isnan(f0)]
    frames = int(0.15 * SAMPLE_RATE / 240)
    if len(voiced_f0) < 2 * frames:
        return None
    last, before = voiced_f0[-frames:], voiced_f0[-2 * frames : -frames]
    semitones = float(12 * np.log2(np.median(last) / np.median(before)))
    return (semitones + 6) % 12 - 6  # pYIN often halves the pitch of a creaky ending


@dataclass
class Utterance:
    voice: str
    category: str
    written: str
    spoken: str
    heard: dict[str, str]
    rise: float | None
    mos: float


def clone_voices(engine: KokoroEngine, names: list[str]):
    paths = engine.paths
    voices = {}
    for name in names:
        raw, rate = sf.read(paths.refvoice_file(name), dtype="float32", always_2d=True)
        audio = prepare_reference(soxr.resample(raw.mean(axis=1), rate, SAMPLE_RATE), SAMPLE_RATE)
        voices[name] = engine.create_voice([VoiceSample(audio, SAMPLE_RATE, name=name)], ["ko"])
    return voices


def speak_and_hear(
    engine: KokoroEngine,
    recognisers: Recognisers,
    voices: dict,
    sentences,
    score_mos: bool,
    speed: float = 1.0,
) -> list[Utterance]:
    heard = []
    for voice_name, voice in voices.items():
        for category, written, spoken in sentences:
            audio = engine.synthesize_all(written, voice, language="ko", speed=speed)
            rise = question_rise_semitones(audio) if category == QUESTIONS else None
            mos = dnsmos(audio, SAMPLE_RATE) if score_mos else float("nan")
            transcripts = recognisers.transcribe(audio)
            heard.append(Utterance(voice_name, category, written, spoken, transcripts, rise, mos))
    return heard


def cer(utterances: list[Utterance], recogniser: str) -> float:
    return error_rate([(u.spoken, read_korean(u.heard[recogniser])) for u in utterances], "char")


def summarise(utterances: list[Utterance]) -> dict[str, float | None]:
    """CER per category and recogniser, overall, question rise and DNSMOS."""
    summary: dict[str, float | None] = {}
    for category in SENTENCES:
        chosen = [u for u in utterances if u.category == category]
        for recogniser in RECOGNISERS:
            summary[f"{category} {recogniser}"] = cer(chosen, recogniser) if chosen else None
    for recogniser in RECOGNISERS:
        summary[f"overall {recogniser}"] = cer(utterances, recogniser)
    rises = [u.rise for u in utterances if u.rise is not None]
    summary[RISE] = statistics.median(rises) if rises else None
    moses = [u.mos for u in utterances if not np.isnan(u.mos)]
    summary[MOS] = statistics.fmean(moses) if moses else None
    return summary


def engine_for(paths, threads: int, options: dict[str, object] | None) -> KokoroEngine:
    """The engine with the front end that ships (``options`` None) or G2P ``options``."""
    settings = Settings(onnx_threads=threads)
    if options is None:
        return KokoroEngine(paths, settings)
    from voiceclone.text.korean_g2p import G2POptions
    from voiceclone.text.phonemize import Phonemizer

    phonemizer = Phonemizer(korean_options=G2POptions(**options))  # type: ignore[arg-type]
    return KokoroEngine(paths, settings, phonemizer=phonemizer)


def voice_names(paths, split: str, count: int) -> list[str]:
    chosen = [name for name, _ in speakers_in(paths.refvoice_names(), "en", split)]
    return chosen[:count] if count else chosen


def with_prosody_of(engine: KokoroEngine, voice: VoiceProfile, prefix: str) -> VoiceProfile:
    """``voice`` with the prosody half of its style from the mean of some stock voices."""
    names = [n for n in engine.stock_voice_names() if n.startswith(prefix)]
    if not names or voice.style is None:
        raise SystemExit(f"No stock voice starts with {prefix!r}.")
    donor = np.mean([engine.stock_style(n) for n in names], axis=0).reshape(-1, STYLE_DIM)
    style = np.array(voice.style, dtype=np.float32).reshape(-1, STYLE_DIM)
    rows = min(len(style), len(donor))
    style[:rows, TIMBRE_DIMS:] = donor[:rows, TIMBRE_DIMS:]
    return replace(voice, style=style.reshape(np.shape(voice.style)))


def run_front_end(
    args,
    options: dict[str, object] | None,
    split: str,
    recognisers: Recognisers | None = None,
    speed: float = 1.0,
    prosody_from: str | None = None,
) -> list[Utterance]:
    paths = require_eval_assets()
    engine = engine_for(paths, args.threads, options)
    engine.warm_up()
    recognisers = recognisers or Recognisers(paths.whisper_dir, args.vosk_dir, args.threads)
    voices = clone_voices(engine, voice_names(paths, split, args.speakers))
    if prosody_from is not None:
        voices = {n: with_prosody_of(engine, v, prosody_from) for n, v in voices.items()}
    sentences = sentences_of(split)
    return speak_and_hear(engine, recognisers, voices, sentences, not args.no_mos, speed)


def run_baseline(revision: str, args) -> list[Utterance]:
    """This benchmark's evaluation with voiceclone as it was at git ``revision``."""
    rows = run_at_revision(revision, __file__, worker_args(args), "--worker")
    return [Utterance(**row) for row in rows]


def worker_args(args) -> list[str]:
    flags = ["--speakers", str(args.speakers), "--threads", str(args.threads)]
    flags += ["--split", args.split]
    flags += ["--vosk-dir", str(args.vosk_dir)]
    return [*flags, "--no-mos"] if args.no_mos else flags


def search(args, console: Console) -> dict[str, object]:
    """Greedy search over SEARCH_STEPS on dev sentences and dev speakers: a step is kept
    when it lowers the two recognisers' mean CER."""
    kept: dict[str, object] = {}
    recognisers = Recognisers(require_eval_assets().whisper_dir, args.vosk_dir, args.threads)
    table = Table(title="G2P rendering search (dev sentences, dev speakers)")
    for column in ("step", "whisper CER", "vosk CER", "mean", "rise st", "kept"):
        table.add_column(column)

    def score(options: dict[str, object]) -> tuple[float, float, float | None]:
        summary = summarise(run_front_end(args, options, "dev", recognisers))
        whisper, vosk = summary["overall whisper"], summary["overall vosk"]
        assert whisper is not None and vosk is not None
        return whisper, vosk, summary[RISE]

    whisper, vosk, rise = score(kept)
    best, best_rise = (whisper + vosk) / 2, rise
    table.add_row("defaults", f"{whisper:.3f}", f"{vosk:.3f}", f"{best:.3f}", _fmt(rise), "-")
    for step in SEARCH_STEPS:
        trial = {**kept, **step}
        whisper, vosk, rise = score(trial)
        mean = (whisper + vosk) / 2
        if step.keys() == {"question_rise"}:  # judged by the pitch, not the recognisers
            keep = (rise or 0) > (best_rise or 0) + 2 and mean <= best + 0.01
        else:
            keep = mean < best
        if keep:
            kept, best, best_rise = trial, mean, rise
        label = ", ".join(f"{k}={v!r}" for k, v in step.items())
        row = (label, f"{whisper:.3f}", f"{vosk:.3f}", f"{mean:.3f}", _fmt(rise), str(keep))
        table.add_row(*row)
        console.print(f"  {label}: whisper {whisper:.3f} vosk {vosk:.3f} kept={keep}")
    console.print(table)
    console.print(f"Kept: {kept}")
    return kept


def variant_options(variant: str) -> dict[str, object]:
    """The shipped G2P options with ``OPTION=VALUE`` changed (true/false for switches)."""
    from voiceclone.text.korean_g2p import DEFAULT_OPTIONS

    key, _, value = variant.partition("=")
    options = asdict(DEFAULT_OPTIONS)
    if key not in options:
        raise SystemExit(f"Unknown G2P option {key!r}; known: {', '.join(options)}")
    switch = {"true": True, "false": False}
    options[key] = switch.get(value.lower(), value) if isinstance(options[key], bool) else value
    return options


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def print_report(console: Console, columns: dict[str, dict[str, float | None]]) -> None:
    table = Table(title="Korean: CER by category")
    table.add_column("measure")
    for name in columns:
        table.add_column(name, justify="right")
    for key in next(iter(columns.values())):
        cells = []
        for summary in columns.values():
            value = summary[key]
            if value is None:
                cells.append("-")
            elif key in (RISE, MOS):
                cells.append(f"{value:.2f}")
            else:
                cells.append(f"{value * 100:.1f}%")
        table.add_row(key, *cells)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="Also run the front end of this git revision.")
    parser.add_argument("--search", action="store_true", help="Tune G2P renderings on dev.")
    parser.add_argument(
        "--searched",
        action="store_true",
        help="Also run this front end with the renderings --search kept on dev sentences.",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="Also run this front end with one G2P option changed (e.g. phrase_breaks=false).",
    )
    parser.add_argument(
        "--speed",
        action="append",
        type=float,
        default=[],
        help="Also run this front end at this speaking speed (e.g. 0.9).",
    )
    parser.add_argument(
        "--prosody-from",
        action="append",
        default=[],
        metavar="PREFIX",
        help="Also run with the voices' prosody half from these stock voices (e.g. j, z).",
    )
    parser.add_argument("--speakers", type=int, default=4, help="Voices to clone (0 = all).")
    parser.add_argument(
        "--split",
        choices=("held-out", "dev"),
        default="held-out",
        help="Sentences and speakers to report on; tune on dev, report on held-out.",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-mos", action="store_true", help="Skip DNSMOS.")
    parser.add_argument("--json", type=Path, help="Also write every transcript here.")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--vosk-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    console = Console(width=200)
    # Read here, not by the worker: a baseline's own voiceclone may not know this asset.
    args.vosk_dir = args.vosk_dir or require_eval_assets().vosk_korean_dir

    if args.worker:
        utterances = run_front_end(args, None, args.split)
        args.worker.write_text(json.dumps([asdict(u) for u in utterances]))
        return 0
    if args.search:
        search(args, console)
        return 0
    columns: dict[str, list[Utterance]] = {}
    if args.baseline:
        columns[f"front end at {args.baseline}"] = run_baseline(args.baseline, args)
    columns["this front end"] = run_front_end(args, None, args.split)
    if args.searched:
        from voiceclone.text.korean_g2p import SEARCHED_OPTIONS  # not in a baseline's package

        columns["searched renderings"] = run_front_end(args, asdict(SEARCHED_OPTIONS), args.split)
    for variant in args.variant:
        columns[f"this front end, {variant}"] = run_front_end(
            args, variant_options(variant), args.split
        )
    for speed in args.speed:
        columns[f"this front end, speed {speed}"] = run_front_end(
            args, None, args.split, speed=speed
        )
    for prefix in args.prosody_from:
        columns[f"prosody of {prefix}* voices"] = run_front_end(
            args, None, args.split, prosody_from=prefix
        )
    print_report(console, {name: summarise(rows) for name, rows in columns.items()})
    console.print(
        "Command: python bench/korean.py " + " ".join(sys.argv[1:] if argv is None else argv)
    )
    if args.json:
        everything = {name: [asdict(u) for u in rows] for name, rows in columns.items()}
        args.json.write_text(json.dumps(everything, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
