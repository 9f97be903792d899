"""Builds the dialog stack from settings: profile, extractor, store, outbox, engine, service.

The one place that maps configuration to implementations, so callers never pick engines
themselves. Start-up fails fast (one clear line) when the profile or the store is bad.
"""

from __future__ import annotations

from salesagent.clinic.profile import ClinicProfile, load_profile
from salesagent.config import Settings
from salesagent.dialog.engine import DialogEngine
from salesagent.dialog.extract.base import Extractor
from salesagent.dialog.service import DialogService, LeadSink
from salesagent.dialog.store import open_store


def build_extractor(settings: Settings, profile: ClinicProfile) -> Extractor:
    from salesagent.dialog.extract.rules import RuleExtractor

    rules = RuleExtractor()
    if settings.extractor == "rules":
        return rules
    from salesagent.dialog.extract.hybrid import build_llm_extractor

    return build_llm_extractor(settings.extractor, rules, profile)


def build_leads(settings: Settings, profile: ClinicProfile | None = None) -> LeadSink:
    from salesagent.notify import open_outbox

    return OutboxLeads(open_outbox(tz=profile.tz if profile else None))


def build_service(settings: Settings, profile: ClinicProfile | None = None, leads: bool = True) -> DialogService:
    profile = profile or load_profile(settings.profile_path)
    store = open_store(settings)
    extractor = build_extractor(settings, profile)
    warm = getattr(extractor, "warm_up", None)
    if callable(warm):
        warm(profile)
    engine = DialogEngine(profile, extractor, ledger=store)
    return DialogService(engine, store, build_leads(settings, profile) if leads else None)


class OutboxLeads:
    """Adapts the lead outbox to the dialog service: a closed session becomes one lead."""

    def __init__(self, outbox) -> None:
        self.outbox = outbox

    def enqueue_session(self, session) -> bool:
        from salesagent.dialog.slots import CallStatus
        from salesagent.notify import Lead

        lead = Lead(
            call_id=session.session_id,
            ended_at=session.updated_at,
            slots=session.slots,
            status=session.slots.status or CallStatus.ABANDONED,
        )
        return self.outbox.enqueue(lead)
