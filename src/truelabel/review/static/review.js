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
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") {
      if (ev.key === "Escape") { ev.target.blur(); }
      return;
    }
    if (ev.key === "n") { ev.preventDefault(); document.getElementById("note").focus(); return; }
    var btn = form.querySelector('button[data-key="' + ev.key + '"]');
    if (btn) { ev.preventDefault(); btn.click(); }
  });
})();
