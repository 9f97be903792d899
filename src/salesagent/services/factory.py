"""Builds the dialog stack from settings: profile, extractor, LLM hooks, store, outbox, engine, service.

The one place that maps configuration to implementations, so callers never pick engines
themselves, and the one place that imports both the dialog and the LLM packages (the dialog
engine knows the LLM only through its ``Extractor`` / ``Rephraser`` protocols). Start-up fails
fast (one clear line: :class:`StartupError`, ``ClockError`` or the store's / profile's own
error) when the profile, the clock, the store or the LLM configuration is bad.

LLM server unreachable at start-up:

* ``SALESAGENT_EXTRACTOR=llm``: the LLM is the only extractor, nothing would understand the
  caller: start-up fails (:class:`StartupError`, exit code 2 from the CLI);
* ``hybrid``: the rules are the floor and the LLM an enhancement that already falls back to them
  on every failure, so a clinic's phone line does not go dead because the GPU host restarts: one
  warning is logged and the service runs on the rules; the LLM is used as soon as it answers.
  ``SALESAGENT_LLM_REQUIRED=true`` makes hybrid fail like ``llm``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from salesagent import clock
from salesagent.clinic.profile import ClinicProfile, load_profile
from salesagent.config import Settings
from salesagent.dialog.engine import DialogEngine
from salesagent.dialog.extract.base import Extractor
from salesagent.dialog.service import DialogService, LeadSink
from salesagent.dialog.store import open_store

log = logging.getLogger(__name__)


class StartupError(ValueError):
    """The LLM configuration is bad or its server does not answer; the message is one line.

    A ``ValueError`` like the other configuration errors, so every entry point's fail-fast
    handler (``cli.main._service``, ``cli.voice.build_stack``) prints it as one line, exit 2.
    """


def llm_settings_from_env() -> Any:
    """``LLMSettings`` from the environment; a bad value is one line naming the variable."""
    from pydantic import ValidationError

    from salesagent.llm.config import LLMSettings

    try:
        return LLMSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = "_".join(str(p) for p in first["loc"])
        name = loc if loc.isupper() else "SALESAGENT_LLM_" + loc.upper()  # aliases (LLM_BASE_URL) as written
        raise StartupError(f"bad setting {name}: {first['msg']}") from None


def _variants(llm: Any) -> Any:
    from salesagent.llm.variants import VariantsError, load_variants

    try:
        return load_variants(llm.variants_path)
    except VariantsError as exc:
        raise StartupError(str(exc).splitlines()[0]) from None


def _server_answers(kind: str, llm: Any, client: Any) -> bool:
    """Fail fast (``llm``, or ``hybrid`` with REQUIRED) or warn (``hybrid``) when nobody answers."""
    problem = client.probe()
    if problem is None:
        return True
    line = f"LLM server {llm.base_url} does not answer ({problem})"
    if kind == "llm" or llm.required:
        raise StartupError(f"{line}; start it or set SALESAGENT_EXTRACTOR=rules")
    log.warning(f"{line}: {kind} runs on the rules until it answers",
                extra={"context": {"base_url": str(llm.base_url), "reason": problem}})
    return False


def build_extractor(settings: Settings, profile: ClinicProfile, llm: Any = None, client: Any = None) -> Extractor:
    """``rules`` alone, the ``llm`` extractor alone (validated against the profile) or ``hybrid``.

    The rules are warmed up here (models and vocabulary loaded, first runs paid) so the first
    caller does not wait; the LLM server's prompt cache is filled within ``warmup_s``.
    """
    from salesagent.dialog.extract.rules import RuleExtractor

    rules = RuleExtractor()
    rules.warm_up(profile)
    if settings.extractor == "rules":
        return rules
    from salesagent.llm.client import ChatClient
    from salesagent.llm.extractor import LLMExtractor
    from salesagent.llm.hybrid import HybridExtractor

    llm = llm or llm_settings_from_env()
    client = client or ChatClient(llm)
    answers = _server_answers(settings.extractor, llm, client)
    extractor = LLMExtractor(llm, client, _variants(llm))
    if answers and llm.warmup_s > 0 and not extractor.warm_up(profile, budget_s=llm.warmup_s):
        log.warning("LLM warm-up got no answer; the first calls may fall back",
                    extra={"context": {"base_url": str(llm.base_url)}})
    if settings.extractor == "llm":
        return extractor
    return HybridExtractor(rules, extractor, budget_s=llm.budget_s, llm_when=llm.hybrid_llm_when)


def build_rephraser(llm: Any, client: Any = None) -> Any:
    """The grounded rephraser when ``SALESAGENT_LLM_REPHRASE`` is on, else None (templates only).

    A server that does not answer is a warning, never a refusal: the template is always a
    correct reply, so the agent speaks it until the server is back.
    """
    if not llm.rephrase:
        return None
    from salesagent.llm.client import ChatClient
    from salesagent.llm.rephrase import GroundedRephraser

    client = client or ChatClient(llm)
    problem = client.probe()
    if problem is not None:
        log.warning("LLM server for rephrasing does not answer: the templates are said until it does",
                    extra={"context": {"base_url": str(llm.base_url), "reason": problem}})
    return GroundedRephraser(llm, client, _variants(llm))


def build_variant_assigner(llm: Any) -> Any:
    """``session_id -> variant`` when a variants file is configured, else None (no A/B test)."""
    if llm.variants_path is None:
        return None
    from salesagent.llm.variants import assign_variant

    variants = _variants(llm)
    return lambda session_id: assign_variant(session_id, variants)


def build_leads(settings: Settings, profile: ClinicProfile | None = None) -> LeadSink:
    from salesagent.notify import open_outbox

    return OutboxLeads(open_outbox(tz=profile.tz if profile else None))


def build_service(settings: Settings, profile: ClinicProfile | None = None, leads: bool = True,
                  llm: Any = None) -> DialogService:
    """``llm`` (``LLMSettings``) defaults to the environment's; it is read only when some LLM
    feature is on, so a rules-only service never depends on the LLM variables.

    The clock is read once here: a bad ``SALESAGENT_NOW`` is a start-up error, not a failed turn.
    """
    profile = profile or load_profile(settings.profile_path)
    clock.now(profile.tz)
    if llm is None and (settings.extractor != "rules" or _llm_env_wanted()):
        llm = llm_settings_from_env()
    client = None
    if llm is not None:
        from salesagent.llm.client import ChatClient

        client = ChatClient(llm)  # one connection pool for extraction and rephrasing
    extractor = build_extractor(settings, profile, llm, client)
    rephraser = build_rephraser(llm, client) if llm is not None else None
    assigner = build_variant_assigner(llm) if llm is not None else None
    store = open_store(settings)
    engine = DialogEngine(profile, extractor, ledger=store, rephraser=rephraser, assign_variant=assigner)
    sink = build_leads(settings, profile) if leads else None
    return DialogService(engine, store, VariantOutcomes(sink) if assigner else sink)


def _llm_env_wanted() -> bool:
    """Rephrasing or A/B variants asked for in the environment (with the rules extractor)."""
    return (os.environ.get("SALESAGENT_LLM_REPHRASE", "").strip().lower() in ("1", "true", "yes", "on")
            or bool(os.environ.get("SALESAGENT_LLM_VARIANTS_PATH", "").strip()))


class VariantOutcomes:
    """Counts each closed call's status for its A/B variant, then hands the lead on.

    The service calls ``enqueue_session`` exactly once per call, whatever ended it (the engine's
    farewell, a hang-up, expiry, a delete), which makes it the one place to record the outcome.
    ``outbox`` is the wrapped sink's, so the lead worker and the CLI still find it.
    """

    def __init__(self, inner: LeadSink | None) -> None:
        self.inner = inner
        self.outbox = getattr(inner, "outbox", None)

    def enqueue_session(self, session) -> bool:
        from salesagent.dialog.slots import CallStatus
        from salesagent.llm.variants import record_outcome

        if session.variant:
            status = session.slots.status or CallStatus.ABANDONED
            record_outcome(session.variant, getattr(status, "value", str(status)))
        return self.inner.enqueue_session(session) if self.inner is not None else True


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
