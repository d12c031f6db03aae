// Dialogs: a fragment swapped into #dialog-root opens as a modal <dialog>; the event named in data-close-on,
// sent by the server in HX-Trigger after a save, closes it. While open, Tab and Shift+Tab cycle inside the
// dialog, Escape closes it (the native cancel), and on close focus returns to the button that opened it (unless
// the user has moved it meanwhile). A save then re-renders that button's section: htmx moves focus to the new
// button with the same id.
(function () {
  "use strict";

  var FOCUSABLE = [
    "a[href]", "button:not([disabled])", "input:not([type=hidden]):not([disabled])",
    "select:not([disabled])", "textarea:not([disabled])", "[tabindex]:not([tabindex='-1'])"
  ].join(", ");
  var opener = null;     // the element whose request filled #dialog-root
  var openerGet = null;  // its hx-get, to find it again if its section was swapped meanwhile

  // What Tab stops on, in order: visible, enabled, and of a radio group only its checked radio (or its first).
  function focusables(dialog) {
    return Array.prototype.filter.call(dialog.querySelectorAll(FOCUSABLE), function (element) {
      if (element.getClientRects().length === 0) { return false; }
      if (element.type !== "radio" || element.checked) { return true; }
      var group = dialog.querySelectorAll("input[type=radio][name='" + CSS.escape(element.name) + "']");
      var checked = Array.prototype.some.call(group, function (radio) { return radio.checked; });
      return !checked && group[0] === element;
    });
  }

  function trapTab(event) {
    if (event.key !== "Tab") { return; }
    var dialog = event.currentTarget;
    var items = focusables(dialog);
    if (items.length === 0) { event.preventDefault(); return; }
    var first = items[0], last = items[items.length - 1];
    var inside = dialog.contains(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault();
      first.focus();
    }
  }

  function returnFocus() {
    var target = opener && opener.isConnected ? opener : null;
    if (!target && openerGet) {
      target = Array.prototype.find.call(document.querySelectorAll("[hx-get]"), function (element) {
        return element.getAttribute("hx-get") === openerGet;
      });
    }
    if (target) { target.focus(); }
  }

  function openDialogs(root) {
    root.querySelectorAll("dialog:not([open])").forEach(function (dialog) {
      dialog.addEventListener("keydown", trapTab);
      dialog.addEventListener("close", function () {
        // The close event comes a task after the dialog closed (and the browser put focus back where it was):
        // if focus has gone to a live element outside the dialog by now, the user moved it; leave it there.
        var active = document.activeElement;
        var moved = active && active !== document.body && active.isConnected && !dialog.contains(active);
        dialog.remove();
        if (!moved) { returnFocus(); }
      });
      dialog.showModal();
      var first = focusables(dialog)[0];
      if (first) { first.focus(); }
      var closeOn = dialog.dataset.closeOn;
      if (closeOn) {
        var handler = function () {
          document.body.removeEventListener(closeOn, handler);
          if (dialog.open) { dialog.close(); }
        };
        document.body.addEventListener(closeOn, handler);
      }
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "dialog-root") {
      opener = event.detail.elt;
      openerGet = opener.getAttribute("hx-get");
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dialog-root") {
      openDialogs(event.detail.target);
    } else {
      var dialog = event.detail.target.closest && event.detail.target.closest("dialog");
      var invalid = dialog && dialog.querySelector("[aria-invalid=true]");
      if (invalid) { invalid.focus(); }
    }
  });

  // The language switch returns to the page as it is now (htmx may have pushed a new URL since it rendered).
  document.addEventListener("submit", function (event) {
    var next = event.target.matches("form.language") && event.target.querySelector("input[name=next]");
    if (next) { next.value = window.location.pathname + window.location.search; }
  });

  // A form asking first (data-confirm): the Content-Security-Policy allows no inline handler.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // A Copy button (data-copy names the field whose value it copies).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    field.select();
    if (navigator.clipboard) { navigator.clipboard.writeText(field.value); }
  });

  document.addEventListener("click", function (event) {
    var cancel = event.target.closest("[data-dialog-cancel]");
    if (cancel) {
      var dialog = cancel.closest("dialog");
      if (dialog) { dialog.close(); }
    }
  });
})();

// After a dialog's form comes back with errors, move focus to the first field in error. (The form replaces
// itself, so the swap's target above is already detached; look in the open dialog once the swap settled.)
(function () {
  "use strict";

  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail.requestConfig;
    if (!config || config.verb !== "post" || !config.elt || !config.elt.closest) { return; }
    var dialog = document.querySelector("dialog[open]");
    var invalid = dialog && dialog.querySelector("[aria-invalid=true]");
    if (!invalid) { return; }
    if (invalid.tagName === "FIELDSET") { invalid = invalid.querySelector("input, select, textarea"); }
    if (invalid && !invalid.contains(document.activeElement)) { invalid.focus(); }
  });
})();
