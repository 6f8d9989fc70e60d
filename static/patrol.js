// The inspector's patrol app: keeps a market's stalls, the tenant's code keys and the problem
// list on the phone (IndexedDB), checks a code's Ed25519 signature in the page (WebCrypto),
// records inspections offline with an id made here, and sends them when the signal returns.
// Nothing here decides anything the server does not check again when the inspections arrive.
(function () {
  "use strict";
  var DB = "nightmarket-patrol", PACKS = "packs", QUEUE = "queue";

  // ---- storage -----------------------------------------------------------------------------
  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore(PACKS, { keyPath: "market_id" });
        req.result.createObjectStore(QUEUE, { keyPath: "id" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function store(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var out = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function all(name) { return store(name, "readonly", function (s) { return s.getAll(); }); }
  function put(name, value) { return store(name, "readwrite", function (s) { s.put(value); }); }
  function remove(name, key) { return store(name, "readwrite", function (s) { s.delete(key); }); }

  // ---- code signatures (the same rule as crates/input/src/code_url.rs) ----------------------
  function b64(text, urlSafe) {
    var t = text.replace(/\s/g, "");
    if (urlSafe) { t = t.replace(/-/g, "+").replace(/_/g, "/"); }
    while (t.length % 4) { t += "="; }
    var bin = atob(t), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function parseCodeUrl(text) {
    var t = (text || "").trim(), i = t.indexOf("://");
    if (i >= 0) { var rest = t.slice(i + 3); var slash = rest.indexOf("/"); if (slash < 0) { return null; } t = rest.slice(slash); }
    var q = t.indexOf("?");
    if (q < 0) { return null; }
    var path = t.slice(0, q), query = t.slice(q + 1).split("#")[0];
    var m = /^\/c\/([0-9a-hjkmnp-tv-z]{13})$/.exec(path);
    if (!m) { return null; }
    var kid = null, sig = null;
    query.split("&").forEach(function (pair) {
      var eq = pair.indexOf("=");
      if (eq < 0) { return; }
      var k = pair.slice(0, eq), v = pair.slice(eq + 1);
      if (k === "k" && kid === null) { kid = decodeURIComponent(v); }
      if (k === "s" && sig === null) { sig = v; }
    });
    if (!kid || !sig) { return null; }
    return { code: m[1], kid: kid, signature: sig };
  }
  // Resolves to {ok, code, kid} (ok: the signature is the tenant's), or null for no code URL.
  function verifyCode(url, keyDocument) {
    var parsed = parseCodeUrl(url);
    if (!parsed) { return Promise.resolve(null); }
    var key = (keyDocument.keys || []).filter(function (k) { return k.kid === parsed.kid; })[0];
    if (!key) { return Promise.resolve({ ok: false, code: parsed.code, kid: parsed.kid }); }
    var message = new TextEncoder().encode(
      keyDocument.message_format.replace("{kid}", parsed.kid).replace("{code}", parsed.code));
    var signature;
    try { signature = b64(parsed.signature, true); } catch (e) { return Promise.resolve({ ok: false, code: parsed.code, kid: parsed.kid }); }
    return crypto.subtle.importKey("raw", b64(key.public_key, false), { name: "Ed25519" }, false, ["verify"])
      .then(function (k) { return crypto.subtle.verify({ name: "Ed25519" }, k, signature, message); })
      .then(function (ok) { return { ok: ok, code: parsed.code, kid: parsed.kid }; })
      .catch(function () { return { ok: false, code: parsed.code, kid: parsed.kid }; });
  }
  window.NightmarketPatrol = { verifyCode: verifyCode, parseCodeUrl: parseCodeUrl };

  // ---- photos: made smaller on the phone ----------------------------------------------------
  function shrink(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onerror = function () { reject(reader.error); };
      reader.onload = function () {
        var img = new Image();
        img.onerror = function () { reject(new Error("not an image")); };
        img.onload = function () {
          var scale = Math.min(1, 1280 / Math.max(img.width, img.height));
          var canvas = document.createElement("canvas");
          canvas.width = Math.max(1, Math.round(img.width * scale));
          canvas.height = Math.max(1, Math.round(img.height * scale));
          canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
          resolve(canvas.toDataURL("image/jpeg", 0.8).split(",")[1]);
        };
        img.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }

  // ---- the page -----------------------------------------------------------------------------
  function setup() {
    var root = document.getElementById("patrol");
    if (!root || !window.indexedDB || !window.crypto || !crypto.subtle) { return; }
    var hint = document.getElementById("patrol-needs-script");
    if (hint) { hint.hidden = true; }
    var t = function (name) { return root.dataset["t" + name.charAt(0).toUpperCase() + name.slice(1)] || name; };
    var $ = function (id) { return document.getElementById(id); };
    var tenant = root.dataset.tenant;
    var current = null; // the chosen market's pack
    var checked = null; // the stall being inspected: {stall, pack}

    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/official/patrol/sw.js", { scope: "/official/patrol" })
        .then(function () { document.documentElement.dataset.patrolWorker = "registered"; })
        .catch(function () { document.documentElement.dataset.patrolWorker = "failed"; });
    }

    function colourWord(c) { return t(c); }
    function status() {
      var s = $("patrol-status");
      var online = navigator.onLine;
      s.dataset.state = online ? "online" : "offline";
      s.textContent = online ? t("online") : t("offline");
      var info = $("patrol-pack");
      if (!current) { info.textContent = t("noDownload"); info.dataset.stale = "none"; return; }
      var at = new Date(current.downloaded_at);
      var hours = (Date.now() - at.getTime()) / 3600000;
      var stale = hours > current.stale_after_hours;
      info.dataset.stale = stale ? "stale" : "fresh";
      info.textContent = current.market_name + " · " + current.stalls.length + " · " + t("age") + " " +
        at.toLocaleString() + (stale ? " · " + t("stale") : "");
    }
    function showPack(pack) {
      current = pack;
      var pick = $("patrol-stall");
      while (pick.options.length > 1) { pick.remove(1); }
      pack.stalls.forEach(function (s) {
        var o = document.createElement("option");
        o.value = s.code_id;
        o.textContent = s.slot + " " + s.stall_name + " · " + colourWord(s.colour);
        pick.appendChild(o);
      });
      var box = $("patrol-problems");
      Array.prototype.slice.call(box.querySelectorAll("label")).forEach(function (l) { l.remove(); });
      pack.problems.forEach(function (p) {
        var label = document.createElement("label");
        label.className = "check";
        var input = document.createElement("input");
        input.type = "checkbox"; input.value = p.code; input.name = "problem";
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + p.label + "（-" + p.points + "）"));
        box.appendChild(label);
      });
      status();
    }
    function download(marketId) {
      return fetch("/api/v1/t/" + encodeURIComponent(tenant) + "/patrol/markets/" + encodeURIComponent(marketId), { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (pack) { return put(PACKS, pack).then(function () { showPack(pack); return pack; }); });
    }

    function verdict(result, stall) {
      var box = $("patrol-verdict");
      box.textContent = "";
      var p = document.createElement("p");
      p.className = "verdict " + (result.ok ? "genuine" : "forged");
      p.dataset.verdict = result.ok ? (stall ? "genuine" : "unknown") : "forged";
      p.textContent = result.ok ? (stall ? t("genuine") : t("unknown")) : t("forged");
      box.appendChild(p);
      if (result.ok && stall) {
        var d = document.createElement("p");
        d.className = "colour-" + stall.colour;
        d.dataset.colour = stall.colour;
        d.textContent = stall.slot + " " + stall.stall_name + " · " + stall.vendor_masked + " · " + colourWord(stall.colour) +
          " · " + t("age") + " " + new Date(current.downloaded_at).toLocaleString();
        box.appendChild(d);
        stall.causes.forEach(function (c) { var li = document.createElement("p"); li.className = "meta"; li.textContent = c; box.appendChild(li); });
        checked = { stall: stall, pack: current };
        $("patrol-record").hidden = false;
      } else {
        checked = null;
        $("patrol-record").hidden = true;
      }
    }
    function check(url) {
      if (!current) { $("patrol-verdict").textContent = t("noDownload"); return Promise.resolve(); }
      return verifyCode(url, current.keys).then(function (r) {
        if (!r) { $("patrol-verdict").textContent = t("notUrl"); $("patrol-record").hidden = true; return; }
        var stall = current.stalls.filter(function (s) { return s.code === r.code; })[0];
        verdict(r, stall);
      });
    }

    function renderQueue() {
      return all(QUEUE).then(function (items) {
        var list = $("patrol-queue");
        list.textContent = "";
        items.sort(function (a, b) { return a.recorded_at < b.recorded_at ? -1 : 1; });
        items.forEach(function (i) {
          var li = document.createElement("li");
          li.dataset.id = i.id;
          li.textContent = i.label + " · " + new Date(i.recorded_at).toLocaleString() + " · " + t("pending");
          list.appendChild(li);
        });
        list.dataset.count = String(items.length);
      });
    }
    function save() {
      if (!checked) { return Promise.resolve(); }
      var problems = Array.prototype.slice.call(document.querySelectorAll("#patrol-problems input:checked")).map(function (i) { return i.value; });
      var files = Array.prototype.slice.call($("patrol-photos").files || []).slice(0, 3);
      return Promise.all(files.map(shrink)).then(function (photos) {
        var item = {
          id: crypto.randomUUID(),
          code_id: checked.stall.code_id,
          recorded_at: new Date().toISOString(),
          downloaded_at: checked.pack.downloaded_at,
          colour_seen: checked.stall.colour,
          problems: problems,
          notes: $("patrol-notes").value,
          photos: photos,
          label: checked.stall.slot + " " + checked.stall.stall_name + " · " + (problems.length ? problems.join(", ") : t("passed"))
        };
        return put(QUEUE, item);
      }).then(function () {
        $("patrol-notes").value = "";
        $("patrol-photos").value = "";
        Array.prototype.slice.call(document.querySelectorAll("#patrol-problems input")).forEach(function (i) { i.checked = false; });
        var note = document.createElement("p");
        note.className = "notice"; note.id = "patrol-saved"; note.textContent = t("saved");
        var old = $("patrol-saved"); if (old) { old.remove(); }
        $("patrol-record").appendChild(note);
        return renderQueue();
      });
    }

    var syncing = false;
    function sync() {
      if (syncing || !navigator.onLine) { return Promise.resolve(); }
      syncing = true;
      return all(QUEUE).then(function (items) {
        if (!items.length) { return null; }
        var body = { inspections: items.map(function (i) {
          return { id: i.id, code_id: i.code_id, recorded_at: i.recorded_at, downloaded_at: i.downloaded_at,
                   colour_seen: i.colour_seen, problems: i.problems, notes: i.notes, photos: i.photos };
        }) };
        return fetch("/api/v1/t/" + encodeURIComponent(tenant) + "/patrol/inspections", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
        }).then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
          .then(function (answer) {
            var results = $("patrol-results");
            var byId = {}; items.forEach(function (i) { byId[i.id] = i; });
            return Promise.all(answer.results.map(function (res) {
              var li = document.createElement("li");
              li.dataset.id = res.id;
              li.dataset.outcome = res.outcome;
              var word = res.outcome === "applied" ? t("applied") : res.outcome === "already_applied" ? t("already") : t("refused");
              var text = (byId[res.id] ? byId[res.id].label + " · " : "") + word;
              if (res.colour) { text += " · " + colourWord(res.colour); li.dataset.colour = res.colour; }
              if (res.message) { text += " · " + res.message; }
              li.textContent = text;
              (res.conflicts || []).forEach(function (c) {
                var p = document.createElement("p"); p.className = "conflict warn"; p.textContent = c; li.appendChild(p);
              });
              results.insertBefore(li, results.firstChild);
              // Answered either way: applied, applied before, or refused with nothing written.
              return remove(QUEUE, res.id);
            }));
          });
      }).then(function () {
        // Online again: the keys and stalls as they are now (colours changed by what was sent).
        return current ? download(current.market_id).catch(function () { status(); }) : null;
      }).catch(function () { status(); })
        .then(function () { syncing = false; return renderQueue(); });
    }

    $("patrol-download").addEventListener("click", function () {
      download($("patrol-market").value).catch(function (e) { $("patrol-pack").textContent = t("failed") + " (" + e.message + ")"; });
    });
    $("patrol-verify").addEventListener("click", function () { check($("patrol-url").value); });
    $("patrol-stall").addEventListener("change", function () {
      var id = this.value;
      var stall = current && current.stalls.filter(function (s) { return s.code_id === id; })[0];
      if (stall) { verdict({ ok: true }, stall); }
    });
    $("patrol-save").addEventListener("click", function () { save(); });
    $("patrol-sync").addEventListener("click", function () { sync(); });
    window.addEventListener("online", function () { status(); sync(); });
    window.addEventListener("offline", status);

    // The camera, where the browser can read QR codes itself.
    if ("BarcodeDetector" in window && navigator.mediaDevices) {
      var camera = $("patrol-camera");
      camera.hidden = false;
      camera.addEventListener("click", function () {
        var video = $("patrol-video");
        var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
          video.srcObject = stream; video.hidden = false; video.play();
          var stop = function () { stream.getTracks().forEach(function (tr) { tr.stop(); }); video.hidden = true; };
          var look = function () {
            detector.detect(video).then(function (codes) {
              if (codes.length) { stop(); $("patrol-url").value = codes[0].rawValue; check(codes[0].rawValue); }
              else { requestAnimationFrame(look); }
            }).catch(function () { requestAnimationFrame(look); });
          };
          look();
        }).catch(function () { camera.hidden = true; });
      });
    }

    // The last market used, from the phone; refreshed at once when online.
    all(PACKS).then(function (packs) {
      packs.sort(function (a, b) { return a.downloaded_at < b.downloaded_at ? 1 : -1; });
      if (packs[0]) {
        showPack(packs[0]);
        $("patrol-market").value = packs[0].market_id;
        if (navigator.onLine) { download(packs[0].market_id).catch(status); }
      }
      status();
      document.documentElement.dataset.patrol = "ready";
      return renderQueue();
    }).then(function () { if (navigator.onLine) { sync(); } });
  }
  document.addEventListener("DOMContentLoaded", setup);
})();
