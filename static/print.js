// The placard's print button: shown only where a script runs (the page says how to print from the
// browser's menu otherwise).
(function () {
  var button = document.getElementById("print-button");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
  var hint = document.getElementById("print-hint");
  if (hint) hint.hidden = true;
})();
