// A button marked data-print prints the page (the CSP allows no inline onclick).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
