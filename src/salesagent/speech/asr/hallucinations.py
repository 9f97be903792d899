"""Text Whisper invents on silence, music and noise, learnt from subtitled video.

We only decode VAD speech, but a cough or a beep can still pass the VAD; when it does, Whisper
(trained on YouTube subtitles) answers with the closing lines of a video. A caller never says
"Субтитры сделал DimaTorzok", so such segments are dropped, never passed to the dialog.
"""

from __future__ import annotations

import re

# Normalised (lower case, ё->е, no punctuation) patterns; matched against a whole segment.
_PATTERNS = [
    r"продолжение следует",
    r"субтитры .*",
    r".*dimatorzok.*",
    r".*редактор субтитров.*",
    r".*корректор [а-я]\s?[а-я]+",
    r"(большое )?спасибо за просмотр",
    r"благодарю за (просмотр|внимание)",
    r"(спасибо )?за просмотр",
    r"подписывайтесь на (наш )?канал.*",
    r"(ставьте|не забудьте поставить) лайк.*",
    r"не забудьте подписаться.*",
    r"до (новых|скорых) встреч.*",
    r"с вами был[а]? .*",
    r"игорь негода",
    r"(?:[а-я]+ ){0,3}музыка",  # "[динамичная музыка]", "спокой динамичная музыка" (ctranslate2 4.8.5, silence)
    r"аплодисменты",
    r"смех",
    r"тишина",
    r"звонок (телефона|в дверь)",
    r"(amara|amara org).*",
    r".*www\..*",
]
_HALLUCINATION = re.compile("^(?:" + "|".join(_PATTERNS) + ")$")
_BRACKETED = re.compile(r"^\s*[\[\(\*♪].*[\]\)\*♪]\s*$")


def normalize(text: str) -> str:
    text = text.lower().replace("ё", "е")
    text = re.sub(r"[^\w\s.]", " ", text)
    text = re.sub(r"(?<!\w)\.|\.(?!\w)", " ", text)  # keep dots only inside words (www.x.ru)
    return re.sub(r"\s+", " ", text).strip()


def is_hallucination(text: str) -> bool:
    """True for known silence phrases, sound tags like "[музыка]" and text with no letters or digits."""
    if _BRACKETED.match(text):
        return True
    norm = normalize(text)
    if not re.search(r"[^\W_]", norm):
        return True
    return bool(_HALLUCINATION.match(norm))
