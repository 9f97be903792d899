"""SIP edge: a pjsua2 user agent that lets a softphone or SIP trunk call the agent without FreeSWITCH.

Each answered call (G.711 PCMU/PCMA, 8 kHz) is bridged into the agent's ``mod_audio_fork``
WebSocket, exactly as FreeSWITCH would fork it, so the agent side needs no SIP knowledge.
Needs the ``sip`` extra (``pjsua2-python``); importing this package does not.
"""

from salesagent.transport.sip.config import SipSettings

__all__ = ["SipSettings", "run_sip_edge"]


def run_sip_edge(settings: SipSettings | None = None) -> None:
    """Run the SIP edge until SIGINT/SIGTERM (see :mod:`salesagent.transport.sip.edge`)."""
    from salesagent.transport.sip.edge import run_sip_edge as _run

    _run(settings)
