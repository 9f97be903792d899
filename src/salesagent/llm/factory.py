"""Wiring by configuration: which extractor and rephraser a process gets.

``SALESAGENT_LLM_EXTRACTION=false`` (default) keeps the deterministic extractor alone: the agent
runs without any LLM server. When true, the hybrid extractor wraps the rules.
"""

from __future__ import annotations

from salesagent.dialog.extract.base import Extractor
from salesagent.dialog.extract.hybrid import HybridExtractor
from salesagent.dialog.extract.llm import LLMExtractor
from salesagent.llm.client import ChatClient
from salesagent.llm.config import LLMSettings, get_llm_settings
from salesagent.llm.rephrase import GroundedRephraser
from salesagent.llm.variants import configured_variants


def build_extractor(rules: Extractor, settings: LLMSettings | None = None,
                    client: ChatClient | None = None) -> Extractor:
    settings = settings or get_llm_settings()
    if not settings.extraction:
        return rules
    llm = LLMExtractor(settings, client or ChatClient(settings), configured_variants())
    return HybridExtractor(rules, llm, budget_s=settings.budget_s, llm_when=settings.hybrid_llm_when)


def build_rephraser(settings: LLMSettings | None = None, client: ChatClient | None = None) -> GroundedRephraser:
    settings = settings or get_llm_settings()
    return GroundedRephraser(settings, client, configured_variants())
