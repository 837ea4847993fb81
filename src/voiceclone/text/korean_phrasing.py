"""Where a long Korean sentence takes a breath: short pauses between groups of eojeol.

A Korean reader pauses after a clause that ends in a connective ending (-고, -지만, -는데,
-(으)니까, -(으)면서, -아서/-어서, -(으)려고, -도록, -거나, -(으)며, -(으)면), and Kokoro
pauses at a comma. The rules look only at how each eojeol ends: a morphological analyser
would be surer, but the maintained one on PyPI (kiwipiepy) takes about 500 MB and seconds
to load, more than the whole engine. So the rules err towards fewer pauses:

- only in a stretch of at least :data:`MIN_STRETCH_EOJEOL` eojeol between punctuation marks;
- each group keeps at least :data:`MIN_GROUP_EOJEOL` eojeol on both sides of a pause;
- no pause before an auxiliary verb (놀고 있어요, 먹고 싶어요, 하고 나서);
- nouns that merely end like an ending (최고, 라면, 장면) are known exceptions.
"""

from __future__ import annotations

import re

MIN_STRETCH_EOJEOL = 5
MIN_GROUP_EOJEOL = 2
PAUSE = ","

CONNECTIVE_ENDINGS = (
    "고",
    "지만",
    "는데",
    "은데",
    "던데",
    "니까",
    "으니",
    "면서",
    "아서",
    "어서",
    "해서",
    "여서",
    "와서",
    "워서",
    "가서",
    "나서",
    "봐서",
    "돼서",
    "져서",
    "쳐서",
    "려고",
    "도록",
    "거나",
    "으며",
    "하며",
    "으면",
    "하면",
    "가면",
    "오면",
    "보면",
    "되면",
    "있으면",
    "없으면",
)
"""Eojeol endings that close a clause. -면 and -며 only after the syllables listed, since
many nouns end in 면 (라면, 화면) and few verbs are missed."""

NOT_ENDINGS = frozenset(
    {"최고", "사고", "광고", "참고", "창고", "재고", "경고", "금고", "원고", "제고"}
    | {"라면", "냉면", "장면", "화면", "측면", "정면", "표면", "반면", "이면", "전면", "지면"}
)
"""Words that end like a connective ending but are nouns."""

AUXILIARY_STARTS = ("있", "싶", "계시", "계셨", "계세", "말았", "나서", "보니", "보면", "나면")
"""Eojeol that continue the verb before them (-고 있다, -고 싶다, -고 나서): no pause before."""

_STRETCH = re.compile(r"[^.,?!;:…—\"()]+")


def _ends_clause(word: str, following: str) -> bool:
    if len(word) < 2 or word in NOT_ENDINGS or not "가" <= word[-1] <= "힣":
        return False
    if not word.endswith(CONNECTIVE_ENDINGS):
        return False
    return not following.startswith(AUXILIARY_STARTS)


def _phrase(stretch: str) -> str:
    words = stretch.split()
    if len(words) < MIN_STRETCH_EOJEOL:
        return stretch
    marked: list[str] = []
    since_pause = 0
    for index, word in enumerate(words):
        since_pause += 1
        remaining = len(words) - index - 1
        following = words[index + 1] if remaining else ""
        if (
            since_pause >= MIN_GROUP_EOJEOL
            and remaining >= MIN_GROUP_EOJEOL
            and _ends_clause(word, following)
        ):
            word += PAUSE
            since_pause = 0
        marked.append(word)
    leading = " " if stretch[:1].isspace() else ""
    trailing = " " if stretch[-1:].isspace() else ""
    return leading + " ".join(marked) + trailing


def mark_phrase_breaks(text: str) -> str:
    """Korean text with a comma where a reader would pause inside a long sentence.

    >>> mark_phrase_breaks("저는 아침 일찍 일어나서 공원에서 한 시간 동안 운동을 해요.")
    '저는 아침 일찍 일어나서, 공원에서 한 시간 동안 운동을 해요.'
    """
    return _STRETCH.sub(lambda match: _phrase(match.group()), text)
