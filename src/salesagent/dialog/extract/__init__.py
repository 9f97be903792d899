"""Slot extraction from caller utterances behind one interface (:class:`Extractor`)."""

from salesagent.dialog.extract.base import Extraction, ExtractionContext, Extractor, Intent

__all__ = ["Extraction", "ExtractionContext", "Extractor", "Intent"]
