// Progressive enhancement: the same decision tree as incidents.severity.triage_suggest,
// applied as the boxes are ticked. Without JavaScript, "Suggest severity" asks the server.
(function () {
  var form = document.getElementById("incident-form");
  if (!form) return;
  var ids = ["money_at_risk", "service_down", "core_service", "degraded"];
  var result = document.getElementById("triage-result");
  function checked(name) { return form.querySelector("#id_" + name).checked; }
  function suggest() {
    if (checked("money_at_risk")) return ["SEV1", "Trading is losing money or money is at risk: halt trading. Activate the kill switch.", true];
    if (checked("service_down") && checked("core_service")) return ["SEV1", "A core trading service is completely down.", false];
    if (checked("service_down")) return ["SEV2", "A service is completely down.", false];
    if (checked("degraded")) return ["SEV3", "Performance is degraded.", false];
    return ["SEV4", "No trading impact: a minor or cosmetic issue.", false];
  }
  ids.forEach(function (name) {
    form.querySelector("#id_" + name).addEventListener("change", function () {
      var s = suggest();
      form.querySelector("#id_severity").value = s[0];
      if (s[2]) form.querySelector("#id_trading_halted").checked = true;
      result.textContent = "Suggested: " + s[0] + " — " + s[1];
    });
  });
})();
