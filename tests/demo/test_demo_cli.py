"""``salesagent demo``, the project's main job, run as a user runs it: a whole phone call.

A simulated caller (the ``quick`` persona: festival shifted in pitch and tempo, 8 kHz telephone
band, talks over the agent) calls the real agent over the real mod_audio_fork WebSocket; the
agent is the full pipeline (Silero VAD, Whisper base, the dialog engine, festival TTS). The test
checks what the product leaves behind: the exit code, the stereo recording, the call report and
the row in the local sheet, each against the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def channel_voiced_s(path: Path) -> tuple[float, float]:
    """Seconds louder than -35 dBFS in the left (caller) and right (agent) channels."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 2 and wav.getsampwidth() == 2
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2) / 32768.0
    frame = rate // 50
    out = []
    for ch in (0, 1):
        x = pcm[: len(pcm) // frame * frame, ch].reshape(-1, frame)
        db = 10 * np.log10(np.mean(x**2, axis=1) + 1e-12)
        out.append(float(np.sum(db > -35.0)) / 50)
    return out[0], out[1]


def test_demo_books_a_call_and_leaves_recording_report_and_lead(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALESAGENT_", "GOOGLE_"))}
    env["SALESAGENT_DATA_DIR"] = str(data)
    proc = subprocess.run(
        [sys.executable, "-m", "salesagent.cli.main", "demo", "--persona", "quick", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=840,
    )
    assert proc.returncode == 0, f"the demo call did not book (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    # the terminal showed the call live: recognised speech, states, latency, the summary
    assert "Распознано" in proc.stdout and "ASK_" in proc.stdout and "мс" in proc.stdout
    assert "booked" in proc.stdout

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "booked"
    path = report["state_path"]
    assert path[0] == "GREETING" and path[-1] == "END"
    assert "CONFIRM_APPOINTMENT" in path and "ASK_PHONE" in path
    slots = report["slots"]
    assert slots["study_type"] == "МРТ коленного сустава"
    assert slots["phone"].startswith("+7") and len(slots["phone"]) == 12
    assert slots["appointment_datetime"].startswith("2026-11-27")  # "в пятницу" from Wed 25 Nov
    assert slots["provenance"]["phone"]["turn"] >= 1
    callers = [e for e in report["transcript"] if e["role"] == "caller"]
    assert len(callers) >= 5 and all(e["end"] > e["start"] >= 0 for e in callers)
    turns = report["latency"]["turns"]
    assert turns and all(t["voice_to_voice_ms"] is None or t["voice_to_voice_ms"] > 0 for t in turns)
    assert report["latency"]["turns_measured"] >= 5

    wav = out / "recording.wav"
    caller_s, agent_s = channel_voiced_s(wav)
    assert caller_s > 5 and agent_s > 10, (caller_s, agent_s)

    import openpyxl

    book = openpyxl.load_workbook(data / "leads.xlsx", read_only=True)
    rows = list(book["Лист4"].iter_rows(values_only=True))
    header, leads = rows[0], rows[1:]
    assert header[:3] == ("Timestamp", "Имя клиента", "Телефон")
    assert len(leads) == 1
    lead = dict(zip(header, leads[0], strict=False))
    assert lead["Статус"] == "записан"
    assert str(lead["Телефон"]).replace(" ", "").lstrip("'") in (slots["phone"], slots["phone"][1:])
    assert lead["Тип исследования"] == slots["study_type"]
    assert str(lead["Стоимость"]) == str(slots["price"])
