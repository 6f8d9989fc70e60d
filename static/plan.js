// The admin's plan editor: draws the plan form (#plan-form) as a grid where slots are dragged,
// resized from their bottom-right corner and placed, and landmarks dragged. Every change is
// written into the form's fields, which stay the one thing that is saved; without this script
// the same form works as a table.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var GRIP = 14; // pixels from a slot's bottom-right corner that resize instead of move

  function setup() {
    var svg = document.getElementById("plan-editor");
    var form = document.getElementById("plan-form");
    if (!svg || !form || !svg.addEventListener) { return; }
    var hint = document.getElementById("plan-script-hint");
    if (hint) { hint.hidden = false; }
    var cell = Number(svg.dataset.cell) || 56;
    var columnsInput = form.querySelector("[name=columns]");
    var rowsInput = form.querySelector("[name=rows]");

    function num(input) {
      var v = input.value.trim();
      return v === "" || isNaN(Number(v)) ? null : Math.floor(Number(v));
    }
    function slotRows() { return Array.prototype.slice.call(form.querySelectorAll("tr[data-code]")); }
    function landmarkRows() { return Array.prototype.slice.call(form.querySelectorAll("tr[data-landmark]")); }
    function part(row, name) { return row.querySelector("[data-part=" + name + "]"); }
    function grid() {
      return { columns: Math.max(1, num(columnsInput) || 1), rows: Math.max(1, num(rowsInput) || 1) };
    }
    function placeOf(row) {
      var p = { x: num(part(row, "x")), y: num(part(row, "y")), w: num(part(row, "w")), h: num(part(row, "h")) };
      return p.x === null || p.y === null || p.w === null || p.h === null ? null : p;
    }
    function setPlace(row, p) {
      ["x", "y", "w", "h"].forEach(function (k) {
        var input = part(row, k);
        input.value = p ? String(p[k]) : "";
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
    function overlaps(a, b) {
      return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    }
    function el(name, attrs, text) {
      var e = document.createElementNS(NS, name);
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text !== undefined) { e.textContent = text; }
      return e;
    }

    function draw() {
      var g = grid();
      var width = g.columns * cell, height = g.rows * cell;
      while (svg.firstChild) { svg.removeChild(svg.firstChild); }
      svg.setAttribute("width", width);
      svg.setAttribute("height", height);
      svg.setAttribute("viewBox", "0 0 " + width + " " + height);
      svg.appendChild(el("rect", { "class": "ground", x: 0, y: 0, width: width, height: height }));
      if (svg.dataset.background) {
        svg.appendChild(el("image", { "class": "background", href: svg.dataset.background, x: 0, y: 0, width: width, height: height, preserveAspectRatio: "none", "aria-hidden": "true" }));
      }
      var lines = el("g", { "class": "grid", "aria-hidden": "true" });
      for (var c = 1; c < g.columns; c++) { lines.appendChild(el("line", { x1: c * cell, y1: 0, x2: c * cell, y2: height })); }
      for (var r = 1; r < g.rows; r++) { lines.appendChild(el("line", { x1: 0, y1: r * cell, x2: width, y2: r * cell })); }
      svg.appendChild(lines);
      var placed = [];
      slotRows().forEach(function (row) {
        var p = placeOf(row);
        if (!p) { return; }
        var clash = placed.some(function (q) { return overlaps(p, q); })
          || p.x < 0 || p.y < 0 || p.w < 1 || p.h < 1 || p.x + p.w > g.columns || p.y + p.h > g.rows;
        placed.push(p);
        var group = el("g", { "class": "slot cat-" + row.dataset.category + (clash ? " colour-red" : ""), "data-slot": row.dataset.code });
        group.appendChild(el("rect", { "class": "box", x: p.x * cell + 2, y: p.y * cell + 2, width: Math.max(1, p.w * cell - 4), height: Math.max(1, p.h * cell - 4), rx: 4 }));
        group.appendChild(el("text", { "class": "code", x: p.x * cell + 7, y: p.y * cell + 17 }, row.dataset.code));
        group.appendChild(el("rect", { "class": "grip", x: (p.x + p.w) * cell - GRIP, y: (p.y + p.h) * cell - GRIP, width: GRIP - 3, height: GRIP - 3, fill: "#555" }));
        group.addEventListener("pointerdown", function (e) { start(e, row, "slot", group); });
        svg.appendChild(group);
      });
      landmarkRows().forEach(function (row) {
        var kind = part(row, "kind").value;
        var x = num(part(row, "x")), y = num(part(row, "y"));
        if (!kind || x === null || y === null) { return; }
        var select = part(row, "kind");
        var label = part(row, "label").value || select.options[select.selectedIndex].text;
        var cx = x * cell + cell / 2, cy = y * cell + cell / 2;
        var group = el("g", { "class": "landmark landmark-" + kind, "data-landmark": row.dataset.landmark });
        group.appendChild(el("circle", { cx: cx, cy: cy, r: 15 }));
        group.appendChild(el("text", { "class": "caption", x: cx, y: cy + 27 }, label));
        group.addEventListener("pointerdown", function (e) { start(e, row, "landmark", group); });
        svg.appendChild(group);
      });
      addPlaceButtons();
    }

    // Dragging: a slot moves (or, from its corner, resizes) by whole cells; a landmark moves.
    function start(event, row, what, group) {
      event.preventDefault();
      var box = svg.getBoundingClientRect();
      var origin = { x: event.clientX, y: event.clientY };
      var p = what === "slot" ? placeOf(row) : { x: num(part(row, "x")), y: num(part(row, "y")) };
      if (!p) { return; }
      var px = event.clientX - box.left, py = event.clientY - box.top;
      var resize = what === "slot" && px > (p.x + p.w) * cell - GRIP && py > (p.y + p.h) * cell - GRIP;
      group.classList.add("dragging");
      if (group.setPointerCapture) { try { group.setPointerCapture(event.pointerId); } catch (e) { /* not capturable */ } }
      var g = grid();
      function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
      function move(e) {
        var dx = Math.round((e.clientX - origin.x) / cell), dy = Math.round((e.clientY - origin.y) / cell);
        if (what === "landmark") {
          part(row, "x").value = String(clamp(p.x + dx, 0, g.columns - 1));
          part(row, "y").value = String(clamp(p.y + dy, 0, g.rows - 1));
        } else if (resize) {
          part(row, "w").value = String(clamp(p.w + dx, 1, Math.min(20, g.columns - p.x)));
          part(row, "h").value = String(clamp(p.h + dy, 1, Math.min(20, g.rows - p.y)));
          return draw();
        } else {
          part(row, "x").value = String(clamp(p.x + dx, 0, g.columns - p.w));
          part(row, "y").value = String(clamp(p.y + dy, 0, g.rows - p.h));
        }
        // The group follows the pointer cell by cell; the drawing is redone on release.
        var nx = num(part(row, "x")) - p.x, ny = num(part(row, "y")) - p.y;
        group.setAttribute("transform", "translate(" + nx * cell + " " + ny * cell + ")");
      }
      function end() {
        svg.removeEventListener("pointermove", move);
        svg.removeEventListener("pointerup", end);
        svg.removeEventListener("pointercancel", end);
        draw();
      }
      svg.addEventListener("pointermove", move);
      svg.addEventListener("pointerup", end);
      svg.addEventListener("pointercancel", end);
    }

    // "Place": an unplaced slot goes into the first free cells, two wide if there is room.
    function firstFree(w, h) {
      var g = grid();
      var taken = slotRows().map(placeOf).filter(Boolean);
      landmarkRows().forEach(function (row) {
        var x = num(part(row, "x")), y = num(part(row, "y"));
        if (part(row, "kind").value && x !== null && y !== null) { taken.push({ x: x, y: y, w: 1, h: 1 }); }
      });
      for (var y = 0; y + h <= g.rows; y++) {
        for (var x = 0; x + w <= g.columns; x++) {
          var p = { x: x, y: y, w: w, h: h };
          if (!taken.some(function (q) { return overlaps(p, q); })) { return p; }
        }
      }
      return null;
    }
    function addPlaceButtons() {
      slotRows().forEach(function (row) {
        var existing = row.querySelector("button.place");
        if (placeOf(row)) { if (existing) { existing.remove(); } return; }
        if (existing) { return; }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "place linklike small";
        button.textContent = form.dataset.placeText || "+";
        button.addEventListener("click", function () {
          var p = firstFree(2, 1) || firstFree(1, 1);
          if (p) { setPlace(row, p); draw(); }
        });
        row.querySelector("th").appendChild(document.createTextNode(" "));
        row.querySelector("th").appendChild(button);
      });
    }

    form.addEventListener("input", draw);
    form.addEventListener("change", function (e) { if (e.isTrusted) { draw(); } });
    draw();
  }
  document.addEventListener("DOMContentLoaded", setup);
})();
