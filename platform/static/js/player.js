// The screener player: asks for a playback grant, plays the grant's HLS stream with hls.js, draws the
// moving watermark over the picture and sends heartbeats. Refusals are shown in words, never as a
// silent black frame.
//
// The controls are the page's own, inside the frame: full screen takes the frame (video, mark and
// controls together), so the viewer's mark stays on the picture; the video element has no native
// controls, hence no second full-screen button that would show the bare video.
//
// Segments come from the grant's doors, which pace each grant (docs/playback.md): the buffer ahead is
// kept to a minute, within the door's burst, and a 429 (pace_exceeded) is retried after a pause
// instead of ending playback.
(function () {
  "use strict";
  const root = document.querySelector("[data-player]");
  if (!root) return;
  // Django's JavaScript catalog (jsi18n), loaded just before this script on every page that uses it.
  const { gettext } = window;
  const video = root.querySelector("video");
  const frame = root.querySelector(".player-frame");
  const cover = root.querySelector(".player-cover");
  const mark = root.querySelector(".watermark");
  const controls = root.querySelector(".player-controls");
  const toggleButton = controls.querySelector("[data-action=toggle]");
  const muteButton = controls.querySelector("[data-action=mute]");
  const fullscreenButton = controls.querySelector("[data-action=fullscreen]");
  const seekBar = controls.querySelector("[data-control=seek]");
  const timeLabel = controls.querySelector("[data-control=time]");
  const statusLine = root.querySelector(".player-status");
  const heartbeatMs = Number(root.dataset.heartbeatSeconds || 15) * 1000;
  const BUFFER_SECONDS = 60;
  let hls = null;
  let grant = null;
  let timers = [];
  let seeking = false;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function say(message, isError) {
    statusLine.textContent = message;
    statusLine.classList.toggle("error", Boolean(isError));
  }

  function clearMark() {
    mark.hidden = true;
    mark.querySelectorAll("[data-mark]").forEach((field) => { field.textContent = ""; });
  }

  function stop(message) {
    timers.forEach(clearInterval);
    timers = [];
    if (hls) { hls.destroy(); hls = null; }
    video.removeAttribute("src");
    video.load();
    grant = null;
    clearMark();  // nothing of the last stream shows through the cover
    controls.hidden = true;
    cover.hidden = false;
    if (document.fullscreenElement === frame) document.exitFullscreen().catch(() => {});
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
    if (!response.ok && grant) stop(await response.text());
  }

  async function explainFailure() {
    // hls.js reports a status code only: ask the same door again to get the reason in words.
    if (!grant) return;
    try {
      const response = await fetch(grant.master_url, { credentials: "same-origin" });
      stop(response.ok ? gettext("Playback failed. Press play again.") : await response.text());
    } catch (error) {
      stop(gettext("The connection was lost. Press play again."));
    }
  }

  // hls.js retries server errors but not 4xx: a paced door (429) is worth waiting for, a refusal is not.
  function retryPolicy(maxNumRetry) {
    const errorRetry = {
      maxNumRetry: maxNumRetry,
      retryDelayMs: 1000,
      maxRetryDelayMs: 8000,
      backoff: "exponential",
      shouldRetry: (config, count, _timeout, response, retry) =>
        retry || Boolean(response && response.code === 429 && count < config.maxNumRetry),
    };
    return {
      default: {
        maxTimeToFirstByteMs: 10000,
        maxLoadTimeMs: 120000,
        timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
        errorRetry: errorRetry,
      },
    };
  }

  function clock(seconds) {
    if (!isFinite(seconds)) seconds = 0;
    const whole = Math.floor(seconds);
    const h = Math.floor(whole / 3600);
    const m = Math.floor((whole % 3600) / 60);
    const s = String(whole % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  }

  function showTime() {
    const duration = isFinite(video.duration) ? video.duration : 0;
    seekBar.max = String(duration);
    if (!seeking) seekBar.value = String(video.currentTime);
    timeLabel.textContent = clock(video.currentTime) + " / " + clock(duration);
  }

  function showPlaying() {
    const paused = video.paused || video.ended;
    toggleButton.textContent = paused ? "▶" : "❚❚";
    toggleButton.setAttribute("aria-label", paused ? toggleButton.dataset.labelPlay : toggleButton.dataset.labelPause);
  }

  function showMuted() {
    muteButton.textContent = video.muted ? "🔇" : "🔊";
    muteButton.setAttribute("aria-label", video.muted ? muteButton.dataset.labelUnmute : muteButton.dataset.labelMute);
  }

  function showFullscreen() {
    const full = document.fullscreenElement === frame;
    fullscreenButton.setAttribute("aria-label", full ? fullscreenButton.dataset.labelExit : fullscreenButton.dataset.labelEnter);
    frame.classList.toggle("is-fullscreen", full);
  }

  function togglePlay() {
    if (!grant) return;
    if (video.paused || video.ended) video.play().catch(() => {}); else video.pause();
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (frame.requestFullscreen) frame.requestFullscreen().catch(() => {});
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
    mark.hidden = false;
    timers.push(setInterval(tickClock, 1000), setInterval(moveWatermark, 20000),
                setInterval(heartbeat, heartbeatMs));
    cover.hidden = true;
    controls.hidden = false;
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({
        enableWorker: true,
        lowLatencyMode: false,
        maxBufferLength: BUFFER_SECONDS / 2,
        maxMaxBufferLength: BUFFER_SECONDS,
        backBufferLength: BUFFER_SECONDS,
        fragLoadPolicy: retryPolicy(8),
        keyLoadPolicy: retryPolicy(6),
      });
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
  toggleButton.addEventListener("click", togglePlay);
  muteButton.addEventListener("click", () => { video.muted = !video.muted; });
  fullscreenButton.addEventListener("click", toggleFullscreen);
  video.addEventListener("click", togglePlay);
  video.addEventListener("dblclick", toggleFullscreen);
  seekBar.addEventListener("input", () => { seeking = true; timeLabel.textContent = clock(Number(seekBar.value)) + " / " + clock(video.duration); });
  seekBar.addEventListener("change", () => { seeking = false; video.currentTime = Number(seekBar.value); });
  frame.addEventListener("keydown", (event) => {
    if (!grant || event.target === seekBar) return;
    if (event.key === " " || event.key === "k") { togglePlay(); event.preventDefault(); }
    else if (event.key === "f") { toggleFullscreen(); event.preventDefault(); }
    else if (event.key === "m") { video.muted = !video.muted; }
    else if (event.key === "ArrowRight") { video.currentTime = Math.min(video.duration || 0, video.currentTime + 10); }
    else if (event.key === "ArrowLeft") { video.currentTime = Math.max(0, video.currentTime - 10); }
  });
  ["timeupdate", "durationchange", "loadedmetadata", "seeked"].forEach((name) => video.addEventListener(name, showTime));
  ["play", "pause", "ended"].forEach((name) => video.addEventListener(name, showPlaying));
  video.addEventListener("volumechange", showMuted);
  document.addEventListener("fullscreenchange", showFullscreen);
  video.addEventListener("contextmenu", (event) => event.preventDefault());
  video.addEventListener("pause", () => heartbeat());
  window.addEventListener("pagehide", () => {
    if (grant) heartbeat({ stopped: true });
  });
})();
