// The header's unread notification count: ask /notifications/unread.json every
// data-poll-ms (30 s by default) and update the badge in place, without a reload
// (no inline script: CSP). Stops when the answer is not OK (signed out, no access).
(function () {
  var badge = document.getElementById("notifications-unread");
  if (!badge || !window.fetch) { return; }
  var url = badge.getAttribute("data-poll-url");
  var every = parseInt(badge.getAttribute("data-poll-ms"), 10) || 30000;
  function show(n) {
    var text = String(n);
    if (badge.textContent !== text) { badge.textContent = text; }
    badge.setAttribute("aria-label", text + " unread");
    badge.classList.toggle("warn", n > 0);
  }
  function poll() {
    if (document.hidden) { window.setTimeout(poll, every); return; }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || typeof data.unread !== "number") { return; }
        show(data.unread);
        window.setTimeout(poll, every);
      })
      .catch(function () { window.setTimeout(poll, every * 2); });
  }
  window.setTimeout(poll, every);
})();
