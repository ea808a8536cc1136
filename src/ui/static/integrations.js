// Administration > Integrations: the list, the create/edit form, the Test panel and the history. Reads
// and writes integrations through the REST API with the user's session (so the API's own validation and
// permissions apply), maps the API's error ids to the fields they are about, and builds every piece of
// markup with DOM calls (textContent), never from strings of untrusted data.
"use strict";
(function () {
  const SB = window.SB;
  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...kids) => {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    kids.forEach((k) => e.append(k));
    return e;
  };
  const when = (d) => (d ? new Date(d).toLocaleString() : "");
  const pretty = (v) => {
    if (v === undefined || v === null || v === "") return "—";
    if (typeof v === "string") {
      try { return JSON.stringify(JSON.parse(v), null, 2); } catch (_) { return v; }
    }
    return JSON.stringify(v, null, 2);
  };
  const missingApi = (r) => r.httpStatus === 404
    ? "The integrations API (" + "integrations.*" + ") is not available on this server."
    : (r.error || "Request failed (" + r.httpStatus + ")");

  function showError(id, text) {
    const p = $(id);
    if (!p) return;
    p.textContent = text;
    p.hidden = !text;
  }

  // ---- list -------------------------------------------------------------------------------------------

  async function loadList() {
    const body = $("integrations-body");
    const r = await SB.api("GET", "integrations.list?count=100");
    body.textContent = "";
    if (!r.success) {
      showError("list-error", missingApi(r));
      body.append(el("tr", {}, el("td", { colSpan: 8, className: "muted", textContent: "No integrations to show." })));
      return;
    }
    const items = r.integrations || [];
    if (!items.length) {
      body.append(el("tr", {}, el("td", { colSpan: 8, className: "muted", textContent: "No integrations yet. Create one with the buttons above." })));
    }
    for (const i of items) {
      const kind = i.type === "webhook-outgoing" ? "outgoing" : "incoming";
      const tr = el("tr", { className: i.enabled ? "" : "inactive" });
      const name = el("a", { href: "/admin/integrations/" + kind + "/" + encodeURIComponent(i._id), textContent: i.name || "(unnamed)" });
      const nameCell = el("td", {}, name);
      if (i.scriptError) nameCell.append(" ", el("span", { className: "badge warn", textContent: "script error" }));
      tr.append(
        nameCell,
        el("td", { textContent: kind === "outgoing" ? "Outgoing" + (i.event ? " (" + i.event + ")" : "") : "Incoming" }),
        el("td", {}, el("span", { className: "badge " + (i.enabled ? "ok" : "warn"), textContent: i.enabled ? "Enabled" : "Disabled" })),
        el("td", { textContent: (i.channel || []).join(", ") }),
        el("td", { textContent: i.username || "" }),
        el("td", { textContent: (i._createdBy && i._createdBy.username) || "" }),
        el("td", { textContent: when(i._createdAt) }),
        el("td", {}, el("a", { href: "/admin/integrations/" + kind + "/" + encodeURIComponent(i._id) + "/history", textContent: "History" })),
      );
      body.append(tr);
    }
  }

  // ---- form -------------------------------------------------------------------------------------------

  const ERROR_FIELDS = {
    "error-invalid-channel": "channel", "error-invalid-channel-start-with-chars": "channel", "error-invalid-room": "channel",
    "error-invalid-username": "username", "error-invalid-user": "username", "error-invalid-post-as-user": "username",
    "error-invalid-event-type": "event", "error-invalid-targetRoom": "targetRoom", "error-invalid-urls": "urls",
    "error-invalid-triggerWords": "triggerWords", "error-invalid-token": "token", "error-invalid-permissions": "channel",
  };

  function fieldError(name, text) {
    const p = $("err-" + name);
    const input = $("f-" + name);
    if (!p) return false;
    p.textContent = text || "";
    p.hidden = !text;
    if (input) {
      if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    }
    return true;
  }

  function clearErrors() {
    document.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
    document.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
    showError("form-error", "");
    markLine(null);
  }

  // Line numbers beside the script, kept in step with its content and scroll position.
  let errorLine = null;
  function renderGutter() {
    const ta = $("f-script"), g = $("gutter");
    if (!ta || !g) return;
    const n = Math.max(1, ta.value.split("\n").length);
    g.textContent = "";
    for (let i = 1; i <= n; i++) {
      const s = el("span", { textContent: String(i) });
      if (i === errorLine) { s.className = "err-line"; s.title = "Error on this line"; }
      g.append(s, "\n");
    }
    g.scrollTop = ta.scrollTop;
  }
  function markLine(line) { errorLine = line || null; renderGutter(); }

  function scriptErrorText(e) {
    if (!e) return "";
    const line = lineOf(e.stack) || lineOf(e.message);
    return (e.name ? e.name + ": " : "") + (e.message || "") + (line ? " (line " + line + ")" : "");
  }
  function lineOf(s) {
    if (!s) return null;
    const m = /line (\d+)/i.exec(s) || /:(\d+):\d+/.exec(s) || /:(\d+)\)?$/m.exec(s);
    return m ? Number(m[1]) : null;
  }

  const csv = (s) => s.split(/[,\n]/).map((x) => x.trim()).filter(Boolean);
  const val = (name) => { const i = $("f-" + name); return i ? (i.type === "checkbox" ? i.checked : i.value) : undefined; };
  const setVal = (name, v) => {
    const i = $("f-" + name);
    if (!i || v === undefined || v === null) return;
    if (i.type === "checkbox") i.checked = !!v; else i.value = Array.isArray(v) ? v.join(name === "urls" ? "\n" : ", ") : String(v);
  };

  function showWebhook(i) {
    if (i.type !== "webhook-incoming" || !i.token) return;
    const url = SB.meta("sb-site-url").replace(/\/$/, "") + "/hooks/" + i._id + "/" + i.token;
    $("webhook-url").value = url;
    const sample = { text: "Example message", attachments: [{ title: "Switchboard", title_link: "https://example.org", text: "An attachment", color: "#764FA5" }] };
    const q = (o) => "'" + JSON.stringify(o).replace(/'/g, "'\\''") + "'";
    $("curl-plain").value = "curl -X POST -H 'Content-Type: application/json' --data " + q(sample) + " " + url;
    $("curl-channel").value = "curl -X POST -H 'Content-Type: application/json' --data " + q(Object.assign({ channel: "#general" }, { text: sample.text })) + " " + url;
    $("webhook-info").hidden = false;
  }

  // The outgoing form shows only the fields the chosen event uses (Rocket.Chat's events table, spec §6.1):
  // rows carry the events they apply to in data-events; User created needs a target room.
  function applyEvent() {
    const ev = $("f-event");
    if (!ev) return;
    document.querySelectorAll("[data-events]").forEach((row) => {
      row.hidden = !row.dataset.events.split(" ").includes(ev.value);
    });
    const label = document.querySelector("label[for=f-targetRoom]");
    if (label) {
      const star = label.querySelector(".req");
      if (ev.value === "userCreated" && !star) label.append(" ", el("span", { className: "req", textContent: "*" }));
      if (ev.value !== "userCreated" && star) star.remove();
    }
  }

  function showSecret(i) {
    const box = $("secret-info");
    if (!box || !i.webhookSecret) return;
    $("webhook-secret").value = i.webhookSecret;
    box.hidden = false;
  }

  function body(kind, id) {
    const b = { type: kind === "incoming" ? "webhook-incoming" : "webhook-outgoing" };
    for (const k of ["enabled", "name", "channel", "username", "alias", "avatar", "emoji", "scriptEnabled", "script"]) b[k] = val(k);
    b.name = b.name.trim(); b.channel = b.channel.trim(); b.username = b.username.trim();
    if (kind === "outgoing") {
      b.event = val("event");
      b.urls = csv(val("urls"));
      b.triggerWords = csv(val("triggerWords"));
      for (const k of ["targetRoom", "token", "retryDelay"]) b[k] = val(k).trim();
      for (const k of ["impersonateUser", "triggerWordAnywhere", "runOnEdits", "retryFailedCalls"]) b[k] = val(k);
      const rc = val("retryCount").trim();
      if (rc) b.retryCount = Number(rc);
      for (const k of ["targetRoom", "token"]) if (!b[k]) delete b[k];
    }
    if (id) b.integrationId = id;
    return b;
  }

  function validate(kind, b) {
    let ok = true;
    const need = (k, text) => { if (!b[k] || (Array.isArray(b[k]) && !b[k].length)) { fieldError(k, text); ok = false; } };
    need("name", "Give the integration a name.");
    need("username", "Choose the user to post as.");
    if (kind === "incoming") need("channel", "Choose where to post, e.g. #general.");
    if (kind === "outgoing") {
      need("urls", "Add at least one URL.");
      if (b.event === "userCreated") need("targetRoom", "User created needs a target room.");
      if (b.retryCount !== undefined && !(Number.isInteger(b.retryCount) && b.retryCount >= 0)) { fieldError("retryCount", "Use a whole number."); ok = false; }
      const badUrls = b.urls.filter((u) => !/^https?:\/\/[^\s/]+/i.test(u));
      if (badUrls.length) { fieldError("urls", "Each URL must start with http:// or https://: " + badUrls.join(", ")); ok = false; }
    }
    if (b.channel) {
      const bad = csv(b.channel).filter((c) => !/^[#@]/.test(c) && !/^all_(public_channels|private_groups|direct_messages)$/i.test(c));
      if (bad.length) { fieldError("channel", "Each entry must start with # or @: " + bad.join(", ")); ok = false; }
    }
    for (const k of ["avatar"]) {
      if (b[k] && !/^https?:\/\//i.test(b[k]) && !b[k].startsWith("/")) { fieldError(k, "Use an http(s) URL."); ok = false; }
    }
    return ok;
  }

  function apiError(r) {
    const type = r.errorType || "";
    let field = ERROR_FIELDS[type];
    const text = r.error || "Saving failed.";
    if (!field && type === "invalid-params") {
      const m = /property '([A-Za-z]+)'|\/([A-Za-z]+) /.exec(text);
      field = m && (m[1] || m[2]);
    }
    if (!field) {
      const m = /^(name|channel|username|urls|event|token|targetRoom)\b/i.exec(text);
      field = m && m[1];
    }
    if (!(field && fieldError(field, text))) showError("form-error", text);
    const first = document.querySelector("[aria-invalid=true]");
    if (first) first.focus();
  }

  async function loadIntegration(form, id) {
    const r = await SB.api("GET", "integrations.get?integrationId=" + encodeURIComponent(id));
    if (!r.success) { showError("form-error", missingApi(r)); return null; }
    const i = r.integration;
    for (const k of ["enabled", "name", "channel", "username", "alias", "avatar", "emoji", "scriptEnabled", "script",
      "event", "urls", "triggerWords", "targetRoom", "token", "impersonateUser", "triggerWordAnywhere", "runOnEdits",
      "retryFailedCalls", "retryCount", "retryDelay"]) setVal(k, i[k]);
    $("form-title").textContent = "Edit " + (i.type === "webhook-outgoing" ? "outgoing" : "incoming") + " webhook: " + (i.name || "");
    if (i.scriptError) {
      fieldError("script", "The saved script does not compile: " + scriptErrorText(i.scriptError));
      markLine(lineOf(i.scriptError.stack) || lineOf(i.scriptError.message));
    }
    showWebhook(i);
    showSecret(i);
    applyEvent();
    renderGutter();
    return i;
  }

  const EXAMPLE_SCRIPT = [
    "/* exported Script */",
    "class Script {",
    "  process_incoming_request({ request }) {",
    "    // request.content is the parsed body; return the message to post.",
    "    console.log('received', request.content);",
    "    return {",
    "      content: {",
    "        text: request.content.text || 'Hello from the script',",
    "        attachments: request.content.attachments || []",
    "      }",
    "    };",
    "  }",
    "}",
  ].join("\n");

  function initForm(form) {
    const kind = form.dataset.kind, id = form.dataset.id;
    const ta = $("f-script");
    ta.addEventListener("input", () => { if (errorLine) markLine(null); else renderGutter(); });
    ta.addEventListener("scroll", () => { $("gutter").scrollTop = ta.scrollTop; });
    ta.addEventListener("keydown", (e) => {
      // Tab indents inside the editor; Escape then Tab leaves it (keyboard users are never trapped).
      if (e.key === "Tab" && !e.shiftKey && !ta.dataset.escaped) {
        e.preventDefault();
        const s = ta.selectionStart;
        ta.setRangeText("  ", s, ta.selectionEnd, "end");
        renderGutter();
      } else if (e.key === "Escape") {
        ta.dataset.escaped = "1";
      } else {
        delete ta.dataset.escaped;
      }
    });
    $("f-scriptEnabled").addEventListener("change", (e) => {
      if (e.target.checked && !ta.value.trim() && kind === "incoming") { ta.value = EXAMPLE_SCRIPT; renderGutter(); }
    });
    // An error goes away as soon as its field is edited.
    form.addEventListener("input", (e) => {
      const row = e.target.closest && e.target.closest("[data-field]");
      if (row && row.dataset.field !== "script") fieldError(row.dataset.field, "");
    });
    renderGutter();
    if ($("f-event")) { $("f-event").addEventListener("change", applyEvent); applyEvent(); }
    if (id) loadIntegration(form, id);
    if (new URLSearchParams(location.search).get("saved")) {
      const ok = $("form-ok");
      ok.textContent = "Saved.";
      ok.hidden = false;
    }

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors();
      const b = body(kind, id);
      if (!validate(kind, b)) {
        const first = document.querySelector("[aria-invalid=true]");
        if (first) first.focus();
        return;
      }
      const save = $("save");
      save.disabled = true;
      const r = id ? await SB.api("PUT", "integrations.update", b) : await SB.api("POST", "integrations.create", b);
      save.disabled = false;
      if (!r.success) { apiError(r.httpStatus === 404 ? { error: missingApi(r) } : r); return; }
      const i = r.integration;
      if (!id) { location.href = "/admin/integrations/" + kind + "/" + encodeURIComponent(i._id) + "?saved=1"; return; }
      const ok = $("form-ok");
      ok.textContent = "Saved.";
      ok.hidden = false;
      if (i.scriptError) {
        fieldError("script", "Saved, but the script does not compile: " + scriptErrorText(i.scriptError));
        markLine(lineOf(i.scriptError.stack) || lineOf(i.scriptError.message));
      }
      showWebhook(i);
      showSecret(i);
    });

    const del = $("delete");
    if (del) {
      del.addEventListener("click", async () => {
        const yes = await SB.confirm("Delete this integration? Senders using it will get errors. This cannot be undone.", "Delete");
        if (!yes) return;
        const r = await SB.api("POST", "integrations.remove", { type: kind === "incoming" ? "webhook-incoming" : "webhook-outgoing", integrationId: id });
        if (r.success) location.href = "/admin/integrations";
        else showError("form-error", r.error || "Delete failed.");
      });
    }
    if (kind === "incoming") initTest();
  }

  // ---- Test panel ---------------------------------------------------------------------------------------

  const SAMPLES = {
    text: { text: "Hello from the Test panel :wave:" },
    attachment: {
      text: "Build *finished*",
      attachments: [{
        title: "Build #42", title_link: "https://ci.example.org/builds/42", color: "#2eb886",
        author_name: "CI", author_link: "https://ci.example.org", text: "All tests passed on `main`.",
        fields: [{ title: "Branch", value: "main", short: true }, { title: "Duration", value: "3m 12s", short: true }],
      }],
    },
    github: {
      ref: "refs/heads/main", compare: "https://github.com/acme/app/compare/abc...def",
      repository: { full_name: "acme/app", html_url: "https://github.com/acme/app" },
      pusher: { name: "octocat" }, sender: { login: "octocat", avatar_url: "https://avatars.githubusercontent.com/u/583231" },
      commits: [{ id: "def456", message: "Fix the login form", url: "https://github.com/acme/app/commit/def456", author: { name: "Octo Cat" } }],
    },
    alertmanager: {
      receiver: "chat", status: "firing", externalURL: "http://alertmanager.example.org",
      commonLabels: { alertname: "HighLatency", severity: "critical" },
      alerts: [{ status: "firing", labels: { alertname: "HighLatency", instance: "api-1", severity: "critical" },
        annotations: { summary: "p99 latency above 2s", description: "api-1 answers slowly" }, startsAt: "2025-01-01T12:00:00Z" }],
    },
    gitlab: {
      object_kind: "pipeline", object_attributes: { id: 31, ref: "main", status: "failed", duration: 63 },
      project: { path_with_namespace: "acme/app", web_url: "https://gitlab.example.org/acme/app" },
      user: { name: "Ada", username: "ada" },
    },
  };

  let testHeaders = {};
  function initTest() {
    const sample = $("test-sample"), payload = $("test-payload");
    const fill = () => { payload.value = JSON.stringify(SAMPLES[sample.value], null, 2); };
    sample.addEventListener("change", () => { testHeaders = {}; fill(); });
    fill();
    // A recorded request sent here from the history page ("Re-run through the draft").
    try {
      const rerun = sessionStorage.getItem("sb-rerun");
      if (rerun) {
        sessionStorage.removeItem("sb-rerun");
        const rec = JSON.parse(rerun);
        payload.value = pretty(rec.body);
        testHeaders = rec.contentType ? { "content-type": rec.contentType } : {};
        setTimeout(() => { $("test").scrollIntoView(); payload.focus(); }, 300);
      }
    } catch (_) { /* storage blocked: nothing to re-run */ }
    $("run-test").addEventListener("click", runTest);
  }

  async function runTest() {
    const out = $("test-result"), status = $("test-status"), preview = $("test-preview"), logs = $("test-logs");
    const req = {
      script: val("script"), scriptEnabled: val("scriptEnabled"), payload: $("test-payload").value,
      alias: val("alias"), avatar: val("avatar"), emoji: val("emoji"), username: val("username"), channel: val("channel"), headers: testHeaders,
    };
    $("run-test").disabled = true;
    let r;
    try {
      const resp = await fetch("/admin/integrations/test", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": SB.meta("sb-csrf") },
        body: JSON.stringify(req),
      });
      r = resp.ok ? await resp.json() : { ok: false, error: "The test could not run (" + resp.status + ")." };
    } catch (e) {
      r = { ok: false, error: "The test could not run: " + e };
    }
    $("run-test").disabled = false;
    out.hidden = false;
    preview.textContent = "";
    status.className = "alert " + (r.ok ? "ok" : "error");
    if (r.ok && r.posted) {
      status.textContent = "The script would post this message" + (r.target ? " to " + r.target : "") + ":";
      const tpl = document.createElement("template");
      tpl.innerHTML = r.html; // rendered and escaped by the server's message renderer, as in the chat view
      preview.append(tpl.content);
      SB.decorate(preview);
    } else if (r.ok) {
      status.textContent = r.note || "Nothing would be posted.";
    } else {
      status.textContent = (r.stage === "compile" ? "The script does not compile: " : "") + (r.error || "The test failed.") + (r.line ? " (line " + r.line + ")" : "");
      if (r.line) markLine(r.line);
    }
    logs.textContent = "";
    const lines = r.logs || [];
    if (!lines.length) logs.textContent = "(no console output)";
    for (const l of lines) logs.append(el("span", { className: l.level, textContent: "[" + l.level + "] " + l.message + "\n" }));
  }

  // ---- history ----------------------------------------------------------------------------------------

  function detailBlock(title, value) {
    return el("div", { className: "detail" }, el("h3", { textContent: title }), el("pre", { textContent: pretty(value) }));
  }

  // `httpResult` is Rocket.Chat's pretty-JSON-stringified response text: unwrap it, and pretty-print the
  // text itself when it is JSON.
  function responseText(v) {
    if (typeof v !== "string") return v;
    let text = v;
    try { const t = JSON.parse(v); if (typeof t === "string") text = t; } catch (_) { /* already text */ }
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; }
  }

  const headerLines = (h) => h && typeof h === "object" && Object.keys(h).length
    ? Object.keys(h).map((k) => k + ": " + h[k]).join("\n") : undefined;

  // One outgoing attempt: failed (a final error), retrying (failed, another attempt is queued), pending
  // (still running) or ok.
  function outgoingResult(h) {
    const status = h.statusCode ? " " + h.statusCode : "";
    if (h.error && h.finished === false) return ["warn", "retrying" + status];
    if (h.error) return ["warn", "error" + status];
    if (h.finished === false) return ["", "pending"];
    return ["ok", "ok" + status];
  }

  function outgoingSections(h) {
    const sent = [].concat(h.prepareSentMessage || [], h.processSentMessage || [], h.resultMessage || []);
    const overview = [
      "webhook-id: " + (h.webhookId || "—"),
      "attempt: " + (h.attempt !== undefined ? h.attempt : "—"),
      "event: " + (h.event || "—") + (h.triggerWord ? " (trigger word " + h.triggerWord + ")" : ""),
      "status: " + (h.statusCode || "—") + (h.durationMs !== undefined ? " in " + Number(h.durationMs).toFixed(1) + " ms" : ""),
      "finished: " + (h.finished ? "yes" : "no") + (h.nextAttemptAt ? ", next attempt " + when(h.nextAttemptAt) : ""),
      "prepare script ran: " + (h.ranPrepareScript ? "yes" : "no"),
    ].join("\n");
    return [
      ["Overview", overview],
      ["Steps", Array.isArray(h.steps) ? h.steps.join("\n") : h.step],
      ["Request", h.url ? (h.httpMethod || "POST") + " " + h.url : undefined],
      ["Request headers", headerLines(h.requestHeaders)],
      ["Request body", h.httpCallData || h.data],
      ["Response headers", headerLines(h.responseHeaders)],
      ["Response body", h.httpResult !== undefined ? (responseText(h.httpResult) || "(empty)") : undefined],
      ["HTTP error", h.httpError],
      ["Script logs", Array.isArray(h.logs) && h.logs.length ? h.logs.map((l) => "[" + l.level + "] " + l.message).join("\n") : undefined],
      ["Replies posted", sent.length ? sent : undefined],
      ["Error", h.errorStack],
    ];
  }

  // The ids of the records whose details are open, kept across a refresh so reading is not interrupted.
  const openRecords = new Set();
  let historyTotal = -1;

  async function loadHistory(table) {
    const kind = table.dataset.kind, id = table.dataset.id;
    const body = $("history-body"), logsBox = $("logs");
    const cols = kind === "incoming" ? 4 : 5;
    const g = await SB.api("GET", "integrations.get?integrationId=" + encodeURIComponent(id));
    if (g.success) {
      $("history-name").textContent = "— " + g.integration.name;
      $("crumb-name").textContent = g.integration.name;
    }
    const r = await SB.api("GET", "integrations.history?id=" + encodeURIComponent(id) + "&count=50");
    body.textContent = "";
    const logLines = [];
    if (!r.success) {
      showError("list-error", missingApi(r));
      body.append(el("tr", {}, el("td", { colSpan: cols, className: "muted", textContent: "No history to show." })));
      logsBox.textContent = "(no logs)";
      return;
    }
    const items = r.history || [];
    historyTotal = r.total !== undefined ? r.total : items.length;
    if (!items.length) body.append(el("tr", {}, el("td", { colSpan: cols, className: "muted", textContent: "Nothing recorded yet." })));
    for (const h of items) {
      const details = el("details", { className: "record" }, el("summary", { textContent: "Show" }));
      details.open = openRecords.has(h._id);
      details.addEventListener("toggle", () => { if (details.open) openRecords.add(h._id); else openRecords.delete(h._id); });
      let cells;
      if (kind === "incoming") {
        const failed = h.error === true || (typeof h.error === "string" && h.error !== "") || !!h.errorStack || (h.status && h.status >= 400);
        const result = el("span", { className: "badge " + (failed ? "warn" : "ok"), textContent: failed ? "error" : "ok" });
        const timing = h.totalMs !== undefined
          ? "script " + (h.scriptRan ? "ran (" + Number(h.scriptMs || 0).toFixed(1) + " ms)" : "did not run") + ", total " + Number(h.totalMs).toFixed(1) + " ms"
          : undefined;
        const sections = [["Request", (h.method || "POST") + " " + (h.url || "")], ["Headers", h.headers],
          ["Body" + (h.bodyTruncated ? " (truncated)" : ""), h.body], ["Parsed content", h.content],
          ["Steps", timing], ["Script logs", (h.logs || []).map((l) => "[" + l.level + "] " + l.message).join("\n")],
          ["Script result", h.scriptResult], ["Messages posted", h.messages && h.messages.length ? h.messages : undefined],
          ["Answer", h.response], ["Error", h.error]];
        for (const [t, v] of sections) if (v !== undefined && v !== null && v !== "") details.append(detailBlock(t, v));
        const rerun = el("button", { type: "button", className: "small", textContent: "Re-run through the draft script" });
        rerun.addEventListener("click", () => {
          const raw = typeof h.body === "string" ? h.body : JSON.stringify(h.content || {});
          const ct = h.headers && (h.headers["content-type"] || h.headers["Content-Type"]);
          try { sessionStorage.setItem("sb-rerun", JSON.stringify({ body: raw, contentType: ct || "" })); } catch (_) { /* ignore */ }
          location.href = "/admin/integrations/incoming/" + encodeURIComponent(id) + "#test";
        });
        details.append(rerun);
        cells = [result, el("span", { textContent: String(h.status || "") + (h.messages && h.messages.length ? " · posted " + h.messages.length : "") })];
      } else {
        const [cls, text] = outgoingResult(h);
        for (const [t, v] of outgoingSections(h)) if (v !== undefined && v !== null && v !== "") details.append(detailBlock(t, v));
        const replay = el("button", { type: "button", className: "small replay", textContent: "Replay" });
        const note = el("span", { className: "muted replay-status", role: "status" });
        replay.addEventListener("click", () => replayRecord(table, h, replay, note));
        details.append(el("div", { className: "actions" }, replay, " ", note));
        cells = [
          el("span", { className: "badge result " + cls, textContent: text }),
          el("code", { textContent: h.step || "" }),
          el("span", { textContent: (h.event || "") + (h.url ? " → " + h.url : "") }),
        ];
      }
      for (const l of (Array.isArray(h.logs) ? h.logs : [])) logLines.push([l.ts_ms || h._createdAt, l]);
      if (h.errorStack) logLines.push([h._createdAt, { level: "error", message: String(h.errorStack) }]);
      if (typeof h.error === "string" && h.error) logLines.push([h._createdAt, { level: "error", message: h.error }]);
      const tr = el("tr", { className: "history-record" });
      tr.dataset.historyId = h._id || "";
      if (h.webhookId) tr.dataset.webhookId = h.webhookId;
      tr.append(el("td", { textContent: when(h._createdAt || h.ts) }), ...cells.map((c) => el("td", {}, c)), el("td", {}, details));
      body.append(tr);
    }
    logsBox.textContent = "";
    if (!logLines.length) logsBox.textContent = "(no script output recorded)";
    for (const [t, l] of logLines) {
      const lvl = (l && l.level) || "log";
      logsBox.append(el("span", { className: lvl, textContent: when(t) + " [" + lvl + "] " + ((l && l.message) || JSON.stringify(l)) + "\n" }));
    }
  }

  // Replay queues the recorded call again (same data, URL and webhook-id) through the REST API's
  // integrations.replayOutgoing; the new attempt shows up as a new record once the worker has run it,
  // so the table refreshes until it appears (or gives up after a while and says so).
  async function replayRecord(table, h, button, note) {
    button.disabled = true;
    note.textContent = "Queuing…";
    const before = historyTotal;
    const r = await SB.api("POST", "integrations.replayOutgoing", { integrationId: table.dataset.id, historyId: h._id });
    if (!r.success) {
      button.disabled = false;
      note.textContent = "Replay failed: " + (r.error || r.httpStatus);
      return;
    }
    const status = $("history-status");
    status.textContent = "Replay of " + (h.webhookId || h._id) + " queued; waiting for the new attempt…";
    for (let i = 0; i < 40; i++) {
      await new Promise((res) => setTimeout(res, 500));
      await loadHistory(table);
      if (historyTotal > before) { status.textContent = "Replayed: the new attempt is at the top."; return; }
    }
    status.textContent = "Replay queued; the new attempt has not run yet (the integration may be disabled). Refresh later.";
  }

  document.addEventListener("DOMContentLoaded", () => {
    const list = $("integrations-table"), form = $("integration-form"), hist = $("history-table");
    if (list) loadList();
    if (form) initForm(form);
    if (hist) {
      loadHistory(hist);
      $("history-refresh").addEventListener("click", () => loadHistory(hist));
    }
  });
})();
