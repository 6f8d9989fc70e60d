// Live notices for officials: listens to /official/events (server-sent events) and shows each
// notice of the official's tenant at the top of the page, newest first, with a count in the
// header. The list at /official/notices keeps every notice, so nothing is lost on a reload.
(function () {
  function setup() {
    var box = document.getElementById("live-notices");
    if (!box || !window.EventSource) { return; }
    var list = box.querySelector("ul");
    var count = document.getElementById("live-count");
    var seen = 0;
    var source = new EventSource(box.dataset.events);
    // A page left for another is kept by the browser for "back" with its stream still open; a
    // few of those use up the six connections a browser allows a site, and every later request
    // of the site waits. Close the stream on leaving; a page brought back reloads to reopen it.
    window.addEventListener("pagehide", function () { source.close(); });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { window.location.reload(); }
    });
    source.addEventListener("ready", function (event) {
      box.dataset.state = event.data;
      document.documentElement.dataset.liveNotices = event.data;
    });
    source.addEventListener("notice", function (event) {
      var notice;
      try { notice = JSON.parse(event.data); } catch (e) { return; }
      var item = document.createElement("li");
      item.dataset.kind = notice.kind || "";
      var text = document.createTextNode(notice.text || "");
      if (notice.link && notice.link.charAt(0) === "/") {
        var a = document.createElement("a");
        a.href = notice.link;
        a.appendChild(text);
        item.appendChild(a);
      } else {
        item.appendChild(text);
      }
      var close = document.createElement("button");
      close.type = "button";
      close.className = "linklike small";
      close.textContent = "×";
      close.setAttribute("aria-label", box.dataset.closeText || "close");
      close.addEventListener("click", function () {
        item.remove();
        if (!list.children.length) { box.hidden = true; }
      });
      item.appendChild(close);
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 5) { list.removeChild(list.lastChild); }
      box.hidden = false;
      seen += 1;
      if (count) { count.textContent = String(seen); count.hidden = false; }
    });
  }
  document.addEventListener("DOMContentLoaded", setup);
})();
