"""The Numbers page from the index alone (no report is opened): one SQL pass per figure."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from salesagent.console.index import CallIndex


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))], 1)


def _rate(rows: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    return {str(key): {"calls": n, "booked": b, "rate": round(b / n, 3) if n else None} for key, n, b in rows}


def numbers(index: CallIndex) -> dict[str, Any]:
    booked = "sum(CASE WHEN status = 'booked' THEN 1 ELSE 0 END)"
    per_day = index.query(f"SELECT day, count(*), {booked} FROM calls GROUP BY day ORDER BY day")
    by_study = index.query(f"SELECT coalesce(study, '—'), count(*), {booked} FROM calls GROUP BY 1 ORDER BY 2 DESC")
    by_variant = index.query(f"SELECT coalesce(variant, '—'), count(*), {booked} FROM calls GROUP BY 1 ORDER BY 1")
    v2v: dict[str, list[float]] = defaultdict(list)
    for day, values in index.query("SELECT day, v2v_all FROM calls WHERE v2v_all != '[]'"):
        v2v[day].extend(json.loads(values))
    conf = index.query("SELECT day, avg(asr_conf) FROM calls WHERE asr_conf IS NOT NULL GROUP BY day ORDER BY day")
    drop = Counter({state or "—": n for state, n in index.query(
        "SELECT last_state, count(*) FROM calls WHERE coalesce(status, '') != 'booked' GROUP BY 1")})
    return {
        "days": [d for d, _, _ in per_day],
        "calls_per_day": [n for _, n, _ in per_day],
        "booking_per_day": _rate(per_day),
        "booking_by_study": _rate(by_study),
        "booking_by_variant": _rate(by_variant),
        "v2v": {day: {"p50": _pct(v, 50), "p95": _pct(v, 95)} for day, v in sorted(v2v.items())},
        "asr_confidence": {day: round(c, 3) for day, c in conf},
        "drop_off": dict(drop.most_common()),
    }
