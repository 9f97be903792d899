"""Synthesised audio cache: files under ``$SALESAGENT_DATA_DIR/tts-cache`` and, optionally, Redis.

The key is (engine, voice, output rate, NORMALISED text): two spellings that normalise to the same
words ("4500 руб." and "4500 рублей") share one entry, and a change of voice or rate never serves
stale audio. Files persist (prerendered phrases survive restarts); Redis entries expire after
``redis_ttl_s`` (1 hour by default) and let several gateway replicas share the work.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


def cache_key(engine: str, voice: str, rate: int, text: str) -> str:
    digest = hashlib.sha256(f"{engine}\x1f{voice}\x1f{rate}\x1f{text}".encode()).hexdigest()
    return f"{engine}-{voice}-{rate}-{digest[:40]}"


class AudioCache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, pcm: bytes) -> None: ...


class FileCache:
    """One file per entry, written atomically (temp file + rename) so readers never see half."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key[-2:] / f"{key}.pcm"

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, pcm: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pcm)
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.pcm"))


class RedisCache:
    """Entries under ``salesagent:tts:<key>`` with a TTL. A Redis outage degrades to a miss, logged."""

    def __init__(self, url: str, ttl_s: int = 3600, prefix: str = "salesagent:tts:") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=1.0)
        self.ttl_s, self.prefix = ttl_s, prefix
        self.client.ping()

    def get(self, key: str) -> bytes | None:
        import redis

        try:
            value = self.client.get(self.prefix + key)
        except redis.RedisError as exc:
            log.warning("tts redis cache unavailable", extra={"context": {"error": str(exc)}})
            return None
        return bytes(value) if value is not None else None

    def put(self, key: str, pcm: bytes) -> None:
        import redis

        try:
            self.client.set(self.prefix + key, pcm, ex=self.ttl_s)
        except redis.RedisError as exc:
            log.warning("tts redis cache unavailable", extra={"context": {"error": str(exc)}})

    def ttl(self, key: str) -> int:
        return int(self.client.ttl(self.prefix + key))


class LayeredCache:
    """Redis first (shared, fast), then files; a file hit is copied back into Redis."""

    def __init__(self, layers: list[AudioCache]) -> None:
        self.layers = layers
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> bytes | None:
        for i, layer in enumerate(self.layers):
            value = layer.get(key)
            if value is not None:
                for upper in self.layers[:i]:
                    upper.put(key, value)
                self.hits += 1
                return value
        self.misses += 1
        return None

    def put(self, key: str, pcm: bytes) -> None:
        for layer in self.layers:
            layer.put(key, pcm)
