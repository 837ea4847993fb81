"""Text preparation: languages, normalization, streaming sentence splitting, phonemes."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import pytest

from voiceclone.errors import InvalidText
from voiceclone.text.korean_g2p import PLAIN_OPTIONS, SEARCHED_OPTIONS, G2POptions, word_to_ipa
from voiceclone.text.korean_g2p import to_ipa as korean_to_ipa
from voiceclone.text.korean_phrasing import mark_phrase_breaks
from voiceclone.text.language import DETECTION_PREFIX_CHARS, LANGUAGES, resolve_language
from voiceclone.text.normalize import normalize_text
from voiceclone.text.phonemize import Phonemizer
from voiceclone.text.split import (
    iter_sentences,
    iter_text_chunks,
    read_text_file,
    split_first_clause,
)

# -- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "code"),
    [
        ("en", "en-us"),
        ("EN_US", "en-us"),
        ("english", "en-us"),
        ("en-GB", "en-gb"),
        ("ko-KR", "ko"),
        ("kr", "ko"),
        ("ja", "ja"),
        ("zh-CN", "zh"),
        ("cmn", "zh"),
        ("pt-BR", "pt"),
        ("es", "es"),
        ("fr_FR", "fr"),
        ("it", "it"),
        ("Hindi", "hi"),
    ],
)
def test_language_aliases_resolve_to_codes(alias: str, code: str) -> None:
    assert resolve_language("whatever", alias) == code


def test_every_language_has_its_espeak_voice_and_stock_prefix() -> None:
    assert set(LANGUAGES) == {"en-us", "en-gb", "ko", "ja", "zh", "es", "fr", "it", "pt", "hi"}
    assert LANGUAGES["zh"].espeak_voice == "cmn"
    assert LANGUAGES["pt"].espeak_voice == "pt-br"
    assert LANGUAGES["ko"].stock_voice_prefix is None
    assert LANGUAGES["en-gb"].stock_voice_prefix == "b"


def test_unknown_language_error_lists_supported_codes() -> None:
    with pytest.raises(InvalidText) as raised:
        resolve_language("hello", "klingon")
    message = raised.value.message
    assert "klingon" in message
    assert all(code in message for code in LANGUAGES)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("안녕하세요. 오늘 meeting은 3시예요.", "ko"),
        ("今日はいい天気ですね。", "ja"),
        ("今天天气很好。", "zh"),
        ("नमस्ते, आप कैसे हैं?", "hi"),
        ("Hello there, how are you?", "en-us"),
        ("El perro está en la casa y los niños juegan en el jardín.", "es"),
        ("Le chat est sur la table et il dort dans la cuisine.", "fr"),
        ("Il gatto è sul tavolo e non dorme con gli altri.", "it"),
        ("O gato está na mesa e não dorme com os outros.", "pt"),
        ("12345 !!!", "en-us"),
    ],
)
def test_auto_detects_language_by_script(text: str, code: str) -> None:
    assert resolve_language(text, None) == code
    assert resolve_language(text, "auto") == code


def test_detection_reads_only_a_prefix() -> None:
    text = "Hello world. " * (DETECTION_PREFIX_CHARS // 10) + "안녕하세요 " * 10_000
    assert resolve_language(text, None) == "en-us"


# -- normalization ---------------------------------------------------------------------------

ENGLISH_READINGS = [
    ("3.5", "three point five"),
    ("1,234", "one thousand two hundred thirty-four"),
    ("I came 1st, she came 22nd.", "I came first, she came twenty-second."),
    ("in 1999", "in nineteen ninety-nine"),
    ("2005", "two thousand five"),
    ("from 1990 to 1995", "from nineteen ninety to nineteen ninety-five"),
    ("the 1990s", "the nineteen nineties"),
    ("It costs $5.50.", "It costs five dollars and fifty cents."),
    ("$1", "one dollar"),
    ("$0.99", "ninety-nine cents"),
    ("£3.20", "three pounds and twenty pence"),
    ("€5", "five euros"),
    ("$2.5 million", "two point five million dollars"),
    ("50%", "fifty percent"),
    ("at 3:30 pm.", "at three thirty PM."),
    ("at 7:05", "at seven oh five"),
    ("2024-03-05", "March fifth, twenty twenty-four"),
    ("03/05/2024", "March fifth, twenty twenty-four"),
    ("March 5, 2024", "March fifth, twenty twenty-four"),
    ("10 km", "ten kilometers"),
    ("1 km", "one kilometer"),
    ("5kg", "five kilograms"),
    ("20 cm", "twenty centimeters"),
    ("100 m", "one hundred meters"),
    ("60 mph", "sixty miles per hour"),
    ("100 km/h", "one hundred kilometers per hour"),
    ("25°C", "twenty-five degrees Celsius"),
    ("300 ms", "three hundred milliseconds"),
    ("16 GB", "sixteen gigabytes"),
    ("-5", "minus five"),
    ("pages 10-20", "pages ten to twenty"),
    ("1990-2000", "nineteen ninety to two thousand"),
    ("Call 555-123-4567.", "Call five five five, one two three, four five six seven."),
    ("3/4 cup", "three quarters cup"),
    ("007", "zero zero seven"),
    ("Dr. Smith met Mr. Jones.", "Doctor Smith met Mister Jones."),
    ("St. Louis is on Baker St.", "Saint Louis is on Baker Street."),
    ("apples, pears, etc.", "apples, pears, et cetera."),
    ("e.g. this", "for example this"),
    ("“Hi”  —   she   said…", '"Hi" — she said…'),
]


@pytest.mark.parametrize(("text", "spoken"), ENGLISH_READINGS)
def test_english_readings(text: str, spoken: str) -> None:
    assert normalize_text(text, "en-us") == spoken


def test_british_english_reads_day_first_and_keeps_and() -> None:
    assert normalize_text("03/05/2024", "en-gb") == "the third of May, twenty twenty-four"
    assert (
        normalize_text("1,234 km", "en-gb") == "one thousand two hundred and thirty-four kilometres"
    )


KOREAN_READINGS = [
    ("2024년 3월 5일", "이천이십사 년 삼월 오 일"),
    ("2024-03-05", "이천이십사 년 삼월 오 일"),
    ("사과 3개", "사과 세 개"),
    ("20살", "스무 살"),
    ("21명", "스물한 명"),
    ("1시 30분", "한 시 삼십 분"),
    ("5,000원", "오천 원"),
    ("50%", "오십 퍼센트"),
    ("3.14", "삼 점 일사"),
    ("10000", "만"),
    ("15000", "만 오천"),
    ("2024", "이천이십사"),
    ("6월", "유월"),
    ("10월", "시월"),
    ("3개월", "삼 개월"),
    ("100개", "백 개"),
    ("10km", "십 킬로미터"),
    ("5kg", "오 킬로그램"),
    ("170cm", "백칠십 센티미터"),
    ("25°C", "이십오 도"),
    ("010-1234-5678", "공일공 일이삼사 오육칠팔"),
    # times and counts in context
    ("오후 3시에 만나요", "오후 세 시에 만나요"),
    ("우유 1병", "우유 한 병"),
    ("13시 5분", "열세 시 오 분"),
    ("1,500만원", "천오백만원"),
    # 번 counts ("세 번") unless it labels the noun after it ("삼 번 출구")
    ("그 영화를 3번이나 봤어요", "그 영화를 세 번이나 봤어요"),
    ("3번 출구로 나오세요", "삼 번 출구로 나오세요"),
    ("2번 버스를 타고 3번 갈아탔다", "이 번 버스를 타고 세 번 갈아탔다"),
    ("1번 손님께서 오세요", "일 번 손님께서 오세요"),
    ("3번 선물을 받았다", "세 번 선물을 받았다"),
    ("영하 5℃", "영하 오 도"),
    # ranges: the counter, unit or % on both ends
    ("3~5개", "세 개에서 다섯 개"),
    ("10~20%", "십 퍼센트에서 이십 퍼센트"),
    ("9:00~18:00", "아홉 시에서 열여덟 시"),
    ("2~3시간", "두 시간에서 세 시간"),
    ("5~10km", "오 킬로미터에서 십 킬로미터"),
    # Latin letters: acronyms letter by letter, loanwords as Korean says them
    ("AI", "에이아이"),
    ("KTX를 타요", "케이티엑스를 타요"),
    ("USB에 저장", "유에스비에 저장"),
    ("CCTV", "씨씨티비"),
    ("TV를 봐요", "티비를 봐요"),
    ("K-pop", "케이팝"),
    ("meeting 끝나고 email 보내요", "미팅 끝나고 이메일 보내요"),
    ("Google 검색", "구글 검색"),
    ("5G", "오지"),
    ("MP3", "엠피삼"),
    ("iPhone 15 Pro", "아이폰 십오 프로"),
    # symbols
    ("R&D", "알앤디"),
    ("1+1 행사", "일 플러스 일 행사"),
]


@pytest.mark.parametrize(("text", "spoken"), KOREAN_READINGS)
def test_korean_readings(text: str, spoken: str) -> None:
    assert normalize_text(text, "ko") == spoken


def test_normalization_cleans_unicode_and_whitespace() -> None:
    assert normalize_text("ｈｅｌｌｏ\u200b\u0007  \n world", "en-us") == "hello world"
    decomposed = "\u1112\u1161\u11ab\u1100\u116e\u11a8"  # 한국 as conjoining jamo
    assert normalize_text(decomposed, "ko") == "한국"


def test_other_languages_keep_digits_for_espeak() -> None:
    assert normalize_text("Tengo  3 perros.", "es") == "Tengo 3 perros."


# -- splitting -------------------------------------------------------------------------------


def test_korean_sentences() -> None:
    text = "안녕하세요. 반갑습니다!오늘 날씨가 좋네요.그렇죠? 네."
    assert list(iter_sentences([text], 300)) == [
        "안녕하세요.",
        "반갑습니다!",
        "오늘 날씨가 좋네요.",
        "그렇죠?",
        "네.",
    ]


def test_chinese_and_japanese_sentences() -> None:
    assert list(iter_sentences(["你好。今天天气很好！你呢？“好的。”然后"], 300)) == [
        "你好。",
        "今天天气很好！",
        "你呢？",
        "“好的。”",
        "然后",
    ]
    assert list(iter_sentences(["こんにちは。元気ですか？はい、元気です。"], 300)) == [
        "こんにちは。",
        "元気ですか？",
        "はい、元気です。",
    ]


def test_abbreviations_decimals_and_initials_do_not_end_sentences() -> None:
    text = (
        "Dr. Smith paid $3.50 for pears, e.g. Bosc. J. K. Rowling wrote it. "
        "See No. 5 now. I said no. Then we left."
    )
    assert list(iter_sentences([text], 300)) == [
        "Dr. Smith paid $3.50 for pears, e.g. Bosc.",
        "J. K. Rowling wrote it.",
        "See No. 5 now.",
        "I said no.",
        "Then we left.",
    ]


def test_blank_line_ends_a_sentence() -> None:
    assert list(iter_sentences(["Chapter One\n\nIt was dark."], 300)) == [
        "Chapter One",
        "It was dark.",
    ]


def test_long_sentence_is_cut_under_max_chars_at_clauses_then_spaces() -> None:
    text = (
        "This is a very long sentence, with several clauses, that goes on and on; "
        "and it keeps going without any full stop at all for quite a while"
    )
    pieces = list(iter_sentences([text], 40))
    assert all(len(piece) <= 40 for piece in pieces)
    assert pieces[:3] == [
        "This is a very long sentence,",
        "with several clauses,",
        "that goes on and on;",
    ]
    assert " ".join(pieces) == text


def test_long_cjk_text_without_spaces_is_hard_cut() -> None:
    text = "这是一个很长的句子没有任何标点符号也没有空格所以必须被硬切开"
    pieces = list(iter_sentences([text], 10))
    assert all(len(piece) <= 10 for piece in pieces)
    assert "".join(pieces) == text


def test_first_clause_is_short() -> None:
    sentence = "Well, after a long day at work, she finally went home and slept for hours."
    head, rest = split_first_clause(sentence, 40)
    assert head == "Well, after a long day at work,"
    assert rest == "she finally went home and slept for hours."
    assert split_first_clause("Short one.", 40) == ("Short one.", None)


def test_text_chunks_start_with_a_short_clause_then_sentences() -> None:
    text = (
        "Hello there, my friend, how are you doing today? I am fine. "
        "This sentence is long enough to be a chunk of its own, surely."
    )
    chunks = list(iter_text_chunks([text], 20, 100, merge_below_chars=30))
    assert chunks == [
        "Hello there,",
        "my friend,",  # the second chunk is held to the first one's limit
        "how are you doing today? I am fine.",
        "This sentence is long enough to be a chunk of its own, surely.",
    ]


def test_text_chunks_never_exceed_max_chars_when_merging() -> None:
    text = "One. Two. Three. Four. Five. Six. Seven. Eight. Nine. Ten. " * 20
    chunks = list(iter_text_chunks([text], 10, 50))
    assert chunks[0] == "One."
    assert all(len(chunk) <= 50 for chunk in chunks)
    assert " ".join(chunks) == text.strip()


def test_one_character_at_a_time_gives_the_same_sentences() -> None:
    text = (
        'Dr. Who said "Stop." Then 3.5 apples fell… Wait... what? 안녕하세요.반가워요! '
        "你好。再见！ End of story, really, it is the very end of all of this text"
    )
    assert list(iter_sentences(iter(text), 60)) == list(iter_sentences([text], 60))


def _large_text(total_chars: int, piece_chars: int = 8_192) -> Iterator[str]:
    sentences = "The quick brown fox jumps over the lazy dog. 다람쥐가 도토리를 먹었어요. 你好。 "
    piece = sentences * (piece_chars // len(sentences))
    for _ in range(total_chars // len(piece)):
        yield piece


def test_splitting_a_large_stream_uses_flat_memory() -> None:
    tracemalloc.start()
    try:
        count = 0
        for _ in iter_sentences(_large_text(2_000_000), 300):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count > 50_000
    assert peak < 1_000_000


def test_read_text_file_handles_a_character_across_pieces(tmp_path: Path) -> None:
    path = tmp_path / "text.txt"
    text = "ab한국어 텍스트 €"
    path.write_bytes(text.encode("utf-8"))
    pieces = list(read_text_file(path, piece_size=3))  # "한" is bytes 2..4
    assert len(pieces) > 1
    assert "".join(pieces) == text


def test_read_text_file_rejects_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("café".encode("latin-1"))
    with pytest.raises(InvalidText, match=r"not UTF-8.*offset 3"):
        list(read_text_file(path, piece_size=2))


# -- phonemes --------------------------------------------------------------------------------

SAMPLES = {
    "en-us": "Hello, world!",
    "en-gb": "Hello, world!",
    "ko": "안녕하세요.",
    "ja": "こんにちは。",
    "zh": "你好。",
    "es": "Hola, amigo.",
    "fr": "Bonjour, mon ami.",
    "it": "Ciao, amico.",
    "pt": "Olá, amigo.",
    "hi": "नमस्ते।",
}


@pytest.fixture(scope="module")
def phonemizer() -> Phonemizer:
    return Phonemizer()


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_phonemize_every_language(phonemizer: Phonemizer, code: str) -> None:
    phonemes = phonemizer.phonemize(SAMPLES[code], code)
    assert phonemes.strip(" .,!?")
    assert phonemes != SAMPLES[code]


def test_phonemize_keeps_punctuation_and_stress(phonemizer: Phonemizer) -> None:
    phonemes = phonemizer.phonemize("Hello, world!", "en-us")
    assert "," in phonemes and phonemes.endswith("!")
    assert "ˈ" in phonemes


def test_phonemize_is_consistent_across_threads(phonemizer: Phonemizer) -> None:
    texts = [SAMPLES[code] for code in ("en-us", "ko", "fr")] * 4
    codes = ["en-us", "ko", "fr"] * 4
    expected = [phonemizer.phonemize(text, code) for text, code in zip(texts, codes, strict=True)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(phonemizer.phonemize, texts, codes))
    assert results == expected


def test_phonemize_empty_text(phonemizer: Phonemizer) -> None:
    assert phonemizer.phonemize("   ", "en-us") == ""


def test_first_chunk_does_not_strand_a_last_word():
    sentence = "The quick brown fox jumps over the lazy dog near the river bank."
    assert list(iter_text_chunks([sentence], 60, 300)) == [sentence]
    long = "The quick brown fox jumps over the lazy dog, then runs far into the forest."
    first, *rest = iter_text_chunks([long], 60, 300)
    assert first == "The quick brown fox jumps over the lazy dog,"
    assert rest == ["then runs far into the forest."]


# -- Korean pronunciation rules --------------------------------------------------------------

KOREAN_WORDS = {
    "음악": "ɯmak",  # liaison
    "닭이": "talɡi",  # liaison of the second letter of a complex final
    "국물": "kuŋmul",  # nasalisation
    "있습니다": "issɯmnida",  # tensification, nasalisation
    "심리": "ɕimni",  # ㄹ nasalised after ㅁ
    "국립": "kuŋnip",  # ㄹ nasalised, then ㄱ
    "신라": "ɕilla",  # liquidisation ㄴ+ㄹ
    "설날": "sʌllal",  # liquidisation ㄹ+ㄴ
    "좋다": "ʨotʰa",  # aspiration ㅎ+ㄷ
    "축하": "ʨʰukʰa",  # aspiration ㄱ+ㅎ
    "좋아": "ʨoa",  # ㅎ dropped before a vowel
    "전화": "ʨʌnwa",  # ㅎ dropped after a sonorant
    "같이": "kaʨʰi",  # palatalisation ㅌ+이
    "굳이": "kuʥi",  # palatalisation ㄷ+이, voiced between vowels
    "닫히다": "taʨʰida",  # aspiration then palatalisation
    "학교": "hakkjo",  # tensification
    "앉다": "anta",  # complex final simplified, stem tensification
    "맑게": "malke",  # ㄺ before ㄱ keeps ㄹ
    "옷": "ot",  # coda neutralisation
    "부엌": "puʌk",  # coda neutralisation
    "바람": "paɾam",  # ㄹ as a flap between vowels
    "발": "pal",  # ㄹ as [l] in a coda
    "아기": "aɡi",  # lax stop voiced between vowels
    "감자": "kamʥa",  # lax affricate voiced after a nasal
    "시계": "ɕiɡe",  # ㅅ before ㅣ, ㅖ after a consonant
    "의사": "ɯisa",  # ㅢ
    "희망": "himaŋ",  # ㅢ after a consonant
}


@pytest.mark.parametrize(("word", "ipa"), KOREAN_WORDS.items())
def test_korean_pronunciation_rules(word: str, ipa: str) -> None:
    assert word_to_ipa(word, PLAIN_OPTIONS) == ipa


def test_korean_options_add_stress_and_link_words() -> None:
    assert korean_to_ipa("바다에 가요", options=G2POptions(stress=True)) == "ˈpadae ˈkajo"
    assert korean_to_ipa("바다에 가요. 가요", options=G2POptions(link_words=True)) == (
        "padae ɡajo. kajo"
    )


def test_unknown_lower_case_latin_words_are_left_to_the_english_phonemizer() -> None:
    assert normalize_text("오늘 serendipity 느꼈어요", "ko") == "오늘 serendipity 느꼈어요"


def test_korean_options_render_lax_and_tense_consonants_and_questions() -> None:
    voiced = G2POptions(voice_lax_stops=True)
    assert korean_to_ipa("가게 다리 바다 자리", options=voiced) == "ɡaɡe daɾi bada ʥaɾi"
    assert korean_to_ipa("까치 카드", options=voiced) == "kaʨʰi kʰadɯ"  # tense, aspirated
    marked = G2POptions(tense_mark="ʔ")
    assert korean_to_ipa("아빠 까치", options=marked) == "aʔpa ʔkaʨʰi"
    assert korean_to_ipa("학교", options=marked) == "hakkjo"  # after a stop: no mark
    assert korean_to_ipa("어른 그릇", options=G2POptions(eo="ɔ", eu="ɨ")) == "ɔɾɨn kɨɾɨt"
    assert korean_to_ipa("가나요?", options=G2POptions(question_rise="↗")) == "kanajo↗?"
    assert korean_to_ipa("가나요.", options=G2POptions(question_rise="↗")) == "kanajo."


KOREAN_PHRASINGS = [
    # a pause after a clause's connective ending, inside a long sentence
    (
        "저는 아침 일찍 일어나서 공원에서 한 시간 동안 운동을 해요.",
        "저는 아침 일찍 일어나서, 공원에서 한 시간 동안 운동을 해요.",
    ),
    (
        "우리 회사는 작년에 새 제품을 출시했지만 반응이 좋지 않았습니다.",
        "우리 회사는 작년에 새 제품을 출시했지만, 반응이 좋지 않았습니다.",
    ),
    ("이 길을 따라가면 기차역이 나옵니다.", "이 길을 따라가면, 기차역이 나옵니다."),
    # short sentences and one-eojeol groups stay whole
    ("비가 와서 추워요.", "비가 와서 추워요."),
    ("밥 먹고 가요. 네.", "밥 먹고 가요. 네."),
    # no pause before an auxiliary verb, after a noun that ends like an ending, or twice
    ("아이들이 공원에서 즐겁게 놀고 있어요.", "아이들이 공원에서 즐겁게 놀고 있어요."),
    ("점심으로 라면 하나를 끓여 먹었어요.", "점심으로 라면 하나를 끓여 먹었어요."),
    ("그 가게가 최고 인기 있는 곳이에요.", "그 가게가 최고 인기 있는 곳이에요."),
    ("날씨가 추우니까, 옷을 입고 나가세요.", "날씨가 추우니까, 옷을 입고 나가세요."),
]


@pytest.mark.parametrize(("text", "phrased"), KOREAN_PHRASINGS)
def test_korean_phrase_breaks(text: str, phrased: str) -> None:
    assert mark_phrase_breaks(text) == phrased


def test_phrase_breaks_become_pauses_in_the_phonemes() -> None:
    text = "저는 아침 일찍 일어나서 공원에서 한 시간 동안 운동을 해요."
    assert "," not in korean_to_ipa(text, options=PLAIN_OPTIONS)
    assert korean_to_ipa(text).count(",") == 1  # the service pauses there


def test_korean_ipa_uses_only_kokoro_symbols() -> None:
    vocab_file = resources.files("voiceclone.engines.kokoro").joinpath("vocab.json")
    vocab = json.loads(vocab_file.read_text("utf-8"))["vocab"]
    syllables = "".join(chr(code) for code in range(0xAC00, 0xD7A4, 7))
    text = " ".join([*KOREAN_WORDS, syllables, "오늘 밤, 비가 와요? 네! 정말요."])
    for options in (
        G2POptions(stress=True),
        G2POptions(stress=False, tense_geminate=True, long_vowel_before_tense=True),
        G2POptions(question_rise="↗", link_words=True),
        SEARCHED_OPTIONS,
    ):
        ipa = korean_to_ipa(text, options=options)
        assert set(ipa) <= set(vocab), set(ipa) - set(vocab)


def test_korean_text_keeps_punctuation_and_hands_other_scripts_to_fallback() -> None:
    ipa = korean_to_ipa("네, KTX를 타요!", lambda span: f"<{span}>", G2POptions(stress=False))
    assert ipa == "ne, <KTX>ɾɯl tʰajo!"
    assert korean_to_ipa("네, KTX를 타요!", options=G2POptions(stress=False)) == "ne, ɾɯl tʰajo!"


def test_phonemizer_routes_korean_through_the_rules(phonemizer: Phonemizer) -> None:
    assert phonemizer.phonemize("국물", "ko") == korean_to_ipa("국물")
    assert Phonemizer(korean_rules=False).phonemize("국물", "ko") != korean_to_ipa("국물")
    assert phonemizer.phonemize("안녕 OK", "ko") == "annjʌŋ ˌoʊkˈeɪ"  # OK by espeak en-us


def test_chunks_grow_so_each_is_made_while_the_last_plays() -> None:
    clause = "each listener hears the speech as it is made"
    long = ", ".join([clause] * 5).capitalize() + "."  # 228 characters, commas within
    text = " ".join([long] * 3)
    chunks = list(iter_text_chunks([text], 30, 300))
    # The second chunk is made while only the first plays: it gets the first's limit.
    limits = [30, *(min(30 * 2**k, 300) for k in range(len(chunks) - 1))]
    assert all(len(chunk) <= limit for chunk, limit in zip(chunks, limits, strict=True))
    assert [len(c) for c in chunks[1:4]] == sorted(len(c) for c in chunks[1:4])
    assert chunks[-2:] == [long, long]  # once the limit allows, sentences stay whole
    assert " ".join(chunks) == text
