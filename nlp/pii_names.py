"""Person names where the text itself says it is a name (Korean and English).

A name cannot be told from a word by its letters alone ("정말", "Delta" and "Grace" are all
plausible names), so only names with a cue are found; everything else is a documented gap:

* Korean: a surname-initial name of 2–4 syllables before an honorific or role ("김민수님",
  "박지영 씨", "홍길동 고객님"), after a label with a colon ("고객명: 홍길동", "예금주: 이수진"),
  or in a self-introduction ("제 이름은 최유리", "저는 정하늘입니다"). Role nouns that also start
  with a surname syllable ("고객님", "선생님", "기사님", "하나님") are listed and never matched.
* English: after "my name is", a title ("Mr. Smith", "Dr Jane Doe"), a label with a colon
  ("Name: John Smith") or a role word plus "named/called" ("an agent named Sarah"). Names must
  be capitalised; sign-offs ("Thanks, John") are not used because brands end reviews the same
  way ("Thanks, Delta").

Only the name itself is returned, so "김민수님" becomes "[NAME]님" and the text keeps its
grammar.
"""

from __future__ import annotations

import re

# The most frequent Korean surnames (~95 % of the population); rare one-syllable surnames that
# are also very common word starts (가, 시, 사) are left out for precision.
_SURNAMES_2 = "남궁|황보|제갈|선우|독고|사공|서문"
_SURNAMES_1 = (
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄"
    "채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉"
)
_KO_NAME = rf"(?:(?:{_SURNAMES_2})[가-힣]{{1,2}}|[{_SURNAMES_1}][가-힣]{{1,2}})"

# Words that start with a surname syllable and take an honorific like a name does.
_KO_NOT_NAMES = frozenset(
    """
    고객 선생 사장 기사 부장 이사 이모 고모 조교 신부 장모 사모 반장 소장 국장 차장 부모 선배 기장
    공주 왕자 도련 전무 원장 주인 하느 하나 예수 부처 석가 공자 맹자 노자 장자 손자 손녀 장인 서방
    도령 강사 배우 기자 간호사 구청장 주무관 사무장 조장 주임 고문 상무 전무이사 교장 교감 총장
    학장 지점장 점장 매니저 기사장 선장 소방관 경찰관 경비 관장 이장 통장 반장님 조리사 요리사
    기관사 약사 변호사 세무사 회원 고객센터 유튜버 사장님 정비사 설계사 안내원 직원 승무원 경호원
    조종사 부기장 사무원 관리자 관리인 집주인 건물주 동장 면장 도지사 시장 구청 국회의원 의원 대표
    주부 여사 양반 형님 누님 언니 오빠 동생 남편 아내 부인 영감 어르신 할머니 할아버지 아버님 어머님
    성도 신도 목사 장로 권사 집사 전도사 스님 법사 보살 수녀 신부님 도사 무당 작가 감독 심판 코치
    선수 주장 단장 구단주 위원 위원장 회장 부회장 사원 대리 과장 차장님 연구원 박사 석사 교수
    여왕 여신 왕비 선녀 원작자 정규직 비정규직 어휴 주님 성님 도우미 이웃 동지 동무 선비 장군
    """.split()
)

