"""The caller's first name.

ASR text is lower case, and natasha's NER finds no person in "меня зовут ольга". So candidates
are the words pymorphy3 knows as first names (or an unknown word right after "меня зовут"),
capitalised, and NER then confirms them: only a word inside a PER span becomes the name. NER is
run only when a name is plausible (the agent asked for it, or a cue like "зовут", "я", "это"), so
"я хочу на мрт" never pays for it. The name is returned in the nominative ("Ольгой" -> "Ольга").
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from salesagent.dialog.extract import blas, morph
from salesagent.dialog.extract.text import Utterance

log = logging.getLogger(__name__)

_lock = threading.Lock()
_ner: tuple[Any, Any] | None = None
_CUES = frozenset({"зовут", "звать", "имя", "я", "это"})
_NOT_NAMES = frozenset({"мрт", "кт", "узи"})
NER_WINDOW = 3  # words of context either side of a candidate name that NER sees


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


def _is_first_name(word: str) -> bool:
    return word not in _NOT_NAMES and morph.has_grammeme(word, "Name", min_score=0.1)


def _after_cue(words: list[str], i: int) -> bool:
    prev = words[i - 1] if i > 0 else ""
    prev2 = words[i - 2] if i > 1 else ""
    return prev in ("зовут", "звать") or (prev == "имя" and prev2 in ("мое", "моё")) or prev in ("я", "это") or (
        prev2 in ("зовут", "это") and _is_first_name(prev)
    )


def extract_name(utt: Utterance, expected: bool, use_ner: bool) -> str | None:
    words = utt.words
    if not words:
        return None
    patronymic = {i for i, w in enumerate(words) if len(w) > 5 and morph.has_grammeme(w, "Patr", min_score=0.3)}
    cue = any(w in _CUES for w in words) or bool(patronymic)
    if not (expected or cue):
        return None
    candidates: list[int] = []
    for i, w in enumerate(words):
        if not w.isalpha() or len(w) < 2:
            continue
        before_cue = (i + 1 in patronymic and morph.has_grammeme(w, "nomn")) or (
            i + 1 < len(words) and words[i + 1] in ("зовут", "звать")
        ) or (i + 2 < len(words) and words[i + 1] == "меня" and words[i + 2] in ("зовут", "звать"))
        if _is_first_name(w) and (expected or before_cue or _after_cue(words, i)):
            candidates.append(i)
        elif i > 0 and words[i - 1] in ("зовут", "звать") and not morph.is_known(w):
            candidates.append(i)  # an uncommon name the dictionary lacks
    if not candidates:
        return None
    first = candidates[0]
    strong = words[first - 1] in ("зовут", "звать") if first > 0 else False
    if use_ner and not strong:
        # NER cost grows with the text: give it only the words around the candidates
        lo, hi = max(0, candidates[0] - NER_WINDOW), min(len(words), candidates[-1] + NER_WINDOW + 1)
        words, candidates = words[lo:hi], [i - lo for i in candidates]
        cased = " ".join(w.capitalize() if i in candidates else w for i, w in enumerate(words))
        try:
            spans = _person_spans(cased)
        except RuntimeError:
            raise
        except Exception as exc:  # the NER model is third-party code: a failure costs the name only
            log.warning("natasha NER failed", extra={"context": {"error": repr(exc)}})
            spans = []
        offsets, pos = [], 0
        for w in words:
            offsets.append(pos)
            pos += len(w) + 1
        in_span = [i for i in candidates if any(a <= offsets[i] < b for a, b in spans)]
        if not in_span:
            cue_named = [i for i in candidates if i > 0 and words[i - 1] in ("зовут", "звать")]
            if not cue_named:
                return None
            in_span = cue_named
        first = in_span[0]
    word = words[first]
    return morph.name_nominative(word) or word.capitalize()
