"""Telephony settings (``SALESAGENT_TELEPHONY_*``), validated once at start."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelephonySettings(BaseSettings):
    """Where the bridges listen and how they pace agent audio.

    The pacing numbers decide barge-in latency: the peer never holds more than
    ``lead_frames * frame_ms`` of agent audio, so after ``clear()`` the caller hears at most that
    much more (60 ms by default) plus network delay.
    """

    model_config = SettingsConfigDict(env_prefix="SALESAGENT_TELEPHONY_", extra="ignore", env_file=".env")

    host: str = Field(default="127.0.0.1", description="Bind address of the WebSocket and AudioSocket servers.")
    http_port: int = Field(default=8090, ge=0, le=65535, description="Standalone WebSocket server port.")
    audiosocket_port: int = Field(default=9092, ge=0, le=65535, description="Asterisk AudioSocket TCP port.")
    enable_audiosocket: bool = True

    frame_ms: int = Field(default=20, ge=10, le=60, description="Outbound frame length.")
    lead_frames: int = Field(default=3, ge=1, le=10, description="Frames sent ahead of real time.")

    audiofork_rate: Literal[8000, 16000] = Field(
        default=8000, description="mod_audio_fork sample rate when neither metadata nor URL says."
    )
    audiofork_playback: Literal["stream", "playaudio"] = Field(
        default="stream",
        description="stream: binary L16 back (bidirectional module); playaudio: JSON playAudio chunks.",
    )
    playaudio_chunk_ms: int = Field(
        default=1000, ge=100, le=10000, description="Audio per playAudio message (each becomes a file)."
    )
    max_frame_bytes: int = Field(
        default=64000, ge=320, description="Inbound frames larger than this end the call (protects memory)."
    )
    inbound_queue_frames: int = Field(
        default=500, ge=10, description="Inbound frames buffered for a slow handler before the oldest drop."
    )
    first_message_timeout_s: float = Field(
        default=10.0, gt=0, le=120,
        description="A connection that has not said who it is (metadata, 'start', UUID) by then is closed.",
    )
    max_connections: int = Field(
        default=200, ge=1, description="Connections per bridge and process; more are refused (try another worker).",
    )
    handler_grace_s: float = Field(
        default=5.0, gt=0, description="How long a handler may run after CallStopped before it is cancelled."
    )
