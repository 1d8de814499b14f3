// Keyboard-first review. A button with data-key (or a letter in data-alias) is clicked when
// that key is pressed; "/" opens the full class list behind a type-ahead filter; "u" undoes.
// No inline script anywhere: the page's CSP is script-src 'self'.
(function () {
  "use strict";
  var sent = false;
  var NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
  var valueInput = document.getElementById("value-input");
  var valueError = document.getElementById("value-error");
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
    f.addEventListener("submit", function (ev) {
      if (sent) { ev.preventDefault(); return; }  // one submission per page (idempotency key)
      var by = ev.submitter;
      if (valueInput && f.contains(valueInput) && by && by.value === "value" &&
          !NUMBER.test(valueInput.value)) {
        ev.preventDefault();  // the server refuses it too (422); say it here, once
        valueError.textContent = "\u201c" + valueInput.value + "\u201d is not a number; enter a number such as 0.75.";
        valueError.hidden = false;
        valueInput.focus();
        return;
      }
      sent = true;
    });
  });
  if (valueInput) {
    valueInput.addEventListener("input", function () { valueError.hidden = true; });
  }

  // multi-label: "/" finds a tag; Enter in the filter toggles the first match
  var tagFilter = document.getElementById("tag-filter");
  var tagBoxes = Array.prototype.slice.call(document.querySelectorAll("#tag-list label.tagbox"));
  if (tagFilter) {
    tagFilter.addEventListener("input", function () {
      var q = tagFilter.value.trim().toLowerCase();
      tagBoxes.forEach(function (b) {
        b.hidden = !!q && b.getAttribute("data-name").indexOf(q) === -1;
      });
    });
    tagFilter.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        ev.preventDefault();
        var shown = tagBoxes.filter(function (b) { return !b.hidden; });
        if (tagFilter.value.trim() && shown.length > 0) {
          shown[0].querySelector("input").click();
          tagFilter.value = "";
          tagFilter.dispatchEvent(new Event("input"));
        }
      }
    });
  }

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
      document.querySelector('input[type="checkbox"][data-key="' + key + '"]') ||
      document.querySelector('button[data-alias~="' + key + '"]');
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) { return; }
    var tag = (ev.target && ev.target.tagName) || "";
    var box = tag === "INPUT" && ev.target.type === "checkbox";
    if ((tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") && !box) {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    var note = document.getElementById("note");
    if (ev.key === "n" && note) { ev.preventDefault(); note.focus(); return; }
    var save = document.getElementById("btn-save");
    if (ev.key === "Enter" && save && tag !== "BUTTON") { ev.preventDefault(); save.click(); return; }
    if (ev.key === "e" && valueInput) { ev.preventDefault(); valueInput.focus(); valueInput.select(); return; }
    if (ev.key === "/" && (filter || tagFilter)) {
      ev.preventDefault();
      if (details) { details.open = true; }
      (filter || tagFilter).focus();
      return;
    }
    var btn = buttonFor(ev.key);
    if (btn) { ev.preventDefault(); btn.click(); }
  });
})();
