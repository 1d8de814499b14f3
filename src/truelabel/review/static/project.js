// Project page: "select all shown" for the bulk decision on search results.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) { return; }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.pick"));
  all.addEventListener("change", function () {
    boxes.forEach(function (b) { b.checked = all.checked; });
  });
})();
