// A leak trace's progress, live on its page over the WebSocket; the page reloads once the trace is over
// (the result, the chart and the revoke buttons are rendered by the server). Without JavaScript a refresh
// shows the same progress.
(function () {
  "use strict";
  const live = document.querySelector("[data-trace-live]");
  if (!live) return;
  // Django's JavaScript catalog (jsi18n), loaded just before this script on every page that uses it.
  const { gettext } = window;
  const bar = live.querySelector("[data-field=progress]");
  const stage = live.querySelector("[data-field=stage]");
  const status = live.querySelector("[data-field=status]");
  let retry = 1000;
  let over = false;

  function render(state) {
    const percent = Number(state.progress) || 0;
    bar.value = percent;
    bar.textContent = `${Math.round(percent)}%`;
    stage.textContent = `${Math.round(percent)}%` + (state.stage_label ? ` · ${state.stage_label}` : "");
    const labels = { queued: gettext("Waiting"), running: gettext("Tracing"), done: gettext("Done"), failed: gettext("Failed") };
    status.className = `status status-${state.status}`;
    status.textContent = labels[state.status] || state.status;
    if (state.status === "done" || state.status === "failed") {
      over = true;
      window.location.reload();
    }
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${live.dataset.socket}`);
    socket.addEventListener("open", () => { retry = 1000; });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "trace") render(message);
    });
    socket.addEventListener("close", (event) => {
      if (over) return;
      if (event.code === 4401 || event.code === 4404) { // signed out, or no longer allowed: the page says why
        stage.textContent = gettext("Live progress has stopped: refresh the page.");
        return;
      }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  connect();
})();
