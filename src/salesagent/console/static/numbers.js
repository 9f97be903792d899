// Numbers: charts from the JSON the server rendered into the page.
(function () {
  const n = JSON.parse(document.getElementById("numbers-data").textContent);
  const opts = { animation: false };
  const chart = (id, type, labels, datasets) => new Chart(document.getElementById(id), { type, data: { labels, datasets }, options: opts });
  chart("per-day", "bar", n.days, [{ label: "звонков", data: n.calls_per_day }]);
  const rate = (m) => Object.values(m).map((v) => v.rate);
  chart("booking-day", "line", Object.keys(n.booking_per_day), [{ label: "доля записей", data: rate(n.booking_per_day) }]);
  const days = Object.keys(n.v2v);
  chart("v2v", "line", days, [{ label: "p50", data: days.map((d) => n.v2v[d].p50) }, { label: "p95", data: days.map((d) => n.v2v[d].p95) }]);
  chart("asr", "line", Object.keys(n.asr_confidence), [{ label: "средняя уверенность", data: Object.values(n.asr_confidence) }]);
  chart("booking-study", "bar", Object.keys(n.booking_by_study), [{ label: "доля записей", data: rate(n.booking_by_study) }]);
  chart("booking-variant", "bar", Object.keys(n.booking_by_variant), [{ label: "доля записей", data: rate(n.booking_by_variant) }]);
  chart("funnel", "bar", Object.keys(n.drop_off), [{ label: "звонков закончилось здесь без записи", data: Object.values(n.drop_off) }]);
})();
