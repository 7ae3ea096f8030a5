// Warden console: progressive enhancement only. Every page works without this script; with it,
// keyboard shortcuts, live countdowns, lease renewal while a reviewer works, and reveal in place.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.getAttribute("data-csrf") || "";

  function post(url, fields) {
    var data = new URLSearchParams();
    data.append("_csrf", csrf);
    Object.keys(fields || {}).forEach(function (k) { data.append(k, fields[k]); });
    return fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } });
  }

  // Countdowns: every <time data-countdown> shows the time left (or overdue).
  function words(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      var left = at - now;
      el.textContent = left >= 0 ? "in " + words(left) : words(left) + " ago";
      el.classList.toggle("late", left < 0);
    });
  }
  tick();
  setInterval(tick, 1000);

  // The lease: renewed while the reviewer is active on the case (keys, clicks, scrolling).
  var caseEl = document.getElementById("case");
  if (caseEl && caseEl.hasAttribute("data-lease-expires")) {
    var id = caseEl.getAttribute("data-case");
    var active = false;
    ["keydown", "mousedown", "scroll", "input"].forEach(function (t) { document.addEventListener(t, function () { active = true; }, { passive: true }); });
    setInterval(function () {
      if (!active) return;
      active = false;
      post("/cases/" + id + "/renew").then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
        var lease = document.getElementById("lease");
        if (j && lease) { lease.setAttribute("datetime", j.lease_expires_at); tick(); }
      }).catch(function () {});
    }, 60000);
  }

  // Wellness: a queue's media starts muted.
  if (caseEl && caseEl.hasAttribute("data-mute-media")) {
    caseEl.querySelectorAll("video, audio").forEach(function (m) { m.muted = true; m.autoplay = false; });
  }

  // Reveal blurred content in place (the reveal is still recorded by the server).
  document.querySelectorAll("form.reveal").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var item = form.querySelector("input[name=item]").value;
      post(form.getAttribute("action"), { item: item }).then(function (r) {
        if (!r.ok) { form.submit(); return; }
        var content = document.querySelector('.content[data-item="' + item + '"]');
        if (content) content.classList.add("revealed");
        form.remove();
      });
    });
  });

  // The rule editor: diagnostics as you type (file:line:column), checked by the server.
  var editor = document.getElementById("rule-editor");
  if (editor) {
    var textArea = document.getElementById("rule-text");
    var out = document.getElementById("diagnostics");
    var timer = null, sequence = 0;
    textArea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++sequence;
        post(editor.getAttribute("data-check"), { text: textArea.value }).then(function (r) { return r.json(); }).then(function (j) {
          if (mine !== sequence) return;
          out.textContent = "";
          out.className = j.problems.length ? "error" : "ok";
          if (!j.problems.length) { out.textContent = "No problems."; return; }
          j.problems.forEach(function (p) {
            var line = document.createElement("div");
            line.className = "diagnostic";
            var where = document.createElement("code");
            where.textContent = p.location;
            line.appendChild(where);
            line.appendChild(document.createTextNode(" " + p.message));
            out.appendChild(line);
          });
        }).catch(function () {});
      }, 300);
    });
  }

  // Keyboard shortcuts: the page's elements with data-key, plus g h / g q / ? everywhere.
  var dialog = document.getElementById("shortcuts");
  document.querySelectorAll("[data-action=shortcuts]").forEach(function (b) { b.addEventListener("click", function () { dialog.showModal(); }); });
  var pendingG = false;
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (typing) { if (e.key === "Escape") t.blur(); return; }
    if (pendingG) {
      pendingG = false;
      if (e.key === "h") { location.href = "/"; e.preventDefault(); return; }
      if (e.key === "q") { location.href = "/queues"; e.preventDefault(); return; }
    }
    if (e.key === "g") { pendingG = true; return; }
    if (e.key === "?") { dialog.showModal(); e.preventDefault(); return; }
    if (e.key === "/") {
      var box = document.getElementById("search-q");
      if (box) box.focus(); else location.href = "/search";
      e.preventDefault();
      return;
    }
    if (e.key === "n") {
      var claim = document.querySelector("[data-claim-queue], button[data-key=n]");
      if (claim) { claim.click(); e.preventDefault(); }
      return;
    }
    var el = document.querySelector('[data-key="' + CSS.escape(e.key) + '"]');
    if (!el) return;
    e.preventDefault();
    if (el.tagName === "SUMMARY") {
      var details = el.parentElement;
      details.open = true;
      var first = details.querySelector("input, textarea, select");
      if (first) first.focus();
    } else if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") {
      el.focus();
    } else {
      el.click();
    }
  });

  // The idle timeout: after the session's idle time without activity the server ends it; say so.
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  if (idle > 0 && csrf) {
    var last = Date.now();
    ["keydown", "mousedown"].forEach(function (t) { document.addEventListener(t, function () { last = Date.now(); }, { passive: true }); });
    setInterval(function () {
      if (Date.now() - last > idle * 1000) location.href = "/login?next=" + encodeURIComponent(location.pathname);
    }, 30000);
  }
})();
