// Live: calls in progress from the server's event stream (SSE), one row per call.
(function () {
  const body = document.querySelector("#live tbody");
  const calls = new Map();
  function render() {
    body.innerHTML = "";
    for (const c of calls.values()) {
      const tr = document.createElement("tr");
      tr.dataset.call = c.call_id;
      for (const v of [c.call_id, c.state || "—", (c.who === "agent" ? "Агент: " : c.who ? "Звонящий: " : "") + (c.last || "")]) {
        const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    document.getElementById("live-count").textContent = calls.size;
    document.getElementById("live-empty").hidden = calls.size > 0;
  }
  const source = new EventSource("/console/api/live");
  source.onmessage = (e) => {
    const ev = JSON.parse(e.data);
    if (ev.kind === "snapshot") { ev.calls.forEach((c) => calls.set(c.call_id, c)); }
    else if (ev.kind === "ended") { calls.delete(ev.call_id); }
    else { calls.set(ev.call_id, ev.call); }
    render();
  };
  render();
})();
