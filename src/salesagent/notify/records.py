"""Call records kept beside the lead: the report of each call and, where there was audio, its recording.

Layout: ``<calls_dir>/<YYYY-MM-DD>/<call_id>/report.json`` and ``recording.wav`` (the day is the
UTC day the record was saved). Records are evidence for the clinic (what was said, why a slot holds
what it holds, how fast the agent answered), and personal data, so they are kept for
``retention_days`` and then deleted by :meth:`CallRecordStore.cleanup`, which the delivery worker
runs hourly (and ``salesagent leads cleanup`` runs on demand). Files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from salesagent.notify.config import NotifySettings

log = logging.getLogger(__name__)

_CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CallRecordError(ValueError):
    """A bad call id or a recording that is not WAV."""


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class CallRecordStore:
    def __init__(self, root: Path, retention_days: int = 90, keep_recordings: bool = True) -> None:
        self.root = Path(root)
        self.retention_days = retention_days
        self.keep_recordings = keep_recordings

    @classmethod
    def from_settings(cls, settings: NotifySettings | None = None) -> CallRecordStore:
        settings = settings or NotifySettings()
        return cls(settings.resolved_calls_dir(), settings.retention_days, settings.keep_recordings)

    def _today(self) -> date:
        return datetime.now(UTC).date()

    @staticmethod
    def folder_name(call_id: str) -> str:
        """The call id itself when it is a safe file name, else a safe name that stays unique.

        Bridges hand us ids we do not choose: a SIP Call-ID is ``1-18806@10.0.0.5`` and may hold
        ``/``. Rejecting them would lose the call's report, so unsafe characters become ``_`` and a
        hash of the whole id keeps two such ids apart (and ``../x`` can never leave the folder)."""
        if not call_id:
            raise CallRecordError("empty call id")
        if _CALL_ID.match(call_id) and ".." not in call_id:
            return call_id
        safe = re.sub(r"[^A-Za-z0-9._:-]", "_", call_id).strip("._")[:100] or "call"
        return f"{safe}-{hashlib.sha256(call_id.encode('utf-8')).hexdigest()[:10]}"

    def _dir_for(self, call_id: str, create: bool) -> Path:
        name = self.folder_name(call_id)
        existing = self.find(call_id)
        if existing is not None or not create:
            return existing or self.root / self._today().isoformat() / name
        return self.root / self._today().isoformat() / name

    def find(self, call_id: str) -> Path | None:
        """The folder holding this call's records, if any."""
        if not self.root.is_dir():
            return None
        name = self.folder_name(call_id)
        for day in sorted(self.root.iterdir(), reverse=True):
            candidate = day / name
            if _DAY.match(day.name) and candidate.is_dir():
                return candidate
        return None

    def save_report(self, call_id: str, report: dict[str, Any]) -> Path:
        """Transcript with timestamps, state path, slots with provenance, latency per turn: any JSON."""
        folder = self._dir_for(call_id, create=True)
        data = json.dumps(report, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        path = folder / "report.json"
        _write_atomic(path, data)
        log.info("call report saved", extra={"context": {"call_id": call_id, "bytes": len(data)}})
        return path

    def save_recording(self, call_id: str, wav_bytes: bytes) -> Path | None:
        """Keep the call's audio (a WAV file). None when recordings are switched off."""
        if len(wav_bytes) < 44 or wav_bytes[:4] != b"RIFF" or wav_bytes[8:12] != b"WAVE":
            raise CallRecordError(f"recording for {call_id!r} is not a WAV file (no RIFF/WAVE header)")
        if not self.keep_recordings:
            return None
        path = self._dir_for(call_id, create=True) / "recording.wav"
        _write_atomic(path, wav_bytes)
        log.info("call recording saved", extra={"context": {"call_id": call_id, "bytes": len(wav_bytes)}})
        return path

    def load_report(self, call_id: str) -> dict[str, Any] | None:
        folder = self.find(call_id)
        if folder is None or not (folder / "report.json").is_file():
            return None
        return json.loads((folder / "report.json").read_text("utf-8"))

    def cleanup(self, today: date | None = None) -> int:
        """Delete day folders older than ``retention_days``; returns how many calls were removed."""
        if not self.root.is_dir():
            return 0
        cutoff = (today or self._today()) - timedelta(days=self.retention_days)
        removed = 0
        for day in self.root.iterdir():
            if not (day.is_dir() and _DAY.match(day.name)):
                continue
            try:
                day_date = date.fromisoformat(day.name)
            except ValueError:
                continue
            if day_date < cutoff:
                removed += sum(1 for p in day.iterdir() if p.is_dir())
                shutil.rmtree(day)
        if removed:
            log.info("old call records deleted", extra={"context": {"calls": removed, "before": cutoff.isoformat()}})
        return removed
