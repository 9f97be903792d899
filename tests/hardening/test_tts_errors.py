"""Issue 12, finding 9: text the voice cannot read is the client's error, and a failure midway is
never a 200 that looks whole; both OpenAPI documents say what really comes back.

The engine here is festival, wrapped so that it refuses one marked sentence the way an engine
refuses input it cannot read (festival itself reads nearly anything); everything else is real.
"""

from __future__ import annotations

import httpx
import pytest

from salesagent.speech.tts import TtsError, build_synthesizer
from salesagent.speech.tts_config import TtsSettings
from support.live_server import ThreadedServer

UNREADABLE = "Шшшш"


class Refusing:
    """A real engine that raises on sentences holding :data:`UNREADABLE`, like a broken voice."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.name, self.sample_rate, self.voices = engine.name, engine.sample_rate, engine.voices

    def synthesize(self, text: str, voice: str | None = None) -> bytes:
        if UNREADABLE.lower() in text.lower():
            raise TtsError(f"engine cannot read {text!r}")
        return self.engine.synthesize(text, voice)

    def close(self) -> None:
        self.engine.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from salesagent.services.tts_gateway import create_app

    settings = TtsSettings(engine="festival", festival_pool=1, cache_dir=tmp_path_factory.mktemp("tts-err"))
    synth = build_synthesizer(settings)
    synth.engine = Refusing(synth.engine)
    server = ThreadedServer(create_app(settings, synthesizer=synth))
    yield server
    server.stop()
    synth.close()


def test_text_the_voice_cannot_read_is_a_422_not_a_503(server) -> None:
    reply = httpx.post(f"{server.url}/synthesize", json={"text": f"{UNREADABLE}, ну и ну."}, timeout=60)
    assert reply.status_code == 422
    assert "cannot read" in reply.json()["detail"]


def test_a_failure_after_the_first_sentence_cuts_the_response_off(server) -> None:
    text = f"Здравствуйте, клиника слушает. {UNREADABLE} и ещё раз."
    url = f"{server.url}/synthesize"
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("POST", url, json={"text": text}, timeout=60) as reply:
        assert reply.status_code == 200  # the status went out with the first sentence ...
        for _chunk in reply.iter_bytes():  # ... and the body is cut off, never ended as if whole
            pass


def test_good_text_still_streams_whole(server) -> None:
    reply = httpx.post(f"{server.url}/synthesize", json={"text": "Запись на завтра.", "sample_rate": None},
                       timeout=60)
    assert reply.status_code == 200 and reply.content[:4] == b"RIFF"


def test_openapi_documents_the_bodies_and_errors(server) -> None:
    from salesagent.config import get_settings
    from salesagent.services.dialog_api import create_app as dialog_app
    from salesagent.services.factory import build_service

    tts = httpx.get(f"{server.url}/openapi.json").json()["paths"]["/synthesize"]["post"]
    assert tts["requestBody"]["content"]["application/json"]["schema"]["required"] == ["text"]
    ok = tts["responses"]["200"]["content"]
    assert "audio/wav" in ok and "application/json" not in ok
    assert {"404", "413", "422", "503"} <= set(tts["responses"])

    service = build_service(get_settings(), leads=False)
    try:
        paths = dialog_app(service).openapi()["paths"]
    finally:
        service.store.close()
    assert {"400", "413", "422"} <= set(paths["/dialog"]["post"]["responses"])
    assert "404" in paths["/session/{session_id}"]["get"]["responses"]