_KO_HONORIFIC = (
    r"\s?(?:님|씨)(?:이|은|의|을|께서|께|에게|한테|도|과|가|는|를|랑|이랑|하고)?(?![가-힣])"
)
# A role noun after a space follows any noun ("배송 기사님", "우수 고객님"), so only a full
# three- or four-syllable name counts there.
_KO_FULL_NAME = rf"(?:(?:{_SURNAMES_2})[가-힣]{{1,2}}|[{_SURNAMES_1}][가-힣]{{2}})"
_KO_ROLE = (
    r"\s(?:고객님?|회원님?|기사님|상담원|상담사|매니저|선생님|팀장님|과장님|대리님|사장님)"
    r"(?![가-힣])"
)
_KO_LABEL = (
    r"(?:고객명|고객\s?이름|이름|성함|성명|예약자명?|수령인|수취인|주문자|받는\s?분|보내는\s?분"
    r"|담당자|상담원|상담사|예금주|작성자|신청인|보호자|환자명|탑승자|투숙객)"
)
_KO_PATTERNS = (
    re.compile(rf"(?<![가-힣])({_KO_NAME}){_KO_HONORIFIC}"),
    re.compile(rf"(?<![가-힣])({_KO_FULL_NAME}){_KO_ROLE}"),
    re.compile(rf"{_KO_LABEL}\s*[:：]\s*({_KO_NAME})(?![가-힣])"),
    # Topic marker only ("이름은"): "이름이 최고예요" praises a title, it names no one.
    re.compile(
        rf"(?:이름|성함)(?:은|는)\s*({_KO_NAME})(?=입니다|이에요|예요|이고|이라고|라고|[,.!]|$)"
    ),
    re.compile(rf"저는\s*({_KO_NAME})(?=입니다|이에요|예요|이라고|라고|이고)"),
)

# One name word: "Smith", "O'Brien", "McDonald", "Jean-Luc". Words are separated by single
# spaces, so trimming words keeps offsets exact.
_EN_WORD = r"[A-Z](?:'[A-Z])?[a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
_EN_NAME = rf"{_EN_WORD}(?: {_EN_WORD}){{0,2}}"
_EN_NAME_1 = rf"{_EN_WORD}(?: {_EN_WORD})?"
_EN_ROLE = (
    r"(?:agent|representative|rep|employee|staff member|attendant|driver|technician|advisor"
    r"|adviser|manager|supervisor|cashier|clerk|steward|stewardess|host|hostess|guy|lady"
    r"|woman|man|nurse|pharmacist|operator|courier)"
)
_EN_PATTERNS = (
    re.compile(rf"\b(?:[Mm]y name is|[Mm]y name's|[Nn]ame's)\s+({_EN_NAME})"),
    re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+({_EN_NAME_1})"),
    re.compile(
        rf"\b(?:[Nn]ame|[Cc]ustomer name|[Ff]ull name|[Pp]assenger name|[Aa]ccount holder"
        rf"|[Cc]ardholder|[Cc]ontact person)\s*:\s*({_EN_NAME})"
    ),
    re.compile(rf"\b{_EN_ROLE}\s+(?:named|called)\s+({_EN_NAME_1})"),
)
# Capitalised words that follow these cues without being names.
_EN_NOT_NAMES = frozenset(
    """
    The A An And Or But Not No Yes I It This That My Your Our Their His Her Its We You They
    Customer Service Support Team Manager Agent Staff Unknown None Null Na Redacted Name
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Economy Business First Premium
    """.split()
)


def find_names(text: str) -> list[tuple[int, int]]:
    """Finds person names announced by a cue, in Korean or English text.

    Args:
        text: The text to search.

    Returns:
        ``(start, end)`` character spans of the names only (cue words excluded), in order,
        without overlaps.
    """
    spans: list[tuple[int, int]] = []
    for pattern in _KO_PATTERNS:
        for match in pattern.finditer(text):
            name = match.group(1)
            # "이건아님", "장난아님": "아님" is "is not", not a name plus 님.
            if name in _KO_NOT_NAMES or (name.endswith("아") and text[match.end(1)] == "님"):
                continue
            spans.append(match.span(1))
    for pattern in _EN_PATTERNS:
        for match in pattern.finditer(text):
            name = match.group(1)
            words = name.split(" ")
            # Trailing capitalised non-name words ("Mr. Kim Thanks") are trimmed, not kept.
            while words and words[-1] in _EN_NOT_NAMES:
                words.pop()
            if not words or words[0] in _EN_NOT_NAMES:
                continue
            start = match.start(1)
            spans.append((start, start + len(" ".join(words))))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
