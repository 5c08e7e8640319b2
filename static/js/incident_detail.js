// Show only the inputs of the chosen status-update template (all stay visible without JS).
(function () {
  var form = document.getElementById("status-form");
  if (!form) return;
  var kind = form.querySelector("[name=kind]");
  function sync() {
    form.querySelectorAll("[data-kinds]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kinds").split(" ").indexOf(kind.value) < 0;
    });
  }
  kind.addEventListener("change", sync);
  sync();
})();
