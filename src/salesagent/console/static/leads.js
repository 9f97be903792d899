// Leads: re-drive a dead-lettered lead, then show its state as the delivery worker moves it.
document.querySelectorAll("button.retry").forEach((button) => button.addEventListener("click", async () => {
  const id = button.dataset.call;
  const row = button.closest("tr");
  button.disabled = true;
  const r = await fetch(`/console/api/leads/${encodeURIComponent(id)}/retry`, { method: "POST" });
  if (!r.ok) { row.querySelector(".error").textContent = (await r.json()).detail; button.disabled = false; return; }
  row.querySelector(".state").textContent = "В очереди";
  for (let i = 0; i < 60; i++) {
    await new Promise((ok) => setTimeout(ok, 500));
    const all = await (await fetch("/console/api/leads")).json();
    const lead = all.leads.find((l) => l.call_id === id);
    if (lead) {
      row.querySelector(".state").textContent = lead.state_ru;
      row.querySelector(".error").textContent = lead.last_error || "";
      if (lead.state === "delivered" || lead.state === "dead") break;
    }
  }
  button.remove();
}));
