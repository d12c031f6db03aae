// The Domain Names list: the checkboxes of the rows and their batch buttons, and the CNAME's Copy button.
(function () {
  "use strict";

  function table() { return document.getElementById("domain-table"); }

  // The batch buttons act on the checked rows: disabled while none is; the header box checks every row.
  function refresh() {
    var root = table();
    if (!root) { return; }
    var boxes = root.querySelectorAll("input[name=name]");
    var checked = root.querySelectorAll("input[name=name]:checked").length;
    root.querySelectorAll("[data-batch]").forEach(function (button) { button.disabled = checked === 0; });
    var count = root.querySelector("[data-selected-count]");
    if (count) { count.textContent = String(checked); }
    var all = root.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var root = table();
    if (!root || !root.contains(event.target)) { return; }
    if (event.target.matches("[data-select-all]")) {
      root.querySelectorAll("input[name=name]").forEach(function (box) { box.checked = event.target.checked; });
    }
    refresh();
  });
  document.addEventListener("htmx:afterSettle", refresh);
  document.addEventListener("DOMContentLoaded", refresh);

  // Copy: the text of data-copy-text to the clipboard; the button says "Copied" for a moment. Without the
  // Clipboard API (a page served over plain HTTP from another host), a selected hidden field is copied.
  function copied(button) {
    var label = button.textContent;
    button.textContent = button.closest("#domain-table").getAttribute("data-copied") || label;
    window.setTimeout(function () { button.textContent = label; }, 1500);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-text]");
    if (!button) { return; }
    var text = button.getAttribute("data-copy-text");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); });
      return;
    }
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "sr-only";
    document.body.appendChild(field);
    field.select();
    if (document.execCommand("copy")) { copied(button); }
    field.remove();
    button.focus();
  });
})();
