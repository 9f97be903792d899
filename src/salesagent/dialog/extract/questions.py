"""Questions back inside an answer, and one polarity per answer.

A caller asked "записать вас?" may answer with a question ("а картой можно?", "а по ОМС можно?",
"это живой человек?"). Words inside that question are not an answer: "можно" there is no consent
and "человек" no request for a transfer. ASR may or may not write the "?", so a clause is also a
question by its shape: an interrogative at its start, "ли" inside, "а ... можно / есть / нужно".

When an answer holds both a yes and a no ("да не надо", "пожалуй, нет", "нет, всё правильно"),
the last one is what the caller settled on; "нет, конечно" is a firm no, because an intensifier
right after a polarity word reinforces it instead of being a yes of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from salesagent.dialog.extract import lexicon, morph
from salesagent.dialog.extract.base import Intent
from salesagent.dialog.extract.numbers import words_to_digits
from salesagent.dialog.extract.text import Utterance, normalize

# Words that open a new clause inside one utterance.
_CLAUSE_OPENERS = frozenset({"а", "но", "или"})
# Words a question may start with before its interrogative ("а вот скажите, где ...").
_LEADS = frozenset({"а", "но", "и", "вот", "ну", "скажите", "подскажите", "скажи", "подскажи", "извините", "простите",
                    "девушка", "слушайте", "еще", "тогда", "так", "э", "ээ", "эм", "мм", "у", "вас", "вы",
                    "мне", "нам", "это"})
# Interrogatives that make a clause a question wherever the clause stands.
_STRONG = frozenset({"где", "сколько", "какой", "почему", "зачем", "куда", "откуда", "разве", "неужели", "кто",
                     "почем", "чей"})
# Interrogatives that are also conjunctions ("болит, когда хожу"): a question only after "а" or a lead.
_WEAK = frozenset({"как", "когда", "что", "чем"})
# "а картой можно", "а скидки есть", "а направление нужно": a clause opened by "а" that ends so.
_ASKING_ENDS = frozenset({"можно", "нужно", "надо", "есть", "будет", "бывает", "принимаете", "работаете",
                          "делаете", "берете", "требуется", "обязательно", "больно", "страшно", "долго", "дорого"})
# Verbs that ask for information wherever they stand ("подскажите", "не подскажете").
_ASKING_STEMS = ("подскаж", "скажите", "скажете", "объясните", "интересует", "уточните")
# A clause that opens with a permission word and goes on is a request or a question, not consent.
_PERMISSION = frozenset({"можно", "нельзя", "обязательно", "нужно", "надо"})
_NEEDED = frozenset({"нужен", "нужна", "нужны", "нужно", "обязательно", "обязателен", "обязательна"})
_CONSENT_STEMS = ("запис", "оформ", "добав", "остав", "так")  # "можно записаться": consent to the offer
_BARE_CONSENT = frozenset({"да", "конечно", "пожалуйста", "давайте", "уже", "так", "наверное", "пожалуй"})
# Predicates that make an "а ..." clause a question wherever they stand ("а долго это по времени").
_ASKING_PREDICATES = frozenset({"долго", "больно", "страшно", "дорого", "можно", "нужно", "надо", "обязательно",
                                "реально", "вредно", "опасно", "безопасно"})
# "а вы ...", "а у вас ...", "а это ...": asking about the clinic or the agent.
_ASKING_PAIRS = frozenset({("а", "вы"), ("а", "у"), ("а", "это"), ("а", "там"), ("а", "если")})
# Words that, right after a yes/no, reinforce it ("нет, конечно") rather than answer again.
_INTENSIFIERS = frozenset({"конечно", "точно", "разумеется", "естественно", "обязательно", "именно", "уж",
                           "совсем", "совершенно", "вообще", "абсолютно"})
_SENTENCE = re.compile(r"[^.!?…]+[.!?…]*")


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive token index

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self.start <= index < self.end


def _punctuated_sentences(utt: Utterance) -> list[Span]:
    """Token spans of raw sentences that end with "?" (chat input, Whisper's punctuation)."""
    if "?" not in utt.raw:
        return []
    spans, offset = [], 0
    for sentence in _SENTENCE.findall(utt.raw):
        count = len(words_to_digits(normalize(sentence)).split())
        if sentence.rstrip().endswith("?") and count:
            spans.append(Span(offset, offset + count))
        offset += count
    return spans


def _clauses(tokens: list[str], within: Span | None = None) -> list[Span]:
    first, last = (within.start, within.end) if within else (0, len(tokens))
    spans, start = [], first
    for i in range(first, last):
        if i > start and tokens[i] in _CLAUSE_OPENERS:
            spans.append(Span(start, i))
            start = i
    if start < last:
        spans.append(Span(start, last))
    return spans


# After a weak interrogative at the very start, these make it a question ("как доехать", "когда у вас").
_ASKING_AFTER_WEAK = frozenset({"вы", "у", "к", "вам", "вас", "будет", "можно", "нужно", "надо", "лучше",
                                "это", "мне", "там", "с"})


# Leads after which a weak interrogative asks ("а как доехать", "подскажите, когда").
_ASKING_LEADS = frozenset({"а", "скажите", "подскажите", "скажи", "подскажи", "извините", "простите", "девушка"})
# Hesitations shaped like questions: "ну, как сказать", "как бы", "что сказать".
_HESITATIONS = frozenset({("как", "сказать"), ("как", "бы"), ("как", "объяснить"), ("что", "сказать"),
                          ("как", "обычно"), ("что", "то"), ("как", "то"), ("когда", "как")})


def _weak_asks(utt: Utterance, index: int, led: list[str]) -> bool:
    after = utt.token_at(index + 1)
    if (utt.token_at(index), after) in _HESITATIONS:
        return False
    if any(word in _ASKING_LEADS for word in led):
        return True
    return after in _ASKING_AFTER_WEAK or morph.has_grammeme(after, "INFN", 0.3)


def _asks(utt: Utterance, span: Span) -> bool:
    words = utt.tokens[span.start : span.end]
    lems = utt.lemmas[span.start : span.end]
    if "ли" in words[1:]:
        return True
    led = 0
    while led < len(words) and words[led] in _LEADS:
        led += 1
    head = lems[led] if led < len(lems) else ""
    for k, lemma in enumerate(lems[:5]):
        surface_ok = lemma != "кто" or words[k] == "кто"  # "ком в горле" is no "кто"
        if lemma in _STRONG and surface_ok and words[k + 1 : k + 2] != ["то"]:  # "где-то месяц" is no question
            return True
    if head in _WEAK and _weak_asks(utt, span.start + led, words[:led]):
        return True
    if any(word.startswith(_ASKING_STEMS) for word in words):
        return True  # "подскажите, наличкой можно заплатить"
    rest = words[led + 1 :]
    if head in _PERMISSION and rest and not rest[0].startswith(_CONSENT_STEMS) and any(
            w not in _LEADS and w not in _BARE_CONSENT and w not in lexicon.FILLERS for w in rest):
        return True  # "можно картой оплатить", "можно с человеком поговорить"; not "ну можно, да"
    for k in range(led + 1, len(words) - 1):
        verb = words[k + 2] if words[k + 1] in ("будет", "ли") and k + 2 < len(words) else words[k + 1]
        if words[k] in _PERMISSION and morph.has_grammeme(verb, "INFN", 0.3):
            return True  # "картой можно оплатить", "можно будет припарковаться"
    if len(words) >= 2 and words[-1] in _NEEDED and "не" not in words:
        return True  # "паспорт нужен", "направление обязательно"; not "мне это не нужно"
    for k in range(led + 1, len(words) - 1):
        if lems[k] in _WEAK and _asking_verb(words[k + 1]):
            return True  # "заключение когда дадут"; not "болит, когда хожу"
    if words[0] == "а" and len(words) >= 2:
        return (words[-1] in _ASKING_ENDS or (words[0], words[1]) in _ASKING_PAIRS
                or any(w in _ASKING_PREDICATES for w in words[1:]))
    return False


def _asking_verb(word: str) -> bool:
    """A verb that is not the caller's own first person: "дадут", "будет", "работаете"."""
    if not morph.has_grammeme(word, "VERB", 0.3) or morph.has_grammeme(word, "past", 0.3):
        return False  # "болит, как упала" tells what happened; it asks nothing
    return not morph.has_grammeme(word, "1per", 0.3)


def question_spans(utt: Utterance) -> list[Span]:
    """Token spans of the questions the caller asked in this utterance (may be empty).

    In a sentence that ends with "?", the question starts at its first asking clause, or is its
    last clause: "да, а картой можно?" answers yes, then asks.
    """
    spans: list[Span] = []
    for sentence in _punctuated_sentences(utt):
        clauses = _clauses(utt.tokens, sentence)
        asking = next((c for c in clauses if _asks(utt, c)), clauses[-1])
        spans.append(Span(asking.start, sentence.end))
    for clause in _clauses(utt.tokens):
        if not any(clause.start in s for s in spans) and _asks(utt, clause):
            spans.append(clause)
    return sorted(spans, key=lambda s: s.start)


def settle_polarity(utt: Utterance, marks: list[tuple[int, Intent]]) -> Intent | None:
    """The one YES or NO an answer means, from (token index, intent) marks in utterance order."""
    settled: Intent | None = None
    last_index = -10
    for index, intent in sorted(marks, key=lambda m: m[0]):
        word = utt.token_at(index)
        if settled is not None and word in _INTENSIFIERS and index - last_index <= 2:
            last_index = index
            continue  # "нет, конечно": the intensifier keeps the polarity before it
        settled, last_index = intent, index
    return settled
