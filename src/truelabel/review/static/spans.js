// Span editor of token projects: the item's text with the spans of the current decision.
// Select words with the mouse, or move a word cursor with the arrow keys (Shift extends the
// selection); a type key (1-9) labels the selection, "x" removes the spans it touches.
// Selections snap to whole whitespace-separated words; the server checks every offset.
(function () {
  "use strict";
  var box = document.getElementById("span-text");
  if (!box) { return; }
  var input = document.getElementById("spans-input");
  var list = document.getElementById("span-list");
  var text = box.textContent;
  var types = box.getAttribute("data-types").split("\t").filter(Boolean);
  var spans = JSON.parse(box.getAttribute("data-spans") || "[]");
  // words: [start, end) of each whitespace-separated token
  var words = [];
  var re = /\S+/g, m;
  while ((m = re.exec(text)) !== null) { words.push([m.index, m.index + m[0].length]); }
  var anchor = 0, cursor = 0, hasSel = false;

  function selRange() {
    if (!hasSel || words.length === 0) { return null; }
    var a = Math.min(anchor, cursor), b = Math.max(anchor, cursor);
    return [words[a][0], words[b][1]];
  }

  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined) { e.textContent = txt; }
    return e;
  }

  function render() {
    spans.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1]; });
    var sel = selRange();
    box.textContent = "";
    // cut points: span edges and selection edges
    var cuts = [0, text.length];
    spans.forEach(function (s) { cuts.push(s[0], s[1]); });
    if (sel) { cuts.push(sel[0], sel[1]); }
    cuts = cuts.filter(function (v, i, arr) { return arr.indexOf(v) === i; }).sort(function (x, y) { return x - y; });
    for (var i = 0; i + 1 < cuts.length; i++) {
      var a = cuts[i], b = cuts[i + 1];
      var piece = text.slice(a, b);
      var sp = spans.filter(function (s) { return s[0] <= a && b <= s[1]; })[0];
      var node;
      if (sp) {
        node = el("mark", "ent ent-" + (types.indexOf(sp[2]) % 6), piece);
        node.setAttribute("data-type", sp[2]);
        node.title = sp[2];
      } else {
        node = el("span", "", piece);
      }
      if (sel && sel[0] <= a && b <= sel[1]) { node.classList.add("sel"); }
      node.setAttribute("data-start", a);
      box.appendChild(node);
    }
    list.textContent = "";
    spans.forEach(function (s, k) {
      var li = el("li", "", "");
      li.appendChild(el("q", "", text.slice(s[0], s[1])));
      li.appendChild(document.createTextNode(" " + s[2] + " [" + s[0] + ", " + s[1] + ") "));
      var rm = el("button", "rm", "remove");
      rm.type = "button";
      rm.setAttribute("data-i", k);
      li.appendChild(rm);
      list.appendChild(li);
    });
    input.value = JSON.stringify(spans);
  }

  function assign(type) {
    var sel = selRange();
    if (!sel) { return; }
    spans = spans.filter(function (s) { return s[1] <= sel[0] || sel[1] <= s[0]; });
    spans.push([sel[0], sel[1], type]);
    hasSel = false;
    render();
  }

  function removeAtSelection() {
    var sel = selRange() || (words.length ? words[cursor] : null);
    if (!sel) { return; }
    spans = spans.filter(function (s) { return s[1] <= sel[0] || sel[1] <= s[0]; });
    hasSel = false;
    render();
  }

  function wordAt(offset, fromEnd) {
    for (var i = 0; i < words.length; i++) {
      if (fromEnd ? offset <= words[i][1] : offset < words[i][1]) { return i; }
    }
    return words.length - 1;
  }

  function offsetOf(node, off) {
    // character offset in the text of a DOM position inside the box
    var el0 = node.nodeType === 3 ? node.parentNode : node;
    while (el0 && el0 !== box && !el0.hasAttribute("data-start")) { el0 = el0.parentNode; }
    if (!el0 || el0 === box) { return null; }
    return parseInt(el0.getAttribute("data-start"), 10) + (node.nodeType === 3 ? off : 0);
  }

  box.addEventListener("mouseup", function () {
    var s = window.getSelection();
    if (!s || s.rangeCount === 0 || s.isCollapsed) { return; }
    var r = s.getRangeAt(0);
    var a = offsetOf(r.startContainer, r.startOffset);
    var b = offsetOf(r.endContainer, r.endOffset);
    if (a === null || b === null || a === b) { return; }
    anchor = wordAt(Math.min(a, b), false);
    cursor = wordAt(Math.max(a, b), true);
    hasSel = true;
    s.removeAllRanges();
    render();
    box.focus();
  });

  document.getElementById("type-keys").addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (!b) { return; }
    if (b.id === "btn-remove-span") { removeAtSelection(); } else { assign(b.getAttribute("data-type")); }
  });
  list.addEventListener("click", function (ev) {
    var b = ev.target.closest("button.rm");
    if (!b) { return; }
    spans.splice(parseInt(b.getAttribute("data-i"), 10), 1);
    render();
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "TEXTAREA" || tag === "INPUT") { return; }
    if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      if (ev.target !== box || words.length === 0) { return; }
      ev.preventDefault();
      if (!hasSel) { anchor = cursor; hasSel = true; }
      else {
        cursor = Math.max(0, Math.min(words.length - 1, cursor + (ev.key === "ArrowRight" ? 1 : -1)));
        if (!ev.shiftKey) { anchor = cursor; }
      }
      render();
      return;
    }
    if (/^[1-9]$/.test(ev.key) && hasSel) {
      var t = types[parseInt(ev.key, 10) - 1];
      if (t) { ev.preventDefault(); assign(t); }
      return;
    }
    if (ev.key === "x" || ev.key === "Delete") { ev.preventDefault(); removeAtSelection(); return; }
    if (ev.key === "Escape" && hasSel) { ev.preventDefault(); hasSel = false; render(); }
  });

  render();
  box.focus();
})();
