"""The caller's name: first name, with the patronymic when one is said ("Зинаида Петровна").

ASR text is lower case, and natasha's NER finds no person in "меня зовут ольга", so the decision
rests on pymorphy3's tags (Name / Patr / Surn), which generalise to names no list here holds:

* a patronymic right after the name is kept, in the nominative and the name's gender, because the
  agent then addresses the caller by name and patronymic (the renderer uses ``client_name``);
* a surname (a word whose Surn reading outweighs its Name reading, "петров", "иванова") is never
  taken for the first name and is not stored: "петров сергей иванович" -> "Сергей Иванович";
* names that are also words (Вера, Любовь, Надежда, Роман, Слава: pymorphy's top reading is the
  common noun) count when the agent asked for the name and nothing else is said around them
  ("вера", "надежда вот", "это надежда"), or after a strong cue ("меня вера зовут"), or before a
  patronymic; "вера в лучшее" and "слава богу" are no names;
* outside the name question a name needs a cue ("зовут", "я", "это", "беспокоит", a patronymic),
  and a weak cue ("я ольга ...") is confirmed by NER over a few words of cased context;
* fillers ASR writes ("э-э", "ну", "вот") are skipped when the cue is looked for.

NER is run only in that last case, so the name question itself never pays for it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from salesagent.dialog.extract import blas, morph
from salesagent.dialog.extract.text import Utterance

log = logging.getLogger(__name__)

_lock = threading.Lock()
_ner: tuple[Any, Any] | None = None
NER_WINDOW = 3  # words of context either side of a candidate name that NER sees

_NOT_NAMES = frozenset({"мрт", "кт", "узи", "ли", "даваите"})
_SKIP = frozenset({"э", "ээ", "эээ", "ну", "мм", "вот", "так", "значит", "а"})  # ASR fillers around a cue
# Words that may surround a bare answer to "как вас зовут?" without making it a phrase.
_ANSWER_WORDS = _SKIP | frozenset({
    "да", "это", "я", "меня", "зовут", "звать", "имя", "мое", "говорит", "пишите", "записывайте", "запишите",
    "что", "алло", "здравствуйте", "слушаю", "конечно", "пожалуйста", "ой", "беспокоит", "звонит", "ага",
    "угу", "хорошо", "просто", "можно", "ее", "его", "зовите", "называйте",
})
_STRONG_BEFORE = frozenset({"зовут", "звать", "имя"})
_WEAK_BEFORE = frozenset({"я", "это"})
_AFTER = frozenset({"беспокоит", "говорит", "звонит"})
# "к сергею петровичу" names a doctor, "в пятницу" / "на веру" are no introductions.
_NOT_AFTER = frozenset({"к", "у", "от", "про", "о", "об", "с", "со", "без", "для", "в", "во", "по", "за"})
_DOCTOR_PREP = frozenset({"к", "у", "от"})


@dataclass(frozen=True)
class _Word:
    name: float  # score of the best Name reading
    common: bool  # the most probable reading is not a name: "вера", "роман", "слава"
    nominative: bool  # some Name reading is in the nominative


def _pipeline() -> tuple[Any, Any]:
    global _ner
    if _ner is None:
        with _lock:
            if _ner is None:
                try:
                    from natasha import NewsEmbedding, NewsNERTagger, Segmenter
                except ImportError as exc:
                    raise RuntimeError("natasha is not installed: pip install natasha") from exc
                _ner = (Segmenter(), NewsNERTagger(NewsEmbedding()))
    return _ner


def warm_up() -> None:
    """Load the NER model (~0.7 s, ~340 MB) and run it once."""
    _person_spans("Меня зовут Ольга")


def _person_spans(text: str) -> list[tuple[int, int]]:
    from natasha import Doc

    segmenter, tagger = _pipeline()
    doc = Doc(text)
    doc.segment(segmenter)
    with blas.single_threaded():
        doc.tag_ner(tagger)
    return [(s.start, s.stop) for s in doc.spans if s.type == "PER"]


def _first_name(word: str) -> _Word | None:
    """The word read as a first name, or None (no Name reading, or a surname above all)."""
    if word in _NOT_NAMES or not word.isalpha() or len(word) < 2:
        return None
    found = morph.parses(word)
    names = [p for p in found if "Name" in p.tag]
    if not names:
        return None
    name = max(p.score for p in names)  # max, not sum: a fixed surname repeats once per case
    surname = max((p.score for p in found if "Surn" in p.tag), default=0.0)
    if surname > name:
        return None  # "петров", "иванова"
    return _Word(name, "Name" not in found[0].tag, any("nomn" in p.tag for p in names))


def is_patronymic(word: str) -> bool:
    return len(word) > 5 and word.isalpha() and morph.has_grammeme(word, "Patr", min_score=0.3)


def _nominative(word: str, grammeme: str, gender: str | None = None) -> str:
    """"ольгой" -> "Ольга", "петровной" -> "Петровна"; a nominative reading keeps the word as said
    ("антонина", whose top reading is the genitive of "Антонин")."""
    readings = [p for p in morph.parses(word) if grammeme in p.tag]
    if gender:
        readings = [p for p in readings if gender in p.tag or "ms-f" in p.tag] or readings
    if any("nomn" in p.tag and "sing" in p.tag for p in readings):
        return word.capitalize()
    for p in sorted(readings, key=lambda p: ("sing" not in p.tag, -p.score)):
        form = p.inflect({"nomn", "sing"}) or p.inflect({"nomn"})
        if form is not None:
            return form.word.replace("ё", "е").capitalize()
    return word.capitalize()


def _prev(words: list[str], i: int, skip: int = 2) -> int:
    """Index of the word before ``i`` past up to ``skip`` fillers ("зовут э-э ольга"), or -1."""
    j = i - 1
    while j >= 0 and words[j] in _SKIP and skip > 0:
        j, skip = j - 1, skip - 1
    return j


def _cue(words: list[str], i: int, patr: bool) -> str | None:
    """"strong" (зовут / звать / имя, or a patronymic after), "weak" (я, это, беспокоит), or None."""
    p = _prev(words, i)
    prev = words[p] if p >= 0 else ""
    if prev in _STRONG_BEFORE or patr or any(w in ("зовут", "звать") for w in words[i + 1 : i + 4]):
        return "strong"
    after = words[i + 1 : i + 3]
    if prev in _WEAK_BEFORE or (after and after[0] in _AFTER) or after == ["это", "я"]:
        return "weak"
    return None


def _bare_answer(words: list[str], i: int, span: int) -> bool:
    """Nothing but answer words around the name: "надежда вот", "да это вера"."""
    return all(w in _ANSWER_WORDS for j, w in enumerate(words) if not i <= j < i + span)


def _unknown_after_cue(words: list[str], i: int) -> bool:
    """An uncommon name the dictionary lacks, right after "зовут": "меня зовут айгерим"."""
    p = _prev(words, i)
    w = words[i]
    return p >= 0 and words[p] in ("зовут", "звать") and w.isalpha() and len(w) > 2 and not morph.is_known(w)


@dataclass(frozen=True)
class _Candidate:
    index: int
    cue: str | None
    patronymic: bool
    needs_ner: bool


def _candidates(words: list[str], expected: bool) -> list[_Candidate]:
    found: list[_Candidate] = []
    for i, w in enumerate(words):
        p = _prev(words, i, skip=0)
        prep = words[p] if p >= 0 else ""
        if prep in (_DOCTOR_PREP if expected else _NOT_AFTER):
            continue
        feat = _first_name(w)
        if feat is None:
            if _unknown_after_cue(words, i):
                found.append(_Candidate(i, "strong", False, False))
            continue
        patr = i + 1 < len(words) and is_patronymic(words[i + 1])
        cue = _cue(words, i, patr)
        # "Ольгой меня зовут": a name in another case introduces only next to "зовут"; else it is
        # someone else ("к сергею петровичу", "у ольги")
        introduced = feat.nominative or any(x in ("зовут", "звать") for x in words[max(0, i - 3) : i + 4])
        needs_ner = False
        if expected:
            ok = not feat.common or cue is not None or _bare_answer(words, i, 2 if patr else 1)
        elif feat.common:
            ok = cue == "strong" and introduced
        else:
            ok = cue is not None and introduced
            needs_ner = cue == "weak"
        if ok:
            found.append(_Candidate(i, cue, patr, needs_ner))
    return found


def _confirmed_by_ner(words: list[str], cands: list[_Candidate]) -> list[_Candidate]:
    """Keep the candidates NER puts inside a person span (cased, in a window of context)."""
    idx = [c.index for c in cands]
    lo, hi = max(0, idx[0] - NER_WINDOW), min(len(words), idx[-1] + NER_WINDOW + 1)
    window = words[lo:hi]
    cased = " ".join(w.capitalize() if i + lo in idx else w for i, w in enumerate(window))
    try:
        spans = _person_spans(cased)
    except RuntimeError:
        raise
    except Exception as exc:  # the NER model is third-party code: a failure costs the name only
        log.warning("natasha NER failed", extra={"context": {"error": repr(exc)}})
        return []
    offsets, pos = [], 0
    for w in window:
        offsets.append(pos)
        pos += len(w) + 1
    return [c for c in cands if any(a <= offsets[c.index - lo] < b for a, b in spans)]


def _undo_liaison(words: list[str]) -> list[str]:
    """"зовут танна" -> "зовут анна": Whisper carries the "т" of "зовут" over to a name that
    begins with a vowel (Анна, Ольга, Ирина, Елена, Игорь). Only when the word heard is no known
    first name (pymorphy guesses a Name for any word it does not know) and the word without that
    "т" is one: "зовут тамара" stays Тамара, "зовут тимур" Тимур."""
    fixed = list(words)
    for i in range(1, len(words)):
        w = words[i]
        heard_is_name = morph.is_known(w) and _first_name(w) is not None
        if words[i - 1] == "зовут" and len(w) > 3 and w[0] == "т" and w[1] in "аеёиоуыэюя" and not heard_is_name:
            bare = _first_name(w[1:])
            if bare is not None and not bare.common and morph.is_known(w[1:]):
                fixed[i] = w[1:]
    return fixed


def extract_name(utt: Utterance, expected: bool, use_ner: bool) -> str | None:
    """The caller's name as it should be addressed: "Ольга" or "Зинаида Петровна"; None if none.

    ``expected``: the agent just asked for the name (a bare "вера" is then an answer)."""
    words = _undo_liaison(utt.words)
    if not words:
        return None
    cands = _candidates(words, expected)
    if not cands:
        return None
    sure = [c for c in cands if not c.needs_ner]
    if not sure and use_ner:
        sure = _confirmed_by_ner(words, cands)
    elif not sure:
        sure = cands
    if not sure:
        return None
    best = next((c for c in sure if c.cue == "strong"), sure[0])
    word = words[best.index]
    if not best.patronymic:
        return _nominative(word, "Name") if _first_name(word) else word.capitalize()
    patr = words[best.index + 1]
    gender = next((g for p in morph.parses(patr) if "Patr" in p.tag for g in ("femn", "masc") if g in p.tag), None)
    return f"{_nominative(word, 'Name', gender)} {_nominative(patr, 'Patr')}"
