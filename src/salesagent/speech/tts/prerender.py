"""Prerender: synthesise the clinic's most frequent phrases ahead, so calls start from the cache.

Which phrases: every call hears the greeting and the first wording of each scripted question, and
many hear the fixed FAQ answers (address, documents, hours...). Only texts whose placeholders are
clinic fields ({agent_name}, {address}, ...) can be rendered ahead; anything with a caller's name,
price or date is made live. Order = how likely a call needs it; ``count`` cuts the list.
"""

from __future__ import annotations

import logging
import string
import time
from dataclasses import dataclass

from salesagent.clinic.profile import ClinicProfile
from salesagent.speech.tts.synthesizer import SpeechSynthesizer

log = logging.getLogger(__name__)


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _fill(template: str, clinic: dict[str, object]) -> str | None:
    if not _placeholders(template) <= clinic.keys():
        return None
    text = template.format_map(clinic).strip()
    return text[:1].upper() + text[1:] if text else None


def frequent_phrases(profile: ClinicProfile, count: int = 30) -> list[str]:
    """The ``count`` most frequent fixed phrases of the profile, in the order a call meets them."""
    from salesagent.dialog.replies import Renderer

    clinic = Renderer(profile).clinic_values()
    states = profile.templates.states
    faq = [entry.answer for entry in profile.faq]
    phrases = [v for raw in profile.templates.phrases.values() for v in ([raw] if isinstance(raw, str) else raw)]
    ordered = (
        [variants[0] for variants in states.values()]  # first asks: every call
        + faq  # off-script questions answered from the profile
        + phrases  # acknowledgements, farewells, fixed refusals
        + [v for variants in states.values() for v in variants[1:]]  # re-asks
    )
    out: list[str] = []
    for template in ordered:
        text = _fill(template, clinic)
        if text and text not in out:
            out.append(text)
    return out[:count]


@dataclass
class PrerenderReport:
    phrases: int
    sentences: int
    synthesized: int
    cached: int
    seconds: float


def prerender(synth: SpeechSynthesizer, profile: ClinicProfile, count: int = 30,
              sample_rates: tuple[int, ...] | None = None) -> PrerenderReport:
    """Fill the cache with the profile's frequent phrases at each rate (default: the synth's rate)."""
    started = time.perf_counter()
    calls_before, hits_before = synth.stats.engine_calls, synth.stats.cache_hits
    phrases = frequent_phrases(profile, count)
    sentences = 0
    for rate in sample_rates or (synth.default_rate,):
        for text in phrases:
            for sentence in synth.sentences(text):
                synth.sentence_audio(sentence, rate, synth.default_voice)
                sentences += 1
    report = PrerenderReport(
        phrases=len(phrases),
        sentences=sentences,
        synthesized=synth.stats.engine_calls - calls_before,
        cached=synth.stats.cache_hits - hits_before,
        seconds=time.perf_counter() - started,
    )
    log.info("tts prerender done", extra={"context": report.__dict__})
    return report
