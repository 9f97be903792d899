"""Leads that are never lost: a durable outbox, a delivery worker and the clinic's sheet.

The dialog engine builds a :class:`Lead` when a call ends and calls ``outbox.enqueue(lead)``
(synchronous, committed before it returns) in the step that closes the session. A
:class:`DeliveryWorker` drains the outbox into the sink chosen by :func:`build_sink`: Google
Sheets "Лист4" when ``GOOGLE_SHEET_ID`` and ``GOOGLE_CREDENTIALS_PATH`` are set, else a local
``leads.xlsx``. :class:`CallRecordStore` keeps each call's report and recording beside the lead.
"""

from salesagent.notify.config import NotifySettings
from salesagent.notify.lead import CALL_ID_COLUMN, COLUMNS, SEED_COLUMNS, STATUS_RU, Lead
from salesagent.notify.outbox import LeadState, Outbox, OutboxEntry, OutboxError
from salesagent.notify.outbox_open import open_outbox
from salesagent.notify.records import CallRecordError, CallRecordStore
from salesagent.notify.sinks import LeadSink, SinkError, build_sink
from salesagent.notify.worker import Backoff, DeliveryWorker, DrainResult

__all__ = [
    "CALL_ID_COLUMN",
    "COLUMNS",
    "SEED_COLUMNS",
    "STATUS_RU",
    "Backoff",
    "CallRecordError",
    "CallRecordStore",
    "DeliveryWorker",
    "DrainResult",
    "Lead",
    "LeadSink",
    "LeadState",
    "NotifySettings",
    "Outbox",
    "OutboxEntry",
    "OutboxError",
    "SinkError",
    "build_sink",
    "open_outbox",
]
