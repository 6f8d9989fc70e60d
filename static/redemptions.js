// The vendor's list of tonight's voucher uses, kept live: listens to the stall's redemption
// stream (server-sent events) and puts each new use at the top, or updates a reversed one in
// place. The server renders the row, so it reads exactly as after a reload.
(function () {
  function setup() {
    var table = document.getElementById("redemption-list");
    if (!table || !table.dataset.live || !window.EventSource) { return; }
    var body = table.tBodies[0];
    var source = new EventSource(table.dataset.live);
    // A page left for another is kept by the browser for "back" with its stream still open; a
    // few of those use up the six connections a browser allows a site, and every later request
    // of the site waits. Close the stream on leaving; a page brought back reloads to reopen it.
    window.addEventListener("pagehide", function () { source.close(); });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { window.location.reload(); }
    });
    source.addEventListener("ready", function (event) {
      document.documentElement.dataset.liveRedemptions = event.data;
    });
    source.addEventListener("redemption", function (event) {
      var holder = document.createElement("tbody");
      holder.innerHTML = event.data;
      var row = holder.querySelector("tr[data-redemption]");
      if (!row) { return; }
      var old = body.querySelector('tr[data-redemption="' + row.dataset.redemption + '"]');
      if (old) {
        body.replaceChild(row, old);
      } else {
        body.insertBefore(row, body.firstChild);
        row.classList.add("fresh");
      }
      var empty = document.querySelector("#redemptions .empty");
      if (empty) { empty.hidden = true; }
    });
    source.addEventListener("lagged", function () { window.location.reload(); });
  }
  document.addEventListener("DOMContentLoaded", setup);
})();
