"""SIP edge settings (``SALESAGENT_SIP_*``), validated once at start."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SipSettings(BaseSettings):
    """Where the SIP user agent listens and where it forks each answered call's audio.

    The edge replaces FreeSWITCH for small set-ups: a softphone or a SIP trunk calls it directly,
    and every answered call becomes one ``mod_audio_fork`` WebSocket to the agent, so the agent
    cannot tell the two apart.
    """

    model_config = SettingsConfigDict(env_prefix="SALESAGENT_SIP_", extra="ignore", env_file=".env")

    host: str = Field(default="0.0.0.0", description="Bind address for SIP (UDP) and RTP.")
    port: int = Field(default=5060, ge=1, le=65535, description="SIP UDP port.")
    public_address: str | None = Field(
        default=None,
        description="Address written into Contact and SDP (NAT/public IP); the bind host when that is specific.",
    )
    user: str = Field(default="agent", pattern=r"^[A-Za-z0-9._+-]+$", description="User part of our SIP URI.")
    rtp_port: int = Field(default=40000, ge=1024, le=65000, description="First RTP port (RTCP uses +1).")
    rtp_port_range: int = Field(default=1000, ge=2, le=20000, description="How many RTP ports may be used.")
    codecs: tuple[Literal["PCMU", "PCMA"], ...] = Field(
        default=("PCMU", "PCMA"), min_length=1, description="Offered/accepted codecs in preference order."
    )

    audiofork_url: str = Field(
        default="ws://127.0.0.1:8090/audiofork", description="The agent's mod_audio_fork WebSocket endpoint."
    )
    max_calls: int = Field(
        default=4, ge=1, le=32,
        description="Concurrent calls; more get 486 Busy Here. The pjsua2-python 2.15 wheel itself stops at 4 "
        "(measured: a 5th INVITE is refused inside pjsua), so above 4 needs a pjproject build with more.",
    )
    connect_timeout_s: float = Field(
        default=5.0, gt=0, description="How long to wait for the agent's WebSocket before rejecting a call (503)."
    )
    max_playout_s: float = Field(
        default=30.0, gt=0, description="Agent audio buffered per call beyond this is dropped (protects memory)."
    )
    pj_log_level: int = Field(default=1, ge=0, le=6, description="pjsip's own log verbosity (forwarded to logging).")

    @field_validator("audiofork_url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError(f"audiofork_url must start with ws:// or wss://, got {value!r}")
        return value

    @model_validator(mode="after")
    def _ports_fit(self) -> SipSettings:
        if self.rtp_port + self.rtp_port_range > 65536:
            raise ValueError(f"rtp_port {self.rtp_port} + rtp_port_range {self.rtp_port_range} exceeds 65535")
        return self

    @property
    def advertised_address(self) -> str | None:
        """What goes into Contact/SDP: the public address, else a specific bind address, else pjsip's guess."""
        if self.public_address:
            return self.public_address
        return None if self.host in ("0.0.0.0", "") else self.host
