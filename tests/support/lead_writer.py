"""A delivery worker in its own process, for the cross-process sheet test (tests/hardening).

``python lead_writer.py OUTBOX XLSX START_AT``: waits until the wall clock reaches START_AT (so two
processes begin together), then drains the shared outbox into the shared local sheet one lead per
batch, the way ``salesagent leads worker`` next to ``salesagent serve`` would.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from salesagent.notify import DeliveryWorker, LeadState
from salesagent.notify.outbox_sqlite import SqliteOutbox
from salesagent.notify.sinks.xlsx import XlsxSink
from salesagent.notify.worker import Backoff


async def main(outbox_path: str, xlsx_path: str, start_at: float) -> None:
    outbox = SqliteOutbox(Path(outbox_path), ZoneInfo("Europe/Moscow"))
    worker = DeliveryWorker(outbox, XlsxSink(Path(xlsx_path)), batch_size=1, lease_s=60, max_attempts=50,
                            backoff=Backoff(0.01, 0.05, 0.01))
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + 120
    while outbox.counts()[LeadState.PENDING] and time.monotonic() < deadline:
        result = await worker.drain_once()
        if not result.claimed:
            await asyncio.sleep(0.01)
    print(f"delivered={len(outbox.list(LeadState.DELIVERED))} dead={len(outbox.list(LeadState.DEAD))}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
