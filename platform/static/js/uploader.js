// Resumable screener upload, for <form data-uploader data-create-url="/api/films/<id>/cuts/">.
//
// The file is sent in parts (Blob.slice, never read whole), three at a time, each PUT to a signed URL the
// API hands out just before the part starts: S3 in production, this site's own signed URL locally. Each
// part is retried with exponential backoff; going offline pauses without spending retries, and coming
// back resumes. The upload id is remembered in localStorage for this film and this exact file, so
// choosing the same file again after a reload or a crash skips the parts the store already has.
// Every visible string goes through Django's JavaScript catalogue (/jsi18n/ must load first).
(function () {
  "use strict";

  const PARALLEL = 3;
  const MAX_TRIES = 6;
  const FIRST_DELAY_MS = 1000;
  const MAX_DELAY_MS = 30000;
  const RATE_WINDOW_MS = 20000;
  const STORAGE_PREFIX = "screener-upload:v1:";

  // Django's JavaScript catalog (jsi18n), loaded just before this script on every page that uses it.
  const { gettext, interpolate } = window;

  // --- Errors -----------------------------------------------------------------------------------------

  class UploadError extends Error {
    constructor(message, status, retryable) {
      super(message);
      this.status = status || 0;
      this.retryable = Boolean(retryable);
    }
  }

  class Cancelled extends Error {}

  class Paused extends Error {} // the browser went offline: try again once it is back, for free

  function retryableStatus(status) {
    return status === 0 || status === 408 || status === 429 || status >= 500;
  }

  function detailOf(data) {
    // The API puts its reason in `detail`; DRF field errors look like {"size": ["..."]}.
    if (!data || typeof data !== "object") return "";
    if (typeof data.detail === "string") return data.detail;
    for (const value of Object.values(data)) {
      if (typeof value === "string") return value;
      if (Array.isArray(value) && typeof value[0] === "string") return value[0];
    }
    return "";
  }

  // --- Small helpers ----------------------------------------------------------------------------------

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function randomKey() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Cancelled());
      const timer = window.setTimeout(() => {
        signal.removeEventListener("abort", stop);
        resolve();
      }, ms);
      function stop() {
        window.clearTimeout(timer);
        reject(new Cancelled());
      }
      signal.addEventListener("abort", stop, { once: true });
    });
  }

  function whenOnline(signal) {
    if (navigator.onLine) return Promise.resolve();
    return new Promise((resolve, reject) => {
      function back() {
        signal.removeEventListener("abort", stop);
        resolve();
      }
      function stop() {
        window.removeEventListener("online", back);
        reject(new Cancelled());
      }
      window.addEventListener("online", back, { once: true });
      signal.addEventListener("abort", stop, { once: true });
    });
  }

  function backoff(attempt) {
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * Math.pow(2, attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2); // jitter, so many clients do not retry in step
  }

  function language() {
    return document.documentElement.lang || undefined;
  }

  function formatNumber(value, digits) {
    return new Intl.NumberFormat(language(), { maximumFractionDigits: digits }).format(value);
  }

  function formatBytes(bytes) {
    const units = [
      gettext("%(value)s B"),
      gettext("%(value)s KB"),
      gettext("%(value)s MB"),
      gettext("%(value)s GB"),
      gettext("%(value)s TB"),
    ];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return interpolate(units[unit], { value: formatNumber(value, unit === 0 ? 0 : 1) }, true);
  }

  function formatPercent(fraction) {
    const floored = Math.floor(fraction * 100) / 100; // never show 100 % before the last byte
    return new Intl.NumberFormat(language(), { style: "percent" }).format(floored);
  }

  function formatDuration(totalSeconds) {
    const seconds = Math.max(1, Math.round(totalSeconds));
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    if (hours) return interpolate(gettext("%(hours)s h %(minutes)s min"), { hours, minutes }, true);
    if (minutes) return interpolate(gettext("%(minutes)s min %(seconds)s s"), { minutes, seconds: seconds % 60 }, true);
    return interpolate(gettext("%(seconds)s s"), { seconds }, true);
  }

  // --- Remembering an upload for resuming -------------------------------------------------------------

  function resumeKey(createUrl, file) {
    return STORAGE_PREFIX + [createUrl, file.name, file.size, file.lastModified].join("|");
  }

  function recall(key) {
    try {
      const saved = JSON.parse(window.localStorage.getItem(key) || "null");
      return saved && saved.upload ? saved : null;
    } catch (error) {
      return null; // storage disabled or garbage: start afresh
    }
  }

  function remember(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      // Private browsing or a full quota: the upload works, it just cannot resume after a reload.
    }
  }

  function forget(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (error) {
      // Nothing to forget.
    }
  }

  // --- The API ----------------------------------------------------------------------------------------

  async function api(method, url, body, signal, extraHeaders) {
    const headers = Object.assign({ Accept: "application/json" }, extraHeaders || {});
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await window.fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal && signal.aborted) throw new Cancelled();
      throw new UploadError(gettext("The server could not be reached."), 0, true);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (!response.ok) {
      const message =
        detailOf(data) || interpolate(gettext("The server refused the request (HTTP %s)."), [response.status]);
      throw new UploadError(message, response.status, retryableStatus(response.status));
    }
    return data;
  }

  // --- Progress ---------------------------------------------------------------------------------------

  class Progress {
    constructor(total, alreadyStored) {
      this.total = total;
      this.stored = alreadyStored; // bytes of the parts the store has acknowledged
      this.inflight = new Map(); // part number -> bytes of it sent so far
      this.samples = [];
    }

    sent() {
      let sending = 0;
      this.inflight.forEach((bytes) => {
        sending += bytes;
      });
      return Math.min(this.total, this.stored + sending);
    }

    partSending(number, bytes) {
      this.inflight.set(number, bytes);
    }

    partStored(number, bytes) {
      this.inflight.delete(number);
      this.stored += bytes;
    }

    // Bytes per second over the last RATE_WINDOW_MS, so a pause or a faster network shows up quickly.
    rate(now) {
      const sent = this.sent();
      this.samples.push([now, sent]);
      while (this.samples.length > 2 && now - this.samples[0][0] > RATE_WINDOW_MS) this.samples.shift();
      const [firstTime, firstSent] = this.samples[0];
      if (now - firstTime < 2000) return 0;
      return ((sent - firstSent) * 1000) / (now - firstTime);
    }
  }

  // --- The form ---------------------------------------------------------------------------------------

  class Uploader {
    constructor(form) {
      this.form = form;
      this.createUrl = form.dataset.createUrl;
      this.uploadsUrl = form.dataset.uploadsUrl || "/api/uploads/";
      this.input = form.querySelector('input[type="file"]');
      this.submit = form.querySelector('button[type="submit"], input[type="submit"]');
      this.bar = form.querySelector("progress") || this.make("progress", { max: "1", value: "0" });
      this.statusLine =
        form.querySelector("[data-upload-status], [data-uploader-status], [role=status]") ||
        this.make("p", { role: "status", "aria-live": "polite" });
      this.cancelButton =
        form.querySelector('[data-action="cancel"], [data-uploader-cancel]') ||
        this.make("button", { type: "button", "data-uploader-cancel": "" }, gettext("Cancel"));
      this.cancelButton.hidden = true;
      this.running = null; // the upload under way: {controller, key, upload, progress, inflight, notice...}
      this.lastRender = 0;

      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.start();
      });
      this.cancelButton.addEventListener("click", () => this.cancel());
      if (this.input) this.input.addEventListener("change", () => this.announceResume());
      window.addEventListener("offline", () => this.pause());
      window.addEventListener("online", () => this.unpause());
      window.addEventListener("beforeunload", (event) => {
        if (!this.running) return;
        event.preventDefault(); // the upload can resume after a reload, but leaving still interrupts it
        event.returnValue = "";
      });
    }

    make(tag, attributes, text) {
      const element = document.createElement(tag);
      Object.keys(attributes).forEach((name) => element.setAttribute(name, attributes[name]));
      if (text) element.textContent = text;
      this.form.appendChild(element);
      return element;
    }

    say(message, state) {
      this.statusLine.textContent = message;
      this.statusLine.dataset.state = state || "";
    }

    // A notice (offline, retrying) stays on screen until cleared; progress updates do not overwrite it.
    notify(run, message, state) {
      run.notice = state;
      this.say(message, state);
    }

    clearNotice(run) {
      if (!run.notice) return;
      run.notice = "";
      this.render(run, true);
    }

    uploadUrl(id, action) {
      return `${this.uploadsUrl}${encodeURIComponent(id)}/${action || ""}`;
    }

    busy(on) {
      if (this.input) this.input.disabled = on;
      if (this.submit) this.submit.disabled = on;
      this.cancelButton.hidden = !on;
    }

    announceResume() {
      if (this.running) return;
      const file = this.input.files && this.input.files[0];
      if (file && recall(resumeKey(this.createUrl, file))) {
        this.say(gettext("Part of this file was uploaded before. Upload it again to continue where it stopped."), "");
      } else {
        this.say("", "");
      }
    }

    // --- One upload, start to finish

    async start() {
      if (this.running) return;
      const file = this.input && this.input.files && this.input.files[0];
      if (!file) {
        this.say(gettext("Choose a file first."), "error");
        return;
      }
      const run = {
        controller: new AbortController(),
        key: resumeKey(this.createUrl, file),
        upload: null,
        progress: null,
        inflight: new Set(),
        notice: "",
        cancelled: false,
      };
      this.running = run;
      this.busy(true);
      // Other scripts of the page (cuts.js) must not reload it while the parts go up.
      this.form.dataset.uploading = "true";
      try {
        run.upload = await this.open(file, run);
        const etags = await this.sendParts(file, run);
        const cut = await this.complete(run, etags);
        forget(run.key);
        this.bar.value = this.bar.max;
        this.say(gettext("Upload complete. The screener is now being prepared."), "done");
        this.form.dispatchEvent(new CustomEvent("screener:uploaded", { bubbles: true, detail: { cut } }));
      } catch (error) {
        this.fail(run, error);
      }
      this.running = null;
      delete this.form.dataset.uploading;
      this.busy(false);
    }

    fail(run, error) {
      if (run.cancelled) return; // cancel() says what happened
      if (error instanceof UploadError && (error.status === 404 || error.status === 409)) {
        forget(run.key); // that upload is gone or closed: the next try starts a new one
      }
      if (!(error instanceof UploadError)) window.console.error(error);
      const reason = error instanceof UploadError ? error.message : gettext("The upload failed.");
      const message = recall(run.key)
        ? interpolate(gettext("%(reason)s Choose the same file again to resume."), { reason }, true)
        : reason;
      this.say(message, "error");
    }

    // Run attemptOnce until it succeeds, MAX_TRIES times at most with backoff; offline time is free.
    async retrying(run, attemptOnce) {
      const signal = run.controller.signal;
      let attempt = 0;
      for (;;) {
        await whenOnline(signal);
        attempt += 1;
        try {
          const result = await attemptOnce();
          if (run.notice === "retrying") this.clearNotice(run);
          return result;
        } catch (error) {
          if (error instanceof Cancelled || signal.aborted) throw new Cancelled();
          if (error instanceof Paused || !navigator.onLine) {
            attempt -= 1; // lost to the network going away, not to the request
            continue;
          }
          if (!error.retryable || attempt >= MAX_TRIES) throw error;
          const delay = backoff(attempt);
          const values = { reason: error.message, seconds: Math.ceil(delay / 1000) };
          const message = gettext("%(reason)s Trying again in %(seconds)s s…");
          this.notify(run, interpolate(message, values, true), "retrying");
          await sleep(delay, signal);
        }
      }
    }

    // Resume the remembered upload of this file if the API still has it open, else start a new cut.
    async open(file, run) {
      const signal = run.controller.signal;
      const saved = recall(run.key);
      if (saved) {
        this.say(gettext("Checking what was already uploaded…"), "uploading");
        try {
          const state = await this.retrying(run, () =>
            api("GET", this.uploadUrl(saved.upload), undefined, signal)
          );
          const partCount = Math.max(1, Math.ceil(file.size / state.part_size));
          if (state.status === "open" && state.part_count === partCount) {
            return {
              id: state.id,
              partSize: state.part_size,
              partCount: state.part_count,
              parts: state.parts || [],
              cut: saved.cut,
            };
          }
        } catch (error) {
          if (!(error instanceof UploadError) || error.retryable) throw error;
          // Refused or gone (404): that upload cannot be continued; start a new one below.
        }
        forget(run.key);
      }
      this.say(gettext("Starting the upload…"), "uploading");
      const body = { filename: file.name, size: file.size, content_type: file.type || "application/octet-stream" };
      const headers = { "Idempotency-Key": randomKey() }; // a retried create must make one cut, not two
      const created = await this.retrying(run, () =>
        api("POST", this.createUrl, body, signal, headers)
      );
      const upload = created.upload;
      remember(run.key, { upload: upload.id, cut: created.cut });
      return { id: upload.id, partSize: upload.part_size, partCount: upload.part_count, parts: [], cut: created.cut };
    }

    // Send the parts the store does not have yet, PARALLEL at a time; resolves to a Map number -> ETag.
    async sendParts(file, run) {
      const upload = run.upload;
      const etags = new Map();
      const todo = [];
      let stored = 0;
      for (let number = 1; number <= upload.partCount; number += 1) {
        const size = this.partBlob(file, upload, number).size;
        const known = upload.parts.find((part) => part.number === number);
        if (known && known.size === size && known.etag) {
          etags.set(number, known.etag);
          stored += size;
        } else {
          todo.push(number);
        }
      }
      run.progress = new Progress(file.size, stored);
      this.bar.hidden = false;
      this.render(run, true);

      let next = 0;
      const worker = async () => {
        while (next < todo.length && !run.controller.signal.aborted) {
          const number = todo[next];
          next += 1;
          etags.set(number, await this.sendPart(file, run, number));
        }
      };
      const workers = [];
      for (let i = 0; i < Math.min(PARALLEL, todo.length); i += 1) workers.push(worker());
      try {
        await Promise.all(workers);
      } catch (error) {
        run.controller.abort(); // one part failed for good: stop the others (their parts stay stored)
        this.abortInflight(run, false);
        throw error;
      }
      return etags;
    }

    partBlob(file, upload, number) {
      const start = (number - 1) * upload.partSize;
      // No type on the slice, so the PUT carries no Content-Type that a presigned URL did not sign.
      return file.slice(start, Math.min(file.size, start + upload.partSize));
    }

    sendPart(file, run, number) {
      const blob = this.partBlob(file, run.upload, number);
      return this.retrying(run, async () => {
        // A fresh URL for every attempt: signed URLs are short-lived and a retry may come minutes later.
        const partUrls = this.uploadUrl(run.upload.id, "part-urls/");
        const answer = await api("POST", partUrls, { part_numbers: [number] }, run.controller.signal);
        const onProgress = (sent) => {
          run.progress.partSending(number, sent);
          this.render(run, false);
        };
        try {
          const etag = await this.put(run, answer.urls[String(number)], number, blob, onProgress);
          run.progress.partStored(number, blob.size);
          this.render(run, true);
          return etag;
        } catch (error) {
          run.progress.partSending(number, 0);
          throw error;
        }
      });
    }

    // PUT the raw bytes, as S3 expects at a presigned URL; XHR because fetch reports no upload progress.
    put(run, url, number, blob, onProgress) {
      return new Promise((resolve, reject) => {
        if (run.controller.signal.aborted) {
          reject(new Cancelled());
          return;
        }
        const xhr = new XMLHttpRequest();
        const settle = (outcome, value) => {
          run.inflight.delete(xhr);
          outcome(value);
        };
        xhr.open("PUT", url);
        xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
        xhr.addEventListener("load", () => {
          if (xhr.status < 200 || xhr.status >= 300) {
            // 403: the signed URL expired on the way (the retry gets a new one); 400: a truncated body.
            const retryable = retryableStatus(xhr.status) || xhr.status === 403 || xhr.status === 400;
            const values = { number, status: xhr.status };
            const reason = interpolate(gettext("The storage refused part %(number)s (HTTP %(status)s)."), values, true);
            settle(reject, new UploadError(reason, xhr.status, retryable));
            return;
          }
          const etag = xhr.getResponseHeader("ETag");
          if (!etag) {
            // Cross-origin, the ETag is readable only if the bucket's CORS rules expose it.
            const reason = gettext("The storage did not return the part's checksum (ETag).");
            settle(reject, new UploadError(reason, xhr.status, false));
            return;
          }
          settle(resolve, etag);
        });
        const dropped = () => {
          const message = gettext("The connection dropped while sending part %(number)s.");
          const reason = interpolate(message, { number }, true);
          settle(reject, new UploadError(reason, 0, true));
        };
        xhr.addEventListener("error", dropped);
        xhr.addEventListener("timeout", dropped);
        xhr.addEventListener("abort", () => {
          const paused = xhr.pausedOffline && !run.controller.signal.aborted;
          settle(reject, paused ? new Paused() : new Cancelled());
        });
        run.inflight.add(xhr);
        xhr.send(blob);
      });
    }

    abortInflight(run, offline) {
      Array.from(run.inflight).forEach((xhr) => {
        xhr.pausedOffline = offline;
        xhr.abort();
      });
    }

    // Offline: a request in flight may hang for minutes before failing; stop it now, resend it later.
    pause() {
      const run = this.running;
      if (!run || run.cancelled) return;
      this.abortInflight(run, true);
      this.notify(run, gettext("Connection lost. The upload will resume when you are back online."), "paused");
    }

    unpause() {
      const run = this.running;
      if (run && run.notice === "paused") this.clearNotice(run);
    }

    async complete(run, etags) {
      this.say(gettext("Putting the parts together…"), "uploading");
      const parts = Array.from(etags.entries())
        .sort((a, b) => a[0] - b[0])
        .map(([number, etag]) => ({ number, etag }));
      const url = this.uploadUrl(run.upload.id, "complete/");
      let attempts = 0;
      try {
        const answer = await this.retrying(run, () => {
          attempts += 1;
          return api("POST", url, { parts }, run.controller.signal);
        });
        return answer.cut;
      } catch (error) {
        // A retry after a lost answer finds the upload already completed: that is a success.
        if (attempts > 1 && error instanceof UploadError && error.status === 409) {
          const state = await api("GET", this.uploadUrl(run.upload.id), undefined, run.controller.signal);
          if (state.status === "completed") return run.upload.cut || null;
        }
        throw error;
      }
    }

    async cancel() {
      const run = this.running;
      if (!run || run.cancelled) return;
      run.cancelled = true;
      run.controller.abort();
      this.abortInflight(run, false);
      forget(run.key);
      this.bar.value = 0;
      if (!run.upload) {
        this.say(gettext("Upload cancelled."), "");
        return;
      }
      this.say(gettext("Cancelling…"), "");
      try {
        await api("POST", this.uploadUrl(run.upload.id, "abort/"), {});
        this.say(gettext("Upload cancelled."), "");
      } catch (error) {
        const message = gettext("Upload stopped, but the server could not be told; its parts will be discarded later.");
        this.say(message, "error");
      }
    }

    render(run, force) {
      const progress = run.progress;
      const now = Date.now();
      if (!progress || (!force && now - this.lastRender < 250)) return;
      this.lastRender = now;
      const sent = progress.sent();
      this.bar.max = progress.total || 1;
      this.bar.value = sent;
      const rate = progress.rate(now);
      if (run.notice || run.cancelled) return;
      const values = {
        sent: formatBytes(sent),
        total: formatBytes(progress.total),
        percent: formatPercent(progress.total ? sent / progress.total : 1),
      };
      let text;
      if (rate > 0 && sent < progress.total) {
        values.eta = formatDuration((progress.total - sent) / rate);
        text = interpolate(gettext("%(sent)s of %(total)s (%(percent)s), about %(eta)s left"), values, true);
      } else {
        text = interpolate(gettext("%(sent)s of %(total)s (%(percent)s)"), values, true);
      }
      this.say(text, "uploading");
    }
  }

  function init() {
    document.querySelectorAll("form[data-uploader]").forEach((form) => {
      if (!form.screenerUploader) form.screenerUploader = new Uploader(form);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
