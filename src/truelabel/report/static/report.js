// truelabel reports: sortable, searchable tables. Loaded from report.js next to report.html
// (the page's Content-Security-Policy allows no inline script). No dependencies.
"use strict";
(function () {
  function cellValue(td) {
    var v = td.getAttribute("data-v");
    if (v !== null && v !== "") return { num: true, v: parseFloat(v) };
    return { num: false, v: (td.textContent || "").trim().toLowerCase() };
  }

  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var sign = dir === "ascending" ? 1 : -1;
    var keyed = rows.map(function (r, i) { return { r: r, i: i, k: cellValue(r.cells[col]) }; });
    keyed.sort(function (a, b) {
      var x = a.k, y = b.k;
      if (x.num && y.num) return sign * (x.v - y.v) || a.i - b.i;
      if (x.num !== y.num) return x.num ? -1 : 1; // numbers before blanks and text
      return sign * (x.v < y.v ? -1 : x.v > y.v ? 1 : 0) || a.i - b.i;
    });
    keyed.forEach(function (e) { body.appendChild(e.r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) {
      c.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", dir);
  }

  function filterRows(table, query, counter) {
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var text = (r.textContent || "").toLowerCase();
      var ok = terms.every(function (t) { return text.indexOf(t) >= 0; });
      r.classList.toggle("hidden", !ok);
      if (ok) shown += 1;
    });
    counter.textContent = shown + " of " + table.tBodies[0].rows.length + " rows";
  }

  function enhance(table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.classList.add("sortable");
      th.setAttribute("tabindex", "0");
      th.setAttribute("title", "sort by this column");
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, col, th); }
      });
    });
    if (table.tBodies[0].rows.length < 6) return;
    var tools = document.createElement("div");
    tools.className = "table-tools";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "filter rows (all words must match)";
    input.setAttribute("aria-label", "filter the rows of this table");
    input.setAttribute("data-table", table.id || "");
    var counter = document.createElement("span");
    counter.className = "count";
    counter.textContent = table.tBodies[0].rows.length + " rows";
    input.addEventListener("input", function () { filterRows(table, input.value, counter); });
    tools.appendChild(input);
    tools.appendChild(counter);
    var wrap = table.parentNode;
    wrap.parentNode.insertBefore(tools, wrap);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.data"), enhance);
    document.documentElement.setAttribute("data-report-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
