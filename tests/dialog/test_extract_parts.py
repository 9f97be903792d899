"""The extractor's building blocks on their own: numbers, phone normalisation, fuzzy matching, settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from salesagent.dialog.extract import blas
from salesagent.dialog.extract.config import ExtractSettings
from salesagent.dialog.extract.numbers import ordinal_at, words_to_digits
from salesagent.dialog.extract.phone import to_e164
from salesagent.dialog.extract.text import Utterance, normalize
from salesagent.dialog.extract.vocab import PhraseMatcher


@pytest.mark.parametrize("text, digits", [
    ("сто двадцать", "120"), ("ста двадцати", "120"), ("около восьмидесяти", "около 80"), ("под сто", "под 100"),
    ("шестьдесят два года", "62 года"),
    # as Whisper writes them, without the soft sign
    ("сорок пять шестдесят семь", "45 67"), ("пятсот рублей", "500 рублей"), ("Восемдесят кило", "80 кило"),
])
def test_words_to_digits(text, digits):
    assert words_to_digits(text) == digits


@pytest.mark.parametrize("text, value", [("двенадцатого декабря", 12), ("двадцать первого", 21),
                                          ("тридцатого", 30), ("12 го", 12)])
def test_ordinals(text, value):
    utt = Utterance(text)
    found = ordinal_at(utt.tokens, utt.lemmas, 0)
    assert found is not None and found[0] == value


@pytest.mark.parametrize("digits, plus, phone", [
    ("89161234567", False, "+79161234567"), ("79161234567", True, "+79161234567"),
    ("9161234567", False, "+79161234567"), ("8916123456", False, None), ("89161234567", True, None),
    ("123", False, None),
])
def test_to_e164(digits, plus, phone):
    assert to_e164(digits, plus) == phone


def test_normalize_folds_case_yo_and_punctuation():
    assert normalize("Ещё раз: МРТ-колена, в 14.30!") == "еще раз мрт колена в 14:30"


def test_phrase_matcher_tolerates_one_slip_but_not_another_word():
    matcher = PhraseMatcher([("knee", "колено"), ("lumbar", "поясница"), ("price", "сколько стоит")], threshold=80)
    assert [m.key for m in matcher.find(Utterance("болит калено"))] == ["knee"]
    assert matcher.find(Utterance("в пятницу")) == []  # "пятница" is two edits from "поясница"
    assert [m.key for m in matcher.find(Utterance("сколько это стоит"))] == ["price"]  # one filler word


def test_settings_reject_a_bad_threshold(monkeypatch):
    monkeypatch.setenv("SALESAGENT_EXTRACT_FUZZY_THRESHOLD", "300")
    with pytest.raises(ValidationError, match="fuzzy_threshold"):
        ExtractSettings()


def test_blas_pool_is_restored():
    import numpy  # noqa: F401  (loads OpenBLAS, as natasha does)

    funcs = blas._openblas()
    if funcs is None:
        pytest.skip("numpy here is not linked against OpenBLAS")
    _, getter = funcs
    before = getter()
    with blas.single_threaded():
        assert getter() == 1
    assert getter() == before
