// Keyboard-first review. A button with data-key (or a letter in data-alias) is clicked when
// that key is pressed; "/" opens the full class list behind a type-ahead filter; "u" undoes.
// No inline script anywhere: the page's CSP is script-src 'self'.
(function () {
  "use strict";
  var sent = false;
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
    f.addEventListener("submit", function (ev) {
      if (sent) { ev.preventDefault(); return; }  // one submission per page (idempotency key)
      sent = true;
    });
  });

  var details = document.getElementById("all-classes");
  var filter = document.getElementById("class-filter");
  var noMatch = document.getElementById("no-match");
  var classButtons = Array.prototype.slice.call(document.querySelectorAll("#class-list button.cls"));
  function visible() {
    return classButtons.filter(function (b) { return !b.hidden; });
  }
  if (filter) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      classButtons.forEach(function (b) {
        b.hidden = !!q && b.getAttribute("data-name").indexOf(q) === -1;
      });
      if (noMatch) { noMatch.hidden = visible().length > 0; }
    });
    filter.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        ev.preventDefault();
        var shown = visible();
        if (filter.value.trim() && shown.length > 0) { shown[0].click(); }
      }
    });
  }

  function buttonFor(key) {
    if (!/^[a-z0-9]$/.test(key)) { return null; }
    return document.querySelector('button[data-key="' + key + '"]') ||
      document.querySelector('button[data-alias~="' + key + '"]');
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    var note = document.getElementById("note");
    if (ev.key === "n" && note) { ev.preventDefault(); note.focus(); return; }
    if (ev.key === "/" && filter) {
      ev.preventDefault();
      if (details) { details.open = true; }
      filter.focus();
      return;
    }
    var btn = buttonFor(ev.key);
    if (btn) { ev.preventDefault(); btn.click(); }
  });
})();
