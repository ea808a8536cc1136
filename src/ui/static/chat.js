// The chat view: live updates over the realtime DDP WebSocket (`/websocket`: connect, login with
// {resume: token}, sub stream-room-messages [rid, false]), falling back to polling the server for new
// messages when the socket is unavailable; paging back through older messages; and the composer. Messages
// are rendered by the server (the same renderer as the page itself), so this script never builds markup from
// message content.
"use strict";
(function () {
  const SB = window.SB;
  let room, list, live, lastTs, pollTimer = null, ws = null, wsReady = false, attempts = 0;

  function setLive(text, on) {
    live.textContent = text;
    live.classList.toggle("on", !!on);
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  // Inserts (or replaces) server-rendered <li> items, keeping the list in time order.
  function insertHtml(html) {
    const stick = nearBottom();
    const tpl = document.createElement("template");
    tpl.innerHTML = html; // trusted: rendered and escaped by our server, and the CSP forbids inline script
    Array.from(tpl.content.children).forEach((li) => {
      const ts = Number(li.dataset.ts || 0);
      const old = document.getElementById(li.id);
      if (old) { old.replaceWith(li); }
      else {
        li.classList.add("new");
        let before = null;
        for (let n = list.lastElementChild; n; n = n.previousElementSibling) {
          if (Number(n.dataset.ts || 0) <= ts) break;
          before = n;
        }
        list.insertBefore(li, before);
      }
      if (ts > lastTs) lastTs = ts;
      SB.decorate(li);
    });
    if (stick) scrollDown();
  }

  // "Load older messages": asks for the page before the oldest message shown, naming the ids shown at that
  // very millisecond so the server neither repeats nor skips messages sharing it, and puts the page above
  // the current ones without moving what the reader is looking at. Live messages keep arriving at the
  // bottom meanwhile; they are newer than anything this fetches, and an id already present is never added
  // twice.
  async function loadOlder() {
    const button = document.getElementById("load-older");
    const status = document.getElementById("load-older-status");
    const shown = Array.from(list.querySelectorAll("li.msg[data-ts]"));
    if (!shown.length) return;
    const before = Number(shown[0].dataset.ts);
    const same = shown.filter((li) => Number(li.dataset.ts) === before).map((li) => li.id.replace(/^m-/, ""));
    button.disabled = true;
    status.textContent = "Loading…";
    let r;
    try {
      const resp = await fetch("/room/" + encodeURIComponent(room) + "/older?before=" + before + "&shown=" + encodeURIComponent(same.join(",")), { credentials: "same-origin" });
      r = resp.ok ? await resp.json() : null;
    } catch (_) { r = null; }
    button.disabled = false;
    if (!r) { status.textContent = "Could not load older messages; try again."; return; }
    status.textContent = "";
    const fromBottom = list.scrollHeight - list.scrollTop;
    const tpl = document.createElement("template");
    tpl.innerHTML = r.html; // trusted: rendered and escaped by our server, and the CSP forbids inline script
    const anchor = document.getElementById("load-older-row").nextSibling;
    Array.from(tpl.content.children).forEach((li) => {
      if (document.getElementById(li.id)) return;
      list.insertBefore(li, anchor);
      SB.decorate(li);
    });
    list.scrollTop = list.scrollHeight - fromBottom;
    if (!r.more) {
      document.getElementById("load-older-row").replaceWith(Object.assign(document.createElement("li"), {
        className: "load-older muted", id: "history-start", textContent: "This is the start of the room.",
      }));
    }
  }

  async function fetchMessage(id) {
    const r = await fetch("/room/" + encodeURIComponent(room) + "/message/" + encodeURIComponent(id), { credentials: "same-origin" });
    if (r.ok) insertHtml(await r.text());
  }

  async function poll() {
    try {
      const r = await fetch("/room/" + encodeURIComponent(room) + "/messages?after=" + lastTs, { credentials: "same-origin" });
      if (r.status === 401 || r.redirected) { setLive("logged out", false); return; }
      if (r.ok) {
        const html = await r.text();
        if (html.trim()) insertHtml(html);
      }
    } catch (_) { /* network hiccup: try again on the next tick */ }
  }

  function startPolling() {
    if (pollTimer) return;
    setLive("live (polling)", true);
    poll();
    pollTimer = setInterval(poll, 2000);
  }

  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    let opened = false;
    try { ws = new WebSocket(proto + location.host + "/websocket"); } catch (_) { startPolling(); return; }
    // If the socket does not get to "ready" quickly, poll meanwhile; it takes over once ready.
    const fallback = setTimeout(() => { if (!wsReady) startPolling(); }, 3000);
    const send = (o) => ws.send(JSON.stringify(o));
    ws.onopen = () => {
      opened = true;
      send({ msg: "connect", version: "1", support: ["1", "pre2", "pre1"] });
      send({ msg: "method", method: "login", id: "login", params: [{ resume: SB.meta("sb-token") }] });
      send({ msg: "sub", id: "room", name: "stream-room-messages", params: [room, false] });
    };
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch (_) { return; }
      if (f.msg === "ping") { send(f.id ? { msg: "pong", id: f.id } : { msg: "pong" }); return; }
      if (f.msg === "ready" && f.subs && f.subs.indexOf("room") >= 0) {
        wsReady = true;
        attempts = 0;
        clearTimeout(fallback);
        stopPolling();
        setLive("live", true);
        poll(); // catch up on anything posted while connecting
        return;
      }
      if (f.msg === "nosub" && f.id === "room") { startPolling(); return; }
      if (f.msg === "result" && f.id === "login" && f.error) { setLive("logged out", false); return; }
      if (f.msg === "changed" && f.collection === "stream-room-messages" && f.fields && Array.isArray(f.fields.args)) {
        const m = f.fields.args[0];
        if (m && m._id && m.rid === room) fetchMessage(m._id);
      }
    };
    ws.onclose = () => {
      clearTimeout(fallback);
      const was = wsReady;
      wsReady = false;
      ws = null;
      if (!opened || attempts > 5) { startPolling(); return; }
      // Reconnect with backoff; poll in the meantime so nothing is missed.
      attempts++;
      startPolling();
      setTimeout(() => { stopPolling(); connect(); }, Math.min(30000, 1000 * 2 ** attempts));
      if (was) setLive("reconnecting…", false);
    };
  }

  function composer() {
    const form = document.getElementById("composer");
    if (!form) return;
    const text = document.getElementById("composer-text");
    const err = document.getElementById("composer-error");
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = text.value.trim();
      if (!body) return;
      err.hidden = true;
      const data = new URLSearchParams(new FormData(form));
      const r = await fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": SB.meta("sb-csrf") },
      });
      if (r.ok) {
        text.value = "";
        if (!wsReady) poll();
      } else {
        err.textContent = (await r.text()) || "The message could not be sent.";
        err.hidden = false;
      }
      text.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    room = SB.meta("sb-room");
    list = document.getElementById("messages");
    live = document.getElementById("live-state");
    lastTs = Number(SB.meta("sb-last-ts") || 0);
    scrollDown();
    const older = document.getElementById("load-older");
    if (older) older.addEventListener("click", loadOlder);
    composer();
    connect();
  });
})();
