// The call page: waveform player over the stereo recording, transcript lines that seek, latency chart.
(function () {
  const audio = document.getElementById("recording");
  if (audio && window.WaveSurfer) {
    WaveSurfer.create({ container: "#waveform", media: audio, height: 64, splitChannels: [{}, {}],
                        waveColor: "#7aa7d9", progressColor: "#1f3a5f" });
  }
  const lines = document.querySelectorAll("#transcript .line");
  lines.forEach((li) => li.addEventListener("click", () => {
    if (!audio) return;
    audio.currentTime = parseFloat(li.dataset.start || "0");
    audio.play().catch(() => {});
  }));
  if (audio) audio.addEventListener("timeupdate", () => {
    lines.forEach((li, i) => {
      const next = lines[i + 1];
      const on = audio.currentTime >= +li.dataset.start && (!next || audio.currentTime < +next.dataset.start);
      li.classList.toggle("playing", on);
    });
  });
  const data = JSON.parse(document.getElementById("latency-data").textContent);
  if (window.Chart && data.labels.length) {
    const names = { endpointing: "Конец фразы", asr: "Распознавание", dialog: "Диалог", tts: "Синтез" };
    new Chart(document.getElementById("latency"), {
      type: "bar",
      data: { labels: data.labels, datasets: Object.keys(names).map((k) => ({ label: names[k], data: data.stages[k] })) },
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "мс" } } } },
    });
  }
})();
