// Live payment status on an agreement's schedule page, pushed over the WebSocket (payments/consumers.py),
// and the receipt's Print button. Both pages work without JavaScript.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });

  const root = document.querySelector("[data-payments]");
  if (!root) return;
  let retry = 1000;
  let last = null;
  let refreshing = false;
  let attempts = 0;

  const live = () => root.querySelector("[data-payments-live]");

  // Badges and Stripe's failure reasons are patched at once; returns true when the page needs the
  // server's rendering again (buttons, receipt links, totals and ledger depend on the new status).
  function patch(message) {
    let stale = String(message.disputed) !== live().dataset.disputed;
    message.instalments.forEach((item) => {
      const row = root.querySelector(`[data-instalment="${item.id}"]`);
      if (!row) { stale = true; return; }
      const badge = row.querySelector("[data-field=status]");
      badge.textContent = item.status_label;
      badge.className = `status status-${item.status}`;
      row.querySelector("[data-field=reason]").textContent = item.status === "failed" ? item.failure_reason : "";
      if (row.dataset.status !== item.status) stale = true;
    });
    return stale;
  }

  // Re-render the live part of the page from the server, in place; a full reload if that fails.
  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector("[data-payments-live]");
      if (!fresh) throw new Error("no payments section in the page");
      live().replaceWith(document.importNode(fresh, true));
    } catch (error) {
      window.location.reload();
      return;
    } finally {
      refreshing = false;
    }
    // The page may have been rendered just before the newest change: compare again, a few times at most.
    if (last && patch(last) && attempts < 5) {
      attempts += 1;
      setTimeout(refresh, 1000);
    } else {
      attempts = 0;
    }
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${root.dataset.socket}`);
    socket.addEventListener("open", () => { retry = 1000; });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type !== "instalments") return;
      last = message;
      if (patch(message)) refresh();
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4404) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  connect();
})();
