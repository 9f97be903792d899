"""``salesagent leads``: see, re-drive and export leads; run the delivery worker standalone.

Errors (bad settings, an unreachable outbox, an unwritable file) end with exit code 2 and one line
on stderr, never a traceback.
"""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

app = typer.Typer(help="Leads: the outbox, its delivery to the clinic's sheet, exports.", no_args_is_help=True)

T = TypeVar("T")


def _fail(message: str) -> None:
    typer.echo(f"leads: {message}", err=True)
    raise typer.Exit(2)


def _guard(fn: Callable[[], T]) -> T:
    """Turn configuration and store errors into one line and exit code 2."""
    from salesagent.clinic.profile import ProfileError
    from salesagent.notify import OutboxError, SinkError

    try:
        return fn()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "settings"
        _fail(f"bad notify settings: {loc}: {first['msg']}")
    except (OutboxError, SinkError, ProfileError) as exc:
        _fail(str(exc))
    raise AssertionError("unreachable")


def _open():
    from salesagent.notify import NotifySettings, open_outbox

    settings = _guard(NotifySettings)
    return settings, _guard(lambda: open_outbox(settings))


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _state_name(entry) -> str:
    return "sending" if entry.in_flight else entry.state.value


@app.command("list")
def list_leads(
    state: Annotated[str | None, typer.Option("--state", help="pending, delivered or dead")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per lead")] = False,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """Status of each lead: pending, delivered or dead (with attempts and the last error)."""
    from salesagent.notify import LeadState

    wanted = None
    if state is not None:
        try:
            wanted = LeadState(state)
        except ValueError:
            _fail(f"--state must be one of {', '.join(s.value for s in LeadState)}, got {state!r}")
    _, outbox = _open()
    entries = outbox.list(wanted, limit)
    if as_json:
        for e in entries:
            payload = {
                "call_id": e.call_id,
                "state": _state_name(e),
                "attempts": e.attempts,
                "status": e.lead.status.value,
                "created_at": e.created_at,
                "delivered_at": e.delivered_at,
                "last_error": e.last_error,
            }
            typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    from salesagent.logs import mask_phone

    table = Table("call id", "state", "tries", "status", "phone", "enqueued", "delivered", "last error")
    for e in entries:
        phone = mask_phone(e.lead.slots.phone) if e.lead.slots.phone else ""
        table.add_row(
            e.call_id,
            _state_name(e),
            str(e.attempts),
            e.row[9],
            phone,
            _when(e.created_at),
            _when(e.delivered_at),
            (e.last_error or "")[:60],
        )
    console = Console(width=None if sys.stdout.isatty() else 200)  # piped: do not wrap into 80 columns
    console.print(table)
    counts = outbox.counts()
    console.print(" ".join(f"{k.value}={v}" for k, v in counts.items()))


@app.command()
def retry(
    call_ids: Annotated[list[str] | None, typer.Argument(help="Only these calls (default: every dead lead)")] = None,
) -> None:
    """Re-drive dead leads: back to pending with a fresh attempt budget (the sheet is checked first)."""
    _, outbox = _open()
    moved = outbox.retry_dead(call_ids or None)
    typer.echo(f"{moved} dead lead(s) moved back to pending")


@app.command()
def export(
    csv_path: Annotated[Path, typer.Option("--csv", help="File to write (UTF-8 with BOM, opens in Excel)")],
    state: Annotated[str | None, typer.Option("--state", help="Only pending, delivered or dead")] = None,
) -> None:
    """Export leads from the outbox as CSV with the sheet's columns plus the delivery state."""
    from salesagent.notify import COLUMNS, LeadState

    wanted = None
    if state is not None:
        try:
            wanted = LeadState(state)
        except ValueError:
            _fail(f"--state must be one of {', '.join(s.value for s in LeadState)}, got {state!r}")
    _, outbox = _open()
    entries = outbox.list(wanted)
    try:
        with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([*COLUMNS, "Доставка"])
            for e in entries:
                writer.writerow([_csv_safe(v) for v in e.row] + [e.state.value])
    except OSError as exc:
        _fail(f"cannot write {csv_path}: {exc.strerror}")
    typer.echo(f"{len(entries)} lead(s) written to {csv_path}")


def _csv_safe(value: str) -> str:
    """Stop spreadsheet apps from running a cell as a formula (a phone like +7916... is left alone)."""
    if value[:1] in ("=", "@", "\t", "\r") or (value[:1] in ("+", "-") and not value[1:].isdigit()):
        return "'" + value
    return value


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit")] = False,
) -> None:
    """Run the delivery worker standalone (``salesagent serve`` runs one inside the service)."""
    from salesagent.config import get_settings
    from salesagent.logs import setup_logging
    from salesagent.notify import DeliveryWorker, build_sink

    shared = get_settings()
    setup_logging("salesagent-leads", shared.log_level, mask_pii=not shared.log_pii)
    settings, outbox = _open()
    sink = _guard(lambda: build_sink(settings))
    runner = DeliveryWorker.from_settings(outbox, sink, settings)

    async def main() -> int:
        try:
            return await _run()
        finally:
            await sink.aclose()

    async def _run() -> int:
        if once:
            total = 0
            while (result := await runner.drain_once()).claimed:
                total += result.delivered + result.already_there
                if result.errors:
                    break
            counts = " ".join(f"{k.value}={v}" for k, v in outbox.counts().items())
            typer.echo(f"{total} lead(s) delivered; {counts}")
            return 0
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, runner.stop)
        await runner.run_forever()
        return 0

    try:
        code = asyncio.run(main())
    finally:
        outbox.close()
    sys.exit(code)


@app.command()
def cleanup() -> None:
    """Delete call records (reports, recordings) older than the retention period."""
    from salesagent.notify import CallRecordStore, NotifySettings

    settings = _guard(NotifySettings)
    store = CallRecordStore.from_settings(settings)
    typer.echo(f"{store.cleanup()} call record(s) older than {settings.retention_days} days deleted")


if __name__ == "__main__":
    app()
