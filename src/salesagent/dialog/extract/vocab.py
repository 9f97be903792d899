"""Fuzzy matching of an utterance against the profile's vocabulary.

Every clinic word the extractor knows comes from the profile (modality aliases, body part aliases
and symptom words, contraindication and discount aliases, FAQ triggers), so an integrator adds a
word in YAML, not in Python. A phrase matches when its tokens occur in order, each equal in
surface or lemma form or close by rapidfuzz ratio (ASR misspellings: "калено", "щитовитки"),
with at most one filler word between tokens ("сколько *это* стоит"). Short words must match
exactly: one letter of "нос" or "шея" changed is another word.

Abbreviations that whisper mishears ("им прот" for МРТ) match by consonant skeleton, and only
when the heard tokens are not dictionary words ("марта" has the skeleton of МРТ too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from salesagent.clinic.profile import ClinicProfile
from salesagent.dialog.extract import morph
from salesagent.dialog.extract.text import Utterance, words_of

EXACT_MAX_LEN = 5  # words this short or shorter never match fuzzily
MAX_LEN_DIFF = 2  # a misheard word keeps roughly its length: "стоит" is not "стоимость"
MAX_GAP = 1  # filler words allowed between two tokens of a phrase
_VOWELS = re.compile(r"[аеёиоуыэюяйьъ\s]")


@dataclass(frozen=True)
class Phrase:
    key: str
    text: str
    tokens: tuple[str, ...]
    lemmas: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    key: str
    start: int
    end: int  # exclusive token index
    score: float
    phrase: Phrase


def max_edits(word: str) -> int:
    """One slip in a word of up to 8 letters, two in a longer one: "пятница" is not "поясница"."""
    return 1 if len(word) <= 8 else 2


def skeleton(text: str) -> str:
    return _VOWELS.sub("", text)


class PhraseMatcher:
    """Finds profile phrases (each under a key) in an utterance's token stream."""

    def __init__(self, entries: Iterable[tuple[str, str]], threshold: int) -> None:
        self.threshold = threshold
        phrases: list[Phrase] = []
        for key, text in entries:
            tokens = tuple(words_of(text))
            if tokens:
                # a short word's lemma may be an abbreviation's expansion ("ок" -> "около"): keep it as is
                lemmas = tuple(t if len(t) <= 3 else morph.lemma(t) for t in tokens)
                phrases.append(Phrase(key, text, tokens, lemmas))
        self.phrases = phrases
        vocab = {t for p in phrases for t in p.tokens} | {lem for p in phrases for lem in p.lemmas}
        self._vocab = sorted(vocab)
        self._by_first: dict[str, list[Phrase]] = {}
        for p in phrases:
            for first in {p.tokens[0], p.lemmas[0]}:
                self._by_first.setdefault(first, []).append(p)
        self._fuzzy_vocab = [v for v in self._vocab if len(v) > EXACT_MAX_LEN]
        self._abbrevs = [
            (p, skeleton(p.tokens[0]))
            for p in phrases
            if len(p.tokens) == 1 and len(p.tokens[0]) <= 4 and not morph.is_known(p.tokens[0])
            and len(skeleton(p.tokens[0])) >= 3
        ]

    def _token_scores(self, utt: Utterance) -> list[dict[str, float]]:
        """For each utterance token: vocabulary word -> similarity (100 exact)."""
        out: list[dict[str, float]] = []
        vocab = set(self._vocab)
        for tok, lem in zip(utt.tokens, utt.lemmas, strict=True):
            scores: dict[str, float] = {}
            for form in (tok, lem):
                if form in vocab:
                    scores[form] = 100.0
            if self.threshold <= 100 and len(tok) > EXACT_MAX_LEN and not tok.isdigit():
                for form in {tok, lem}:
                    for word, score, _ in process.extract(
                        form, self._fuzzy_vocab, scorer=fuzz.ratio, score_cutoff=self.threshold, limit=None
                    ):
                        if abs(len(word) - len(form)) > MAX_LEN_DIFF or Levenshtein.distance(word, form) > max_edits(
                            form
                        ):
                            continue
                        if score > scores.get(word, 0.0):
                            scores[word] = score
            out.append(scores)
        return out

    def _match_phrase(self, phrase: Phrase, scores: list[dict[str, float]]) -> list[Match]:
        found: list[Match] = []
        n = len(scores)

        def token_score(i: int, k: int) -> float:
            s = scores[i]
            return max(s.get(phrase.tokens[k], 0.0), s.get(phrase.lemmas[k], 0.0))

        for start in range(n):
            first = token_score(start, 0)
            if not first:
                continue
            total, pos, ok = first, start, True
            for k in range(1, len(phrase.tokens)):
                best = 0.0
                for j in range(pos + 1, min(n, pos + 2 + MAX_GAP)):
                    best = token_score(j, k)
                    if best:
                        pos = j
                        break
                if not best:
                    ok = False
                    break
                total += best
            if ok:
                found.append(Match(phrase.key, start, pos + 1, total / len(phrase.tokens), phrase))
        return found

    def _abbreviation_matches(self, utt: Utterance) -> list[Match]:
        found: list[Match] = []
        toks = utt.tokens
        for i in range(len(toks)):
            for width in (1, 2):
                window = toks[i : i + width]
                if len(window) < width or any(t.isdigit() for t in window):
                    continue
                joined = "".join(window)
                if len(joined) > 8 or all(morph.is_known(t) for t in window):
                    continue
                skel = skeleton(joined)
                for phrase, target in self._abbrevs:
                    if skel[:1] == target[:1] and fuzz.ratio(skel, target) >= 85:
                        found.append(Match(phrase.key, i, i + width, 85.0, phrase))
        return found

    def find(self, utt: Utterance) -> list[Match]:
        """Non-overlapping best matches, in utterance order (longer phrases win overlaps)."""
        if not utt.tokens or not self.phrases:
            return []
        scores = self._token_scores(utt)
        candidates: list[Match] = []
        starts = {word for s in scores for word in s}
        tried: set[int] = set()
        for word in starts:
            for phrase in self._by_first.get(word, ()):
                if id(phrase) not in tried:
                    tried.add(id(phrase))
                    candidates.extend(self._match_phrase(phrase, scores))
        if self._abbrevs and not candidates:
            candidates.extend(self._abbreviation_matches(utt))
        candidates.sort(key=lambda m: (-(m.end - m.start), -m.score, m.start))
        taken: set[int] = set()
        chosen: list[Match] = []
        for m in candidates:
            span = set(range(m.start, m.end))
            if span & taken:
                continue
            taken |= span
            chosen.append(m)
        return sorted(chosen, key=lambda m: m.start)


