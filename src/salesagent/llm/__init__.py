"""The LLM path: OpenAI-compatible client, structured extraction, grounded replies, prompt A/B tests."""

from salesagent.llm.grounding import check_grounded
from salesagent.llm.rephrase import GroundedRephraser
from salesagent.llm.variants import assign_variant, record_outcome

__all__ = ["GroundedRephraser", "assign_variant", "check_grounded", "record_outcome"]
