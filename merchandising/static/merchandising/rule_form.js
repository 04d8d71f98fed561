// The rule editor shows the sections the chosen kind reads (fieldsets carry "for-<kind>"
// classes, merchandising/admin.py); with no kind chosen yet, every section shows.
"use strict";
(function () {
  function sync(select) {
    const kind = select.value;
    document.querySelectorAll("fieldset[class*='for-']").forEach(function (fieldset) {
      const shown = kind === "" || fieldset.classList.contains("for-" + kind);
      fieldset.style.display = shown ? "" : "none";
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    const select = document.getElementById("id_kind");
    if (!select) return;
    select.addEventListener("change", function () { sync(select); });
    sync(select);
  });
})();
