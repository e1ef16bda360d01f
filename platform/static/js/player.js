// The screener player: asks for a playback grant, plays the grant's HLS stream with hls.js, draws the
// moving watermark over the picture and sends heartbeats. Refusals are shown in words, never as a
// silent black frame.
(function () {
  "use strict";
  const root = document.querySelector("[data-player]");
  if (!root) return;
  const gettext = typeof window.gettext === "function" ? window.gettext : (text) => text;
  const video = root.querySelector("video");
  const frame = root.querySelector(".player-frame");
  const cover = root.querySelector(".player-cover");
  const mark = root.querySelector(".watermark");
  const statusLine = root.querySelector(".player-status");
  const heartbeatMs = Number(root.dataset.heartbeatSeconds || 15) * 1000;
  let hls = null;
  let grant = null;
  let timers = [];

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function say(message, isError) {
    statusLine.textContent = message;
    statusLine.classList.toggle("error", Boolean(isError));
  }

  function stop(message) {
    timers.forEach(clearInterval);
    timers = [];
    if (hls) { hls.destroy(); hls = null; }
    video.removeAttribute("src");
    video.load();
    cover.hidden = false;
    say(message, true);
  }

  function moveWatermark() {
    const x = 5 + Math.random() * 55;
    const y = 5 + Math.random() * 65;
    mark.style.left = x + "%";
    mark.style.top = y + "%";
  }

  function tickClock() {
    mark.querySelector("[data-mark=time]").textContent = new Date().toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function playedRanges() {
    const ranges = [];
    for (let i = 0; i < video.played.length; i += 1) ranges.push([video.played.start(i), video.played.end(i)]);
    return ranges;
  }

  async function heartbeat(extra) {
    if (!grant) return;
    const response = await fetch(grant.heartbeat_url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(extra && extra.stopped),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(Object.assign({ position: video.currentTime, played: playedRanges() }, extra || {})),
    });
    if (!response.ok) stop(await response.text());
  }

  async function explainFailure() {
    // hls.js reports a status code only: ask the same door again to get the reason in words.
    try {
      const response = await fetch(grant.master_url, { credentials: "same-origin" });
      stop(response.ok ? gettext("Playback failed. Press play again.") : await response.text());
    } catch (error) {
      stop(gettext("The connection was lost. Press play again."));
    }
  }

  async function start() {
    say(gettext("Opening the screener…"));
    const response = await fetch(root.dataset.grantUrl, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
    });
    if (!response.ok) { stop(await response.text()); return; }
    grant = await response.json();
    mark.querySelector("[data-mark=name]").textContent = grant.watermark.name;
    mark.querySelector("[data-mark=organisation]").textContent = grant.watermark.organisation;
    mark.querySelector("[data-mark=email]").textContent = grant.watermark.email;
    tickClock();
    moveWatermark();
    timers.push(setInterval(tickClock, 1000), setInterval(moveWatermark, 20000),
                setInterval(heartbeat, heartbeatMs));
    cover.hidden = true;
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({ enableWorker: true, lowLatencyMode: false });
      hls.on(window.Hls.Events.ERROR, (_event, data) => { if (data.fatal) explainFailure(); });
      hls.loadSource(grant.master_url);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = grant.master_url;
      video.addEventListener("error", explainFailure, { once: true });
    } else {
      stop(gettext("This browser cannot play the screener."));
      return;
    }
    say("");
    video.play().catch(() => say(gettext("Press play to start.")));
  }

  root.querySelector("[data-action=start]").addEventListener("click", start);
  root.querySelector("[data-action=fullscreen]").addEventListener("click", () => {
    // The frame, not the video, goes full screen, so the watermark stays on the picture.
    if (document.fullscreenElement) document.exitFullscreen(); else frame.requestFullscreen();
  });
  video.addEventListener("contextmenu", (event) => event.preventDefault());
  video.addEventListener("pause", () => heartbeat());
  window.addEventListener("pagehide", () => {
    if (grant) heartbeat({ stopped: true });
  });
})();
