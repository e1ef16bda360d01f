// The negotiation thread, live over a WebSocket (protocol: offers/consumers.py).
//
// The server numbers every event; this page remembers the last number it has seen and, whenever the
// socket (re)opens, asks for everything after it, so a dropped connection loses nothing. Messages carry
// a client id: one resent after a reconnect appears once. Everything the users wrote is inserted as
// text, never as HTML.
(function () {
  "use strict";

  // Django's JavaScript catalog (jsi18n), loaded just before this script on every page that uses it.
  const { gettext, ngettext, interpolate } = window;
  const configNode = document.getElementById("thread-config");
  if (!configNode) return;
  const config = JSON.parse(configNode.textContent);
  const language = (document.documentElement.lang || "en").slice(0, 2);
  const $ = (selector) => document.querySelector(selector);

  const KIND_LABELS = {
    submitted: gettext("Offer submitted"),
    counter: gettext("Counter-offer"),
    accepted: gettext("Accepted"),
    declined: gettext("Declined"),
    withdrawn: gettext("Withdrawn"),
    expired: gettext("Expired"),
  };
  const STATUS_LABELS = {
    submitted: gettext("Submitted"),
    accepted: gettext("Accepted"),
    declined: gettext("Declined"),
    withdrawn: gettext("Withdrawn"),
    expired: gettext("Expired"),
  };
  const SIDE_LABELS = { producer: gettext("Producers"), offeror: gettext("Offeror") };

  const state = {
    lastSeq: 0,
    status: config.status,
    latest: null, // the latest version: {number, side, terms, terms_hash, rendered}
    online: new Set(),
    reads: {},
    myRead: 0,
    pending: new Map(), // client id -> frame, until acknowledged
    socket: null,
    retry: 0,
    editor: null,
    following: true, // the list shows its newest event; false once the reader scrolls up
    unseen: 0, // events that arrived below the fold while the reader was reading above
  };
  const names = Object.fromEntries(config.parties.map((p) => [p.id, p]));

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.assign(node, attrs || {});
    for (const child of children || []) {
      if (child != null) node.append(child);
    }
    return node;
  }

  function clientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  // --- the socket ---------------------------------------------------------------------------------

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${config.socket}`);
    state.socket = socket;
    setConnection(gettext("Connecting…"));
    socket.addEventListener("open", () => {
      state.retry = 0;
      socket.send(JSON.stringify({ type: "resume", after: state.lastSeq }));
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      (HANDLERS[frame.type] || (() => {}))(frame);
    });
    socket.addEventListener("close", (event) => {
      state.socket = null;
      if (event.code === 4404) {
        setConnection(gettext("You no longer have access to this negotiation."), true);
        return;
      }
      if (event.code === 4401) {
        setConnection(gettext("Your session has ended: sign in again."), true);
        return;
      }
      const delay = Math.min(15000, 500 * 2 ** state.retry++);
      setConnection(gettext("Connection lost; reconnecting…"), true);
      setTimeout(connect, delay);
    });
  }

  function send(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function setConnection(text, warning) {
    const node = $("[data-connection]");
    node.textContent = text;
    node.classList.toggle("error", Boolean(warning));
  }

  const HANDLERS = {
    event: (frame) => addEvent(frame.event),
    synced: (frame) => {
      state.online = new Set(frame.online);
      state.reads = frame.reads || {};
      setConnection(gettext("Live"));
      for (const pending of state.pending.values()) send(pending); // resent with the same client id
      renderPresence();
      renderReceipts();
      markRead();
    },
    presence: (frame) => {
      if (frame.online) state.online.add(frame.user);
      else state.online.delete(frame.user);
      renderPresence();
    },
    typing: (frame) => showTyping(frame.name),
    read: (frame) => {
      state.reads[frame.user] = frame.seq;
      renderReceipts();
    },
    ack: (frame) => {
      if (frame.client_id) state.pending.delete(frame.client_id);
      if (frame.action === "counter") closeCounter();
      if (frame.action === "accept" && frame.agreement) showAgreement(frame.agreement);
    },
    error: (frame) => showError(frame),
    pong: () => {},
  };

  // --- events -------------------------------------------------------------------------------------

  function addEvent(event) {
    if (event.seq <= state.lastSeq) return; // already shown
    state.lastSeq = event.seq;
    const mine = document.querySelector(`[data-pending="${CSS.escape(event.client_id || "-")}"]`);
    if (mine) mine.remove();
    $("[data-events]").append(renderEvent(event));
    arrived(event.author && event.author.id === config.me.id);
    if (event.version) setLatest(event.version);
    if (event.kind in STATUS_LABELS && event.kind !== "submitted") setStatus(event.kind);
    if (event.agreement) showAgreement(event.agreement);
    renderReceipts();
    markRead();
  }

  // --- following the newest event -----------------------------------------------------------------
  // The list follows its newest event while the reader is at its foot; once they scroll up to read, new
  // events wait below and a button says how many arrived (and brings the reader down to them).

  function atFoot(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function toFoot() {
    const list = $("[data-events]");
    list.scrollTop = list.scrollHeight;
    state.following = true;
    state.unseen = 0;
    renderUnseen();
    markRead();
  }

  function arrived(mine) {
    if (state.following || mine) {
      toFoot();
      return;
    }
    state.unseen += 1;
    renderUnseen();
  }

  function renderUnseen() {
    const button = $("[data-new-events]");
    if (!button) return;
    button.hidden = state.unseen === 0;
    button.textContent = interpolate(
      ngettext("%(count)s new event below", "%(count)s new events below", state.unseen),
      { count: state.unseen },
      true,
    );
  }

  function bindFollowing() {
    const list = $("[data-events]");
    list.addEventListener("scroll", () => {
      state.following = atFoot(list);
      if (state.following && state.unseen) {
        state.unseen = 0;
        renderUnseen();
        markRead();
      }
    });
    const button = $("[data-new-events]");
    if (button) button.addEventListener("click", toFoot);
  }

  function renderEvent(event) {
    const author = event.author ? event.author.name : gettext("The platform");
    const when = new Date(event.created_at).toLocaleString(language);
    const mine = event.author && event.author.id === config.me.id;
    const item = el("li", {
      className: `event event-${event.kind} side-${event.side || "system"}${mine ? " mine" : ""}`,
    });
    item.dataset.seq = event.seq;
    item.append(
      el("p", { className: "event-meta" }, [
        el("strong", { textContent: author }),
        event.side ? ` · ${SIDE_LABELS[event.side] || ""}` : "",
        ` · ${when}`,
      ])
    );
    if (event.kind !== "message") {
      let title = KIND_LABELS[event.kind] || event.kind;
      if (event.version) title += ` — ${interpolate(gettext("version %(n)s"), { n: event.version.number }, true)}`;
      item.append(el("p", { className: "event-title", textContent: title }));
    }
    if (event.body) item.append(el("p", { className: "event-body", textContent: event.body }));
    if (event.kind === "counter") item.append(renderChanges(event.version));
    if (event.version && (event.kind === "submitted" || event.kind === "counter")) {
      item.append(
        el("details", {}, [
          el("summary", { textContent: gettext("Full terms of this version") }),
          renderTerms(event.version),
        ])
      );
    }
    return item;
  }

  function renderChanges(version) {
    // What changed from the version before, line by line as the terms read in this language
    const rows = version.rendered_changes[language] || version.rendered_changes.en || [];
    const list = el("ul", { className: "changes" });
    for (const [label, before, after] of rows) {
      list.append(
        el("li", {}, [
          el("strong", { textContent: `${label}: ` }),
          before === null ? "" : el("del", { textContent: before }),
          before === null || after === null ? "" : " → ",
          after === null ? el("em", { textContent: gettext("removed") }) : el("ins", { textContent: after }),
        ])
      );
    }
    return list;
  }

  function renderTerms(version) {
    const list = el("dl", { className: "terms" });
    for (const [label, value] of version.rendered[language] || version.rendered.en) {
      list.append(el("dt", { textContent: label }), el("dd", { textContent: value }));
    }
    return list;
  }

  function setLatest(version) {
    state.latest = version;
    $("[data-latest-number]").textContent = `v${version.number}`;
    $("[data-latest-hash]").textContent = version.terms_hash;
    $("[data-latest-terms]").replaceChildren(...renderTerms(version).childNodes);
    updateActions();
  }

  function setStatus(status) {
    state.status = status;
    const badge = $("[data-status]");
    badge.textContent = STATUS_LABELS[status] || status;
    badge.className = `status status-${status}`;
    updateActions();
  }

  function showAgreement(publicId) {
    const link = $("[data-agreement-link]");
    link.href = config.memoUrl.replace("00000000-0000-0000-0000-000000000000", publicId);
    $("[data-agreement]").hidden = false;
  }

  // --- presence, typing, receipts -------------------------------------------------------------------

  function renderPresence() {
    const list = $("[data-presence]");
    list.replaceChildren(
      ...config.parties.map((party) => {
        const here = party.id === config.me.id || state.online.has(party.id);
        return el("li", { className: here ? "online" : "offline" }, [
          el("span", { className: "dot", ariaHidden: "true" }),
          `${party.name} · ${SIDE_LABELS[party.side]}`,
          el("span", { className: "visually-hidden", textContent: here ? gettext("online") : gettext("offline") }),
        ]);
      })
    );
  }

  let typingTimer = null;
  function showTyping(name) {
    $("[data-typing]").textContent = interpolate(gettext("%(name)s is typing…"), { name }, true);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => ($("[data-typing]").textContent = ""), 3000);
  }

  function renderReceipts() {
    const old = document.querySelector("[data-receipt]");
    if (old) old.remove();
    const readers = Object.entries(state.reads)
      .filter(([user, seq]) => Number(user) !== config.me.id && seq >= state.lastSeq && names[user])
      .map(([user]) => names[user].name);
    const last = $("[data-events]").lastElementChild;
    if (!readers.length || !last) return;
    const receipt = el("p", {
      className: "receipt muted",
      textContent: interpolate(gettext("Seen by %(names)s"), { names: readers.join(", ") }, true),
    });
    receipt.setAttribute("data-receipt", "");
    last.append(receipt);
  }

  function markRead() {
    // Read means seen: not while the reader is scrolled up with new events below.
    if (config.me.side === "admin" || document.visibilityState !== "visible" || !state.following) return;
    if (state.lastSeq > state.myRead && send({ type: "read", seq: state.lastSeq })) state.myRead = state.lastSeq;
  }

  // --- actions ------------------------------------------------------------------------------------

  function updateActions() {
    const open = state.status === "submitted";
    const accept = $('[data-action="accept"]');
    if (!accept) return;
    const theirs = state.latest && state.latest.side !== config.me.side;
    accept.hidden = !(open && theirs);
    if (state.latest) accept.textContent = interpolate(gettext("Accept version %(n)s"), { n: state.latest.number }, true);
    for (const name of ["counter", "decline", "withdraw"]) {
      const button = $(`[data-action="${name}"]`);
      if (button) button.hidden = !open;
    }
    const composer = $("[data-composer]");
    if (composer) composer.hidden = !open;
  }

  let retryTimer = null;

  function showError(frame) {
    if (frame.code === "rate_limited" && state.pending.size) {
      // Frames came faster than the user's allowance (typing and read receipts count too): what is
      // still unacknowledged goes again once the allowance has refilled; the server drops repeats of a
      // client id, so nothing is written twice.
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => {
        for (const pending of state.pending.values()) send(pending);
      }, 1000);
      return;
    }
    const message = frame.message || gettext("Something went wrong.");
    if (frame.ref && state.pending.has(frame.ref)) {
      state.pending.delete(frame.ref);
      const pending = document.querySelector(`[data-pending="${CSS.escape(frame.ref)}"]`);
      if (pending) {
        pending.classList.add("failed");
        pending.append(el("p", { className: "error", textContent: message }));
      }
    }
    const dialog = $("[data-counter-dialog]");
    if (dialog && dialog.open) {
      $("[data-counter-error]").textContent = message;
      if (frame.errors && state.editor) state.editor.showErrors(frame.errors);
      return;
    }
    const target = $("[data-action-error]");
    if (target) target.textContent = message;
  }

  function sendMessage(body) {
    const frame = { type: "message", body, client_id: clientId() };
    state.pending.set(frame.client_id, frame);
    const item = el("li", { className: "event event-message mine pending" }, [
      el("p", { className: "event-meta", textContent: gettext("Sending…") }),
      el("p", { className: "event-body", textContent: body }),
    ]);
    item.dataset.pending = frame.client_id;
    $("[data-events]").append(item);
    toFoot(); // the reader's own message: show it
    send(frame); // if the socket is down, the frame goes out on the next "synced"
  }

  function openCounter() {
    const dialog = $("[data-counter-dialog]");
    if (state.editor) state.editor.destroy();
    $("[data-counter-error]").textContent = "";
    state.editor = window.TermsEditor.mount($("[data-counter-editor]"), {
      kind: config.kind,
      initial: state.latest.terms,
      schemaUrl: config.schemaUrl,
      organisations: config.organisations,
    });
    dialog.showModal();
  }

  function closeCounter() {
    const dialog = $("[data-counter-dialog]");
    if (dialog && dialog.open) dialog.close();
  }

  function bind() {
    bindFollowing();
    const composer = $("[data-composer]");
    if (composer) {
      const text = composer.querySelector("textarea");
      let lastTyping = 0;
      text.addEventListener("input", () => {
        if (Date.now() - lastTyping > 2000) {
          lastTyping = Date.now();
          send({ type: "typing" });
        }
      });
      composer.addEventListener("submit", (event) => {
        event.preventDefault();
        const body = text.value.trim();
        if (!body) return;
        sendMessage(body);
        text.value = "";
      });
    }
    const on = (name, handler) => {
      const button = $(`[data-action="${name}"]`);
      if (button) button.addEventListener("click", handler);
    };
    on("accept", () => {
      const question = interpolate(
        gettext("Accept version %(n)s? This records a binding agreement on these exact terms."),
        { n: state.latest.number },
        true
      );
      if (window.confirm(question)) {
        send({ type: "accept", version: state.latest.number, terms_hash: state.latest.terms_hash });
      }
    });
    on("counter", openCounter);
    on("cancel-counter", closeCounter);
    on("decline", () => {
      const reason = window.prompt(gettext("Decline this offer? You may give a reason."), "");
      if (reason !== null) send({ type: "decline", reason });
    });
    on("withdraw", () => {
      const reason = window.prompt(gettext("Withdraw this offer? You may give a reason."), "");
      if (reason !== null) send({ type: "withdraw", reason });
    });
    const counterForm = $("[data-counter-form]");
    if (counterForm) {
      counterForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const frame = {
          type: "counter",
          base_version: state.latest.number,
          terms: state.editor.getTerms(),
          body: counterForm.querySelector("textarea[name=body]").value,
          client_id: clientId(),
        };
        $("[data-counter-error]").textContent = "";
        if (!send(frame)) $("[data-counter-error]").textContent = gettext("Not connected; try again in a moment.");
      });
    }
    document.addEventListener("visibilitychange", markRead);
    setInterval(() => send({ type: "ping" }), 25000);
  }

  bind();
  renderPresence();
  updateActions();
  connect();
})();
