"""Safety words said indirectly: a pregnancy given as its term ("я на четвёртом месяце").

Contraindication aliases live in the profile; what is generic Russian is the shape of a
pregnancy term, which no alias list can enumerate: "на <ordinal> месяце / неделе", "срок
двенадцать недель", "двенадцатая неделя". A profile marks which contraindication it means
(``pregnancy: true``); safety first, any term counts.
"""

from __future__ import annotations

from salesagent.dialog.extract.numbers import ORDINALS
from salesagent.dialog.extract.text import Utterance

_TERM_UNITS = frozenset({"месяц", "неделя", "срок", "триместр"})


def _ordinal_or_number(utt: Utterance, i: int) -> bool:
    return utt.number(i) is not None or utt.lemma_at(i) in ORDINALS


def pregnancy_term(utt: Utterance) -> frozenset[int]:
    """Token indexes of a pregnancy term, or empty."""
    lems = utt.lemmas
    for i, lemma in enumerate(lems):
        if lemma not in _TERM_UNITS:
            continue
        prepositional = utt.tokens[i].endswith(("е", "ах"))
        # "на четвёртом месяце", "на двенадцатой неделе", "на раннем сроке"
        if utt.token_at(i - 2) == "на" and prepositional and _ordinal_or_number(utt, i - 1):
            return frozenset((i - 2, i - 1, i))
        if lemma in ("срок", "триместр") and prepositional and "на" in (utt.token_at(i - 1), utt.token_at(i - 2)):
            return frozenset((i - 2, i - 1, i))  # "на раннем сроке", "во втором триместре" (alias)
        # "срок двенадцать недель", "срок пять месяцев"
        if lemma == "срок" and _ordinal_or_number(utt, i + 1) and utt.lemma_at(i + 2) in ("неделя", "месяц"):
            return frozenset((i, i + 1, i + 2))
    return frozenset()
