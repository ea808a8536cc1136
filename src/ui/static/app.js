// Switchboard: behaviour shared by every page. No dependencies, no build step. Content from messages is
// never turned into HTML here: the server renders and escapes it; scripts only move finished fragments.
"use strict";
(function () {
  const meta = (name) => {
    const m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.content : "";
  };

  // Times: the server writes UTC; show them in the reader's time zone.
  function localizeTimes(root) {
    root.querySelectorAll("time[datetime]").forEach((t) => {
      if (t.dataset.local) return;
      const d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      t.dataset.local = "1";
      t.title = d.toLocaleString();
      if (t.closest(".meta") || t.closest(".sys")) {
        t.textContent = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      }
    });
  }

  // Attachment colors arrive as validated data attributes: the CSP forbids inline styles, and setting a
  // style property from script is not markup, so nothing here can inject CSS.
  function applyColors(root) {
    root.querySelectorAll("[data-color]").forEach((el) => {
      const c = el.dataset.color;
      if (/^#[0-9a-fA-F]{3,8}$/.test(c)) el.style.borderLeftColor = c;
    });
  }

  function decorate(root) {
    localizeTimes(root || document);
    applyColors(root || document);
  }

  // An accessible confirmation dialog (a native <dialog>), resolving to true when confirmed.
  function confirmDialog(text, action) {
    return new Promise((resolve) => {
      const d = document.createElement("dialog");
      d.setAttribute("aria-labelledby", "sb-confirm-text");
      const p = document.createElement("p");
      p.id = "sb-confirm-text";
      p.textContent = text;
      const row = document.createElement("div");
      row.className = "actions";
      const no = document.createElement("button");
      no.type = "button";
      no.textContent = "Cancel";
      const yes = document.createElement("button");
      yes.type = "button";
      yes.className = "danger";
      yes.id = "sb-confirm-yes";
      yes.textContent = action || "Confirm";
      row.append(no, yes);
      d.append(p, row);
      document.body.append(d);
      const done = (v) => { d.close(); d.remove(); resolve(v); };
      no.addEventListener("click", () => done(false));
      yes.addEventListener("click", () => done(true));
      d.addEventListener("cancel", (e) => { e.preventDefault(); done(false); });
      d.showModal();
      no.focus();
    });
  }

  // Forms that need a confirmation carry data-confirm.
  document.addEventListener("submit", (e) => {
    const f = e.target;
    if (!(f instanceof HTMLFormElement) || !f.dataset.confirm || f.dataset.confirmed) return;
    e.preventDefault();
    confirmDialog(f.dataset.confirm, "Yes, continue").then((ok) => {
      if (ok) { f.dataset.confirmed = "1"; f.submit(); }
    });
  });

  // Copy buttons: data-copy names the input to copy.
  document.addEventListener("click", (e) => {
    const b = e.target.closest ? e.target.closest("button[data-copy]") : null;
    if (!b) return;
    const field = document.getElementById(b.dataset.copy);
    if (!field) return;
    const done = () => {
      const old = b.textContent;
      b.textContent = "Copied";
      setTimeout(() => { b.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, () => { field.select(); document.execCommand("copy"); done(); });
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  });

  // REST calls with the session's own credentials (the same token the cookie holds).
  async function api(method, path, body) {
    const opts = {
      method,
      headers: { "X-User-Id": meta("sb-user-id"), "X-Auth-Token": meta("sb-token") },
      credentials: "same-origin",
    };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch("/api/v1/" + path, opts);
    let data = {};
    try { data = await r.json(); } catch (_) { data = { success: false, error: "Unexpected answer (" + r.status + ")" }; }
    data.httpStatus = r.status;
    return data;
  }

  window.SB = { meta, decorate, confirm: confirmDialog, api };
  document.addEventListener("DOMContentLoaded", () => decorate(document));
})();
