"""The console in a real browser (Debian's chromium driven by Playwright) against the real voice app:
a call from the browser phone (Chromium's fake microphone playing a Russian caller phrase rendered
by the project's test voice) through the same VoiceAgent as the telephony bridges, then the calls
list, the call page (transcript, slots, latency chart, recording that plays), a dead-lettered lead
retried from the Leads page and delivered, the Live and Numbers pages.

Screenshots of each page go to ``<data dir>/console-screenshots/`` (printed at the end).
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from salesagent.dialog.slots import CallStatus, DialogSlots
from salesagent.notify import Lead, LeadState
from salesagent.services.app import AppParts, create_voice_app
from salesagent.transport.config import TelephonySettings

pytestmark = pytest.mark.timeout(240)
ANSWER = "Здравствуйте. Я хочу записаться на МРТ коленного сустава."
DEAD_ID = "dead-lead-1"


def _caller_wav(path: Path, pcm8k: bytes, lead_s: float = 7.0) -> Path:
    """8 kHz phrase -> 16 kHz WAV, ``lead_s`` of silence before it (the fake mic loops the file)."""
    x = np.frombuffer(pcm8k, dtype=np.int16).astype(np.float32)
    up = np.interp(np.arange(len(x) * 2) / 2, np.arange(len(x)), x).astype(np.int16)
    silence = np.zeros(16000 * 7, dtype=np.int16)
    lead = np.zeros(int(16000 * lead_s), dtype=np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.concatenate([lead, up, silence, silence]).tobytes())
    return path


def _fake_mic(chromium: str, wav: Path) -> dict:
    return {"executable_path": chromium, "args": [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}", "--autoplay-policy=no-user-gesture-required"]}


def _dead_lead(outbox) -> None:
    lead = Lead(call_id=DEAD_ID, ended_at=datetime(2026, 11, 25, 8, tzinfo=UTC), status=CallStatus.BOOKED,
                slots=DialogSlots(client_name="Мария", phone="+79161234567", study_type="МРТ коленного сустава"))
    outbox.enqueue(lead)
    assert [e.call_id for e in outbox.claim(10, time.time(), 60, "test")] == [DEAD_ID]
    outbox.mark_dead(DEAD_ID, "Google Sheets: 403 forbidden", "test")


async def test_console_in_a_real_browser(voice_stack, caller_voice: Callable[[str], bytes], chromium_path: str,
                                         console_login: tuple[str, str], tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    from salesagent.demo.runner import AgentServer

    shots = voice_stack.settings.data_dir / "console-screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    wav = _caller_wav(tmp_path / "caller.wav", caller_voice(ANSWER))
    outbox = voice_stack.dialog.leads.outbox
    _dead_lead(outbox)
    app = create_voice_app(voice_stack, telephony=TelephonySettings(enable_audiosocket=False),
                           parts=AppParts(asr_gateway=False, tts_gateway=False))
    async with AgentServer(app) as server, async_playwright() as pw:
        base = server.url("", "http")
        browser = await pw.chromium.launch(**_fake_mic(chromium_path, wav))
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            await _login(page, base, *console_login, shots)
            call_id = await _browser_phone(page, context, base, shots)
            await _calls_and_call_page(page, base, call_id, shots)
            await _leads(page, base, shots, outbox)
            await page.goto(f"{base}/console/numbers")
            await page.wait_for_selector("#per-day")
            await page.screenshot(path=str(shots / "numbers.png"), full_page=True)
        finally:
            await browser.close()
    print(f"\nconsole screenshots: {shots}")


async def _login(page, base: str, user: str, password: str, shots: Path) -> None:
    await page.goto(f"{base}/console/calls")
    assert "/console/login" in page.url  # not logged in yet
    await page.screenshot(path=str(shots / "login.png"))
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", password)
    await page.click("#login")
    await page.wait_for_url(f"{base}/console/calls")


async def _browser_phone(page, context, base: str, shots: Path) -> str:
    """Greeting heard, the caller's phrase understood, the dialog one step further; Live shows the call."""
    await page.goto(f"{base}/console/phone")
    await page.click("#call")
    await page.wait_for_selector("#phone-transcript li.agent", timeout=30_000)  # the greeting
    live = await context.new_page()
    await live.goto(f"{base}/console/live")
    await live.wait_for_selector("#live tbody tr", timeout=15_000)
    await live.screenshot(path=str(shots / "live.png"))
    await live.close()
    await page.wait_for_selector("#phone-transcript li.caller", timeout=60_000)
    # The fake microphone loops the phrase (every ~28 s): wait until the study has been heard and
    # answered, whichever loop it took (Whisper may split "Здравствуйте." from the request, or
    # mishear one pass), so the call page below has the slot the caller asked for.
    await page.wait_for_function(
        "[...document.querySelectorAll('#phone-transcript li.caller')].some((li) => /мрт|колен/i.test(li.textContent))"
        " && document.querySelectorAll('#phone-transcript li.agent').length >= 2", timeout=100_000)
    await page.wait_for_function(
        "(() => { const lines = [...document.querySelectorAll('#phone-transcript li')];"
        " const heard = lines.findIndex((li) => li.classList.contains('caller') && /мрт|колен/i.test(li.textContent));"
        " return lines.slice(heard + 1).some((li) => li.classList.contains('agent')); })()", timeout=60_000)
    state = await page.text_content("#phone-state")
    assert state and state != "—"
    await page.screenshot(path=str(shots / "phone.png"), full_page=True)
    call_id = await page.evaluate("document.body.dataset.call")
    await page.click("#hangup")
    await page.wait_for_function("document.getElementById('phone-status').textContent === 'звонок завершён'",
                                 timeout=30_000)
    return call_id


