"""HTTP contract of the policy engine: bodies, errors, sessions, restart, concurrency."""

from __future__ import annotations

import asyncio

import httpx


def test_new_session_starts_with_greeting(server) -> None:
    r = httpx.post(f"{server.url}/dialog", json={"session_id": "api-1"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"session_id", "reply", "state", "slots", "done"}
    assert body["state"] == "GREETING" and body["done"] is False and body["reply"]


def test_unknown_session_is_404(server) -> None:
    assert httpx.get(f"{server.url}/session/nope").status_code == 404
    assert httpx.delete(f"{server.url}/session/nope").status_code == 404


def test_bad_bodies_are_4xx_with_a_message(server) -> None:
    url = f"{server.url}/dialog"
    cases = [
        httpx.post(url, json={"text": "привет"}),  # missing session_id
        httpx.post(url, json={"session_id": 5, "text": "привет"}),  # wrong type
        httpx.post(url, json={"session_id": "ok", "text": ["a"]}),  # wrong type
        httpx.post(url, json={"session_id": "../../etc", "text": ""}),  # bad id
        httpx.post(url, content=b"not json", headers={"content-type": "application/json"}),
        httpx.post(url, content=b'{"session_id": "x", "text": "\xff\xfe"}', headers={"content-type": "application/json"}),
        httpx.post(url, json={"session_id": "big", "text": "а" * 10_000_000}),
        httpx.post(url, json={"session_id": "long", "text": "а" * 6000}),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
        assert r.json().get("detail"), r.text[:200]
    assert cases[-2].status_code == 413
    assert cases[5].status_code == 400


def test_openapi_health_ready(server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/dialog" in spec["paths"] and "/session/{session_id}" in spec["paths"]
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_get_and_delete_session(server) -> None:
    httpx.post(f"{server.url}/dialog", json={"session_id": "api-del"})
    httpx.post(f"{server.url}/dialog", json={"session_id": "api-del", "text": "меня зовут Ольга"})
    doc = httpx.get(f"{server.url}/session/api-del").json()
    assert doc["state"] == "ASK_SYMPTOMS"
    assert doc["slots"]["client_name"] == "Ольга"
    assert doc["slots"]["provenance"]["client_name"]["utterance"] == "меня зовут Ольга"
    assert [t["role"] for t in doc["history"]] == ["agent", "caller", "agent"]
    assert httpx.delete(f"{server.url}/session/api-del").status_code == 200
    assert httpx.get(f"{server.url}/session/api-del").status_code == 404


def test_session_survives_a_restart(make_server) -> None:
    first = make_server()
    httpx.post(f"{first.url}/dialog", json={"session_id": "restart-1"})
    httpx.post(f"{first.url}/dialog", json={"session_id": "restart-1", "text": "меня зовут Ольга"})
    first.stop()
    second = make_server()
    r = httpx.post(f"{second.url}/dialog", json={"session_id": "restart-1", "text": "болит колено"})
    assert r.json()["state"] == "ASK_SYMPTOMS_DURATION"
    assert r.json()["slots"]["client_name"] == "Ольга"


def test_concurrent_requests_for_one_session_are_serialised(server) -> None:
    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await client.post("/dialog", json={"session_id": "burst"})
            return await asyncio.gather(
                *[client.post("/dialog", json={"session_id": "burst", "text": f"повторите {i}"}) for i in range(12)]
            )

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    doc = httpx.get(f"{server.url}/session/burst").json()
    roles = [t["role"] for t in doc["history"]]
    # every caller turn is followed by its own agent turn: nothing interleaved or lost
    assert roles == ["agent"] + ["caller", "agent"] * 12
    assert [t["index"] for t in doc["history"][1::2]] == list(range(1, 13))


def test_a_wrong_method_names_every_method_the_path_has(server) -> None:
    """Starlette's 405 named only the first matching route ("Allow: GET" for /session/{id})."""
    response = httpx.request("PUT", f"{server.url}/session/abc", timeout=10)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "DELETE"}
    response = httpx.request("GET", f"{server.url}/dialog", timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
