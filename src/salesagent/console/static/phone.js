// Browser phone: microphone -> PCM16 16 kHz over a WebSocket -> the voice agent; its voice back
// through Web Audio. "clear" (the caller barged in) drops the agent audio already queued.
(function () {
  const RATE = 16000;
  const status = document.getElementById("phone-status");
  const stateEl = document.getElementById("phone-state");
  const list = document.getElementById("phone-transcript");
  let ws, ctx, stream, node, source, events, playAt = 0, playing = [];
  function line(who, text) {
    const li = document.createElement("li");
    li.className = who; li.textContent = (who === "agent" ? "Агент: " : "Вы: ") + text;
    list.appendChild(li);
  }
  function play(buf) {
    const pcm = new Int16Array(buf);
    const audio = ctx.createBuffer(1, pcm.length, RATE);
    const ch = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
    const src = ctx.createBufferSource();
    src.buffer = audio; src.connect(ctx.destination);
    playAt = Math.max(playAt, ctx.currentTime + 0.05);
    src.start(playAt); playAt += audio.duration;
    playing.push(src); src.onended = () => { playing = playing.filter((s) => s !== src); };
  }
  function clear() { playing.forEach((s) => { try { s.stop(); } catch (e) {} }); playing = []; playAt = 0; }
  function follow(callId) {
    events = new EventSource(`/console/api/live?call=${encodeURIComponent(callId)}`);
    events.onmessage = (e) => {
      const ev = JSON.parse(e.data);
      if (ev.kind === "agent") { line("agent", ev.data.text); if (ev.data.state) stateEl.textContent = ev.data.state; }
      else if (ev.kind === "caller") line("caller", ev.data.text);
      else if (ev.kind === "ended") { status.textContent = "звонок завершён"; }
    };
  }
  async function call() {
    document.getElementById("call").disabled = true;
    ctx = new AudioContext({ sampleRate: RATE });
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
    const proto = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${proto}://${location.host}/console/phone/ws`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.send(JSON.stringify({ event: "start", sample_rate: RATE }));
      source = ctx.createMediaStreamSource(stream);
      node = ctx.createScriptProcessor(1024, 1, 1);
      node.onaudioprocess = (e) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        const f = e.inputBuffer.getChannelData(0);
        const out = new Int16Array(f.length);
        for (let i = 0; i < f.length; i++) out[i] = Math.max(-1, Math.min(1, f[i])) * 32767;
        ws.send(out.buffer);
      };
      source.connect(node); node.connect(ctx.destination);
      status.textContent = "идёт звонок";
      document.getElementById("hangup").disabled = false;
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== "string") { play(e.data); return; }
      const m = JSON.parse(e.data);
      if (m.event === "clear") { clear(); document.body.dataset.clears = +(document.body.dataset.clears || 0) + 1; }
      else if (m.event === "call") { document.body.dataset.call = m.call_id; follow(m.call_id); }
    };
    ws.onclose = () => { status.textContent = "звонок завершён"; hangup(false); };
  }
  function hangup(send = true) {
    if (send && ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify({ event: "stop" })); }
    if (node) node.disconnect();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    document.getElementById("hangup").disabled = true;
    document.getElementById("call").disabled = false;
  }
  const btn = document.getElementById("call");
  if (btn) { btn.addEventListener("click", call); document.getElementById("hangup").addEventListener("click", () => hangup(true)); }
})();