@dataclass(frozen=True)
class ProfileVocabulary:
    modalities: PhraseMatcher
    body_parts: PhraseMatcher
    symptoms: PhraseMatcher  # key: body part id
    contraindications: PhraseMatcher
    discounts: PhraseMatcher
    faq: PhraseMatcher
    faq_keywords: PhraseMatcher  # count only inside a question back
    not_offered: PhraseMatcher
    symptom_words: frozenset[str]  # lemmas of symptom phrases that are not body part names ("мениск")


def build_vocabulary(profile: ClinicProfile, threshold: int) -> ProfileVocabulary:
    def pairs(items: Iterable[tuple[str, Iterable[str]]]) -> list[tuple[str, str]]:
        return [(key, text) for key, texts in items for text in texts]

    modalities = pairs((k, [m.name, m.full_name, *m.aliases]) for k, m in profile.modalities.items())
    parts = pairs((k, [p.name, *p.aliases]) for k, p in profile.body_parts.items())
    symptoms = pairs((k, p.symptoms) for k, p in profile.body_parts.items())
    contra = pairs((c.id, [c.name, *c.aliases]) for c in profile.contraindications)
    discounts = pairs((d.id, d.aliases) for d in profile.discounts)
    faq = pairs((f.id, f.triggers) for f in profile.faq)
    part_words = {morph.lemma(w) for _, text in parts for w in words_of(text)}
    symptom_words = frozenset(
        lem for _, text in symptoms for w in words_of(text)
        if len(w) > EXACT_MAX_LEN and (lem := morph.lemma(w)) not in part_words
        and not morph.has_grammeme(w, "INFN", 0.5)  # "ходить" of "больно ходить" is no complaint alone
    )
    return ProfileVocabulary(
        modalities=PhraseMatcher(modalities, threshold),
        body_parts=PhraseMatcher(parts, threshold),
        symptoms=PhraseMatcher(symptoms, threshold),
        contraindications=PhraseMatcher(contra, threshold),
        discounts=PhraseMatcher(discounts, threshold),
        faq=PhraseMatcher(faq, threshold),
        faq_keywords=PhraseMatcher(pairs((f.id, f.keywords) for f in profile.faq), threshold),
        not_offered=PhraseMatcher(pairs((n.id, n.aliases) for n in profile.not_offered), threshold),
        symptom_words=symptom_words,
    )


_cache: dict[tuple[int, int], tuple[ClinicProfile, ProfileVocabulary]] = {}


def vocabulary_for(profile: ClinicProfile, threshold: int) -> ProfileVocabulary:
    """Built once per profile object (profiles are frozen; building takes a few ms)."""
    key = (id(profile), threshold)
    hit = _cache.get(key)
    if hit is None or hit[0] is not profile:
        hit = (profile, build_vocabulary(profile, threshold))
        if len(_cache) > 16:
            _cache.clear()
        _cache[key] = hit
    return hit[1]