async def _calls_and_call_page(page, base: str, call_id: str, shots: Path) -> None:
    for _ in range(60):  # the report is saved once the call has wound down
        await page.goto(f"{base}/console/calls")
        if await page.locator(f"a[href='/console/calls/{call_id}']").count():
            break
        await page.wait_for_timeout(500)
    else:
        raise AssertionError(f"{call_id} never appeared in the calls list")
    assert "Браузер" in await page.text_content("#calls")
    await page.screenshot(path=str(shots / "calls.png"), full_page=True)
    await page.click(f"a[href='/console/calls/{call_id}']")
    await page.wait_for_selector("#transcript .line.agent")
    assert await page.locator("#transcript .line.caller").count() >= 1
    assert await page.locator("#slots tbody tr").count() >= 1
    assert "study_type" in await page.text_content("#slots")
    assert await page.evaluate("Chart.getChart('latency') !== undefined")
    duration = await page.evaluate("""() => new Promise((ok) => { const a = document.getElementById('recording');
        if (a.readyState >= 1) ok(a.duration); else a.addEventListener('loadedmetadata', () => ok(a.duration)); })""")
    assert duration > 1.0
    await page.click("#transcript .line.caller")  # a line seeks the player there and plays
    await page.wait_for_function("!document.getElementById('recording').paused", timeout=10_000)
    await page.wait_for_timeout(500)
    await page.screenshot(path=str(shots / "call.png"), full_page=True)


async def _leads(page, base: str, shots: Path, outbox) -> None:
    await page.goto(f"{base}/console/leads?state=dead")
    row = page.locator(f"tr[data-call='{DEAD_ID}']")
    assert "403" in await row.text_content()
    await page.screenshot(path=str(shots / "leads-dead.png"), full_page=True)
    await row.locator("button.retry").click()
    await page.wait_for_function(f"document.querySelector(\"tr[data-call='{DEAD_ID}'] .state\").textContent"
                                 " === 'Доставлен'", timeout=30_000)
    await page.screenshot(path=str(shots / "leads-retried.png"), full_page=True)
    assert outbox.get(DEAD_ID).state is LeadState.DELIVERED  # the page said so; the outbox agrees


async def test_browser_phone_barge_in(voice_stack, caller_voice: Callable[[str], bytes], chromium_path: str,
                                      console_login: tuple[str, str], tmp_path: Path) -> None:
    """The caller talks over the greeting: the server says ``clear``, the page drops the queued
    agent audio, and the call's report counts the barge-in."""
    from playwright.async_api import async_playwright

    from salesagent.demo.runner import AgentServer

    wav = _caller_wav(tmp_path / "over.wav", caller_voice(ANSWER), lead_s=1.5)
    app = create_voice_app(voice_stack, telephony=TelephonySettings(enable_audiosocket=False),
                           parts=AppParts(asr_gateway=False, tts_gateway=False, lead_worker=False))
    async with AgentServer(app) as server, async_playwright() as pw:
        base = server.url("", "http")
        browser = await pw.chromium.launch(**_fake_mic(chromium_path, wav))
        try:
            page = await (await browser.new_context()).new_page()
            await _login(page, base, *console_login, voice_stack.settings.data_dir / "console-screenshots")
            await page.goto(f"{base}/console/phone")
            await page.click("#call")
            await page.wait_for_function("+(document.body.dataset.clears || 0) >= 1", timeout=30_000)
            await page.wait_for_selector("#phone-transcript li.caller", timeout=30_000)
            call_id = await page.evaluate("document.body.dataset.call")
            await page.click("#hangup")
            for _ in range(60):
                report = voice_stack.records.load_report(call_id)
                if report is not None:
                    break
                await page.wait_for_timeout(250)
        finally:
            await browser.close()
    assert report is not None and report["barge_ins"] >= 1
    assert any(e["role"] == "agent" and e["interrupted"] for e in report["transcript"])
