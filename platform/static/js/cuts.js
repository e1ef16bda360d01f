// Live packaging progress on the producer's screener page, pushed over the WebSocket.
(function () {
  "use strict";
  const table = document.querySelector("[data-cuts]");
  if (!table) return;
  // Django's JavaScript catalog (jsi18n), loaded just before this script on every page that uses it.
  const { gettext } = window;
  const uploader = document.querySelector("[data-uploader]");
  let socket = null;
  let retry = 1000;

  function render(cuts) {
    let unknown = false;
    cuts.forEach((cut) => {
      const row = table.querySelector(`[data-cut="${cut.id}"]`);
      if (!row) { unknown = true; return; }
      const status = row.querySelector("[data-field=status]");
      status.className = `status status-${cut.status}`;
      status.dataset.status = cut.status;
      row.querySelector("[data-field=progress]").value = cut.progress;
      row.querySelector("[data-field=stage]").textContent = cut.stage ? `${Math.round(cut.progress)}% · ${cut.stage_label}` : "";
      row.querySelector("[data-field=reason]").textContent = cut.failure_reason || "";
      const labels = { uploading: gettext("Uploading"), queued: gettext("Waiting to be packaged"), processing: gettext("Packaging"),
                       ready: gettext("Published"), failed: gettext("Failed"), cancelled: gettext("Cancelled") };
      status.textContent = labels[cut.status] || cut.status;
    });
    // A cut that finished or appeared needs links and buttons only the server renders: reload once, but
    // never under an upload (the new cut appears as soon as its upload starts): reloading would abort it.
    if (unknown || cuts.some((c) => c.status === "ready" && !table.querySelector(`[data-cut="${c.id}"] a`))) {
      if (uploader && uploader.dataset.uploading === "true") return; // it reloads when the upload is done
      window.location.reload();
    }
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}${table.dataset.socket}`);
    socket.addEventListener("open", () => { retry = 1000; });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "cuts") render(message.cuts);
      if (message.type === "error") window.alert(message.detail);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4404) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  table.addEventListener("click", (event) => {
    const id = event.target.dataset && event.target.dataset.cancel;
    if (id && socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action: "cancel", cut: id }));
  });
  if (uploader) uploader.addEventListener("screener:uploaded", () => window.location.reload());
  connect();
})();
