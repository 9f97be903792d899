"""Local sheet: an ``.xlsx`` file with the same worksheet and columns as the clinic's Google sheet.

The embedded default, for a clinic without Google or for a demo. Every append rewrites the file
atomically (temp file, fsync, rename), so a crash leaves either the old or the new workbook,
never a torn one. Cells are written as text, never formulas: a caller's "name" starting with ``=``
stays text.

Several processes may write one sheet (``salesagent leads worker`` next to ``salesagent serve``,
or two replicas sharing a data folder), so the whole read-modify-write runs under an OS lock
(``flock`` on ``.leads.xlsx.lock`` next to the sheet) and each writer saves through a temp file of
its own: a lock held per process let two workers interleave, tear the zip and drop rows. Under the
lock, rows whose call id is already in the sheet are skipped, so a lead re-sent after a lease ran
out still appears once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from salesagent.notify.lead import COLUMNS
from salesagent.notify.sinks.base import SinkError, header_plan

_CALL_ID_COL = len(COLUMNS)
LOCK_WAIT_S = 30.0
"""How long a writer waits for another process's write before the attempt fails (and is retried)."""


def _set_text(ws, row: int, col: int, value: str) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    cell.data_type = "s"


class XlsxSink:
    name = "xlsx"

    def __init__(self, path: Path, worksheet: str = "Лист4", *, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self.path = Path(path)
        self.worksheet = worksheet
        self.lock_wait_s = lock_wait_s
        self._lock = threading.Lock()

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(f".{self.path.name}.lock")

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        """This process's threads, then every process: ``flock`` on the sidecar lock file.

        A sidecar, not the sheet itself: the sheet is replaced by rename, so a lock on its inode
        would guard a file nobody reads any more. Waits up to ``lock_wait_s`` polling, then fails
        with a retryable error (a stuck writer must not hang the delivery thread forever).
        """
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
                deadline = time.monotonic() + self.lock_wait_s
                while True:
                    try:
                        fcntl.flock(fd, mode)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise SinkError(f"local sheet {self.path}: another writer holds the lock") from None
                        time.sleep(0.01)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _load(self):
        if self.path.exists():
            try:
                wb = openpyxl.load_workbook(self.path)
            except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
                raise SinkError(f"local sheet {self.path}: cannot read: {exc}", retryable=False) from exc
        else:
            wb = openpyxl.Workbook()
            wb.remove(wb.active)
        if self.worksheet not in wb.sheetnames:
            wb.create_sheet(self.worksheet)
        ws = wb[self.worksheet]
        existing = [("" if c.value is None else str(c.value)) for c in ws[1]] if ws.max_row >= 1 else []
        plan = header_plan(existing)
        if plan is not None:
            for col, title in enumerate(plan, start=1):
                if col > len(existing) or not existing[col - 1].strip():
                    _set_text(ws, 1, col, title)
        return wb, ws

    def _save(self, wb) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            wb.save(tmp)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise SinkError(f"local sheet {self.path}: cannot write: {exc.strerror}") from exc

    def _call_ids(self, ws) -> set[str]:
        return {
            str(v)
            for (v,) in ws.iter_rows(min_row=2, min_col=_CALL_ID_COL, max_col=_CALL_ID_COL, values_only=True)
            if v
        }

    def _find_sync(self, call_ids: set[str]) -> set[str]:
        with self._locked(exclusive=False):
            if not self.path.exists():
                return set()
            _, ws = self._load()
            return self._call_ids(ws) & call_ids

    def _append_sync(self, rows: list[list[str]]) -> None:
        with self._locked(exclusive=True):
            wb, ws = self._load()
            present = self._call_ids(ws)
            rows = [r for r in rows if r[_CALL_ID_COL - 1] not in present]
            if not rows:
                return
            start = ws.max_row + 1 if any(c.value is not None for c in ws[ws.max_row]) else ws.max_row
            for offset, row in enumerate(rows):
                for col, value in enumerate(row, start=1):
                    _set_text(ws, start + offset, col, value)
            self._save(wb)

    def read_rows(self) -> list[list[str]]:
        """All rows including the header (for tests, export and the CLI)."""
        with self._locked(exclusive=False):
            if not self.path.exists():
                return []
            wb = openpyxl.load_workbook(self.path, read_only=True)
            try:
                ws = wb[self.worksheet]
                return [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
            finally:
                wb.close()

    async def find_call_ids(self, call_ids: set[str]) -> set[str]:
        return await asyncio.to_thread(self._find_sync, call_ids)

    async def append(self, rows: list[list[str]]) -> None:
        await asyncio.to_thread(self._append_sync, rows)

    async def aclose(self) -> None:
        return None
