// The report page while a report is queued or running: ask the API for its state
// every 2 s and reload the page once it is done or failed (no inline script: CSP).
(function () {
  var box = document.getElementById("report-state");
  if (!box) { return; }
  var url = box.getAttribute("data-poll-url");
  var initial = box.getAttribute("data-state");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.state !== initial) { window.location.reload(); return; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
