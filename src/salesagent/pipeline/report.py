"""The call report: what was said (and heard) when, the state path, the slots and why, latencies.

Saved beside the lead by ``notify.CallRecordStore`` as ``report.json``. It is evidence for the
clinic: an operator reading a lead can see which utterance filled each slot, which agent lines
the caller cut off (``interrupted`` with ``heard_fraction``: unplayed text was not said), and how
fast the agent answered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from salesagent.dialog.session import Session


@dataclass
class TranscriptEntry:
    """One line of the conversation; times are seconds since the call started."""

    role: str  # "caller" | "agent"
    text: str
    start: float
    end: float | None = None
    state: str | None = None
    interrupted: bool = False
    heard_fraction: float | None = None  # agent lines: share of the audio the caller heard
    heard_text: str | None = None  # agent lines cut by a barge-in: the sentences actually heard
    kind: str = "turn"  # turn | backchannel | silence_prompt | goodbye
    confidence: float | None = None


@dataclass
class CallReport:
    call_id: str
    transport: str
    caller: str | None
    started_at: datetime
    transcript: list[TranscriptEntry] = field(default_factory=list)
    end_reason: str | None = None
    duration_s: float | None = None
    barge_ins: int = 0
    backchannels: int = 0
    silence_prompts: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self, session: Session | None, latency: dict[str, Any]) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "transport": self.transport,
            "caller": self.caller,
            "started_at": self.started_at.isoformat(),
            "duration_s": self.duration_s,
            "end_reason": self.end_reason,
            "status": session.slots.status.value if session and session.slots.status else None,
            "variant": session.variant if session else None,
            "state_path": [s.value for s in session.path] if session else [],
            "slots": session.slots.model_dump(mode="json") if session else None,
            "transcript": [asdict(e) for e in self.transcript],
            "barge_ins": self.barge_ins,
            "backchannels": self.backchannels,
            "silence_prompts": self.silence_prompts,
            "errors": self.errors,
            "latency": latency,
        }
