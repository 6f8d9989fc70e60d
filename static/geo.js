// Fills the hidden position fields of forms marked data-geolocate from the browser's geolocation
// (the browser asks the person first). Messages come from the page (data-*-text), in its language.
// Without script, the server answers that the position is missing.
(function () {
  function setup(form) {
    var status = form.querySelector("[data-geo-status]");
    var have = false;
    function say(text) { if (status) { status.textContent = text; } }
    form.addEventListener("submit", function (event) {
      if (have || !navigator.geolocation) { return; }
      event.preventDefault();
      say(form.dataset.waitText || "");
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude;
        form.elements.lng.value = pos.coords.longitude;
        form.elements.accuracy.value = Math.round(pos.coords.accuracy || 0);
        have = true;
        say((form.dataset.okText || "").replace("{m}", Math.round(pos.coords.accuracy || 0)));
        // Submit after the current submit event has finished: a form ignores a new submission
        // requested while it is still dispatching one.
        setTimeout(function () {
          if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        }, 0);
      }, function () {
        say(form.dataset.errorText || "");
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-geolocate]"), setup);
  });
})();
