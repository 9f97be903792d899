"""Redis session store and booking ledger (production; ``REDIS_URL``).

Sessions are JSON under ``salesagent:session:<id>``; a sorted set of last activity lets the
sweeper find idle calls and hand their lead over before the key's own TTL (ttl + a grace day)
removes it. The per-session lock is a Redis lock, so several service processes can share calls.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import redis

from salesagent.dialog.session import Session

PREFIX = "salesagent"
GRACE_S = 86400


class RedisSessionStore:
    def __init__(self, url: str, ttl_s: int = 3600, prefix: str = PREFIX) -> None:
        self.ttl_s = ttl_s
        self.prefix = prefix
        self.r = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}"

    @property
    def _activity(self) -> str:
        return f"{self.prefix}:sessions:activity"

    @property
    def _bookings(self) -> str:
        return f"{self.prefix}:bookings"

    def get(self, session_id: str) -> Session | None:
        doc = self.r.get(self._key(session_id))
        if doc is None:
            return None
        touched = self.r.zscore(self._activity, session_id)
        if touched is not None and touched < time.time() - self.ttl_s:
            return None
        return Session.model_validate_json(doc)

    def put(self, session: Session) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self._key(session.session_id), session.model_dump_json(), ex=self.ttl_s + GRACE_S)
        pipe.zadd(self._activity, {session.session_id: time.time()})
        pipe.execute()

    def delete(self, session_id: str) -> bool:
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self._key(session_id))
        pipe.zrem(self._activity, session_id)
        deleted, _ = pipe.execute()
        return bool(deleted)

    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        with self.r.lock(f"{self.prefix}:lock:{session_id}", timeout=30, blocking_timeout=30):
            yield

    def expired_ids(self) -> list[str]:
        """Sessions idle past the TTL, oldest first; nothing is deleted (the sweeper closes each first).

        Several sweepers may list the same id: each takes the session's lock and re-reads it, the
        first closes and deletes it, the others find nothing (and the outbox enqueue is idempotent).
        """
        cutoff = time.time() - self.ttl_s
        return [raw.decode() for raw in self.r.zrangebyscore(self._activity, 0, cutoff)]

    def get_expired(self, session_id: str) -> Session | None:
        """The session if it is idle past the TTL (``get`` hides it), else None."""
        touched = self.r.zscore(self._activity, session_id)
        if touched is None or touched >= time.time() - self.ttl_s:
            return None
        doc = self.r.get(self._key(session_id))
        if doc is None:
            self.r.zrem(self._activity, session_id)  # the key's own TTL removed it: nothing to close
            return None
        return Session.model_validate_json(doc)

    def forget_lock(self, session_id: str) -> None:
        return None  # Redis locks expire by themselves

    def ping(self) -> bool:
        try:
            return bool(self.r.ping())
        except redis.RedisError:
            return False

    def booked(self) -> list[datetime]:
        return [datetime.fromisoformat(k.decode()) for k in self.r.hkeys(self._bookings)]

    def book(self, when: datetime, session_id: str) -> bool:
        if self.r.hsetnx(self._bookings, when.isoformat(), session_id):
            return True
        owner = self.r.hget(self._bookings, when.isoformat())
        return owner is not None and owner.decode() == session_id

    def close(self) -> None:
        self.r.close()
