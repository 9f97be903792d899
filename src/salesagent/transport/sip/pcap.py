"""Write a pcap of G.711 RTP from PCM16 audio, for SIPp's ``play_pcap_audio``.

SIPp replays the RTP packets of a capture into a call (rewriting addresses and ports, keeping the
capture's timing), which is the standard way to make a scripted caller speak. Recording a capture
needs a live call and root; generating one needs nothing: Ethernet/IPv4/UDP/RTP headers around
20 ms of mu-law (PT 0) or A-law (PT 8) each, 20 ms apart.

CLI: ``python -m salesagent.transport.sip pcap caller.wav caller.pcap [--law alaw]``.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Literal

from salesagent.transport.g711 import alaw_encode, ulaw_encode
from salesagent.transport.pcm import check_pcm16

_PCAP_MAGIC = 0xA1B2C3D4
_LINKTYPE_ETHERNET = 1
_SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz
PAYLOAD_TYPES = {"ulaw": 0, "alaw": 8}


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def rtp_packets(pcm: bytes, law: Literal["ulaw", "alaw"] = "ulaw", *, ssrc: int = 0x5A1E5, seq: int = 1,
                timestamp: int = 0) -> list[bytes]:
    """PCM16 mono 8 kHz -> RTP packets of 20 ms (the last one padded with silence)."""
    check_pcm16(pcm)
    encode = ulaw_encode if law == "ulaw" else alaw_encode
    frame = _SAMPLES_PER_PACKET * 2
    if len(pcm) % frame:
        pcm += b"\x00" * (frame - len(pcm) % frame)
    packets = []
    for i in range(len(pcm) // frame):
        marker = 0x80 if i == 0 else 0
        header = struct.pack("!BBHII", 0x80, marker | PAYLOAD_TYPES[law], (seq + i) & 0xFFFF,
                             (timestamp + i * _SAMPLES_PER_PACKET) & 0xFFFFFFFF, ssrc)
        packets.append(header + encode(pcm[i * frame:(i + 1) * frame]))
    return packets


def write_rtp_pcap(path: Path, pcm: bytes, law: Literal["ulaw", "alaw"] = "ulaw", *,
                   src: tuple[str, int] = ("10.0.0.1", 6000), dst: tuple[str, int] = ("10.0.0.2", 6000)) -> int:
    """Write ``pcm`` (PCM16 mono 8 kHz) as RTP in a pcap; returns the packet count. SIPp rewrites
    the addresses, so ``src``/``dst`` only need to be plausible."""
    import socket

    src_ip, dst_ip = socket.inet_aton(src[0]), socket.inet_aton(dst[0])
    packets = rtp_packets(pcm, law)
    with Path(path).open("wb") as out:
        out.write(struct.pack("<IHHiIII", _PCAP_MAGIC, 2, 4, 0, 0, 65535, _LINKTYPE_ETHERNET))
        for i, rtp in enumerate(packets):
            udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(rtp), 0) + rtp  # checksum 0: none (IPv4)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0x4000, 64, 17, 0, src_ip, dst_ip)
            ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
            eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
            frame = eth + ip + udp
            usec = i * 20_000
            out.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
            out.write(frame)
    return len(packets)
