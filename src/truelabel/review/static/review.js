// Keyboard-first review: each decision button carries data-key; pressing that key clicks it.
(function () {
  "use strict";
  var form = document.getElementById("decide");
  if (!form) { return; }
  var sent = false;
  form.addEventListener("submit", function (ev) {
    if (sent) { ev.preventDefault(); return; }  // one submission per page (idempotency key)
    sent = true;
  });
  // "/" focuses a filter over the class buttons; Enter picks the first one still shown.
  var filter = document.getElementById("class-filter");
  var classButtons = Array.prototype.slice.call(form.querySelectorAll("button.cls"));
  function visibleClasses() {
    return classButtons.filter(function (b) { return b.style.display !== "none"; });
  }
  if (filter) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      classButtons.forEach(function (b) {
        b.style.display = (!q || b.getAttribute("data-name").indexOf(q) !== -1) ? "" : "none";
      });
    });
    filter.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        ev.preventDefault();
        var shown = visibleClasses();
        if (filter.value.trim() && shown.length > 0) { shown[0].click(); }
      }
    });
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    if (ev.key === "n") { ev.preventDefault(); document.getElementById("note").focus(); return; }
    if (ev.key === "/" && filter) { ev.preventDefault(); filter.focus(); return; }
    var btn = form.querySelector('button[data-key="' + ev.key + '"]');
    if (btn) { ev.preventDefault(); btn.click(); }
  });
})();
