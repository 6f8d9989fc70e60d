// The officials' live wall: listens to the wall's stream (server-sent events) and puts each new
// drawing the server sends in place of the old one. The drawing is the server's own markup, so
// the page shows exactly what a reload would.
(function () {
  function setup() {
    var wall = document.getElementById("wall");
    var badge = document.getElementById("wall-state");
    if (!wall || !window.EventSource) { return; }
    var source = new EventSource(wall.dataset.events);
    function state(name, text) {
      if (badge) { badge.dataset.state = name; badge.textContent = text; }
      document.documentElement.dataset.wall = name;
    }
    window.addEventListener("pagehide", function () { source.close(); });
    window.addEventListener("pageshow", function (event) { if (event.persisted) { window.location.reload(); } });
    source.addEventListener("ready", function (event) {
      state(event.data, event.data === "live" ? wall.dataset.liveText : wall.dataset.degradedText);
    });
    source.addEventListener("wall", function (event) {
      // Keep the map scrolled where the official left it.
      var scroller = wall.querySelector(".map-scroll");
      var left = scroller ? scroller.scrollLeft : 0, top = scroller ? scroller.scrollTop : 0;
      wall.innerHTML = event.data;
      scroller = wall.querySelector(".map-scroll");
      if (scroller) { scroller.scrollLeft = left; scroller.scrollTop = top; }
      wall.dataset.updates = String(Number(wall.dataset.updates || "0") + 1);
    });
    source.addEventListener("lagged", function () { window.location.reload(); });
    source.addEventListener("error", function () { state("degraded", wall.dataset.degradedText); });
  }
  document.addEventListener("DOMContentLoaded", setup);
})();
