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

  // A form asking first (data-confirm) asks in the console's own dialog (from #confirm-template); OK submits
  // the form. (The Content-Security-Policy allows no inline handler.)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (!question) { return; }
    if (form.dataset.confirmed) { delete form.dataset.confirmed; return; }
    var template = document.getElementById("confirm-template");
    if (!template) { return; }
    event.preventDefault();
    var submitter = event.submitter || null;
    var dialog = template.content.firstElementChild.cloneNode(true);
    dialog.querySelector("[data-confirm-message]").textContent = question;
    document.body.appendChild(dialog);
    opener = submitter; openerGet = null;
    dialog.addEventListener("keydown", trapTab);
    dialog.addEventListener("close", function () {
      var confirmed = dialog.returnValue === "ok";
      dialog.remove();
      if (confirmed) {
        form.dataset.confirmed = "1";
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      } else {
        returnFocus();
      }
    });
    dialog.showModal();
    var ok = dialog.querySelector(".btn-primary");
    if (ok) { ok.focus(); }
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
    var ok = event.target.closest("[data-confirm-ok]");
    if (ok) { ok.closest("dialog").close("ok"); }
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

// The side menu folds behind the Menu button at narrow widths.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("#menu-button");
    if (!button) { return; }
    var nav = document.getElementById(button.getAttribute("aria-controls"));
    var open = !nav.classList.contains("open");
    nav.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Escape folds the open menu away again, with focus back on its button.
  document.addEventListener("keydown", function (event) {
    var button = document.getElementById("menu-button");
    if (event.key !== "Escape" || !button || button.getAttribute("aria-expanded") !== "true") { return; }
    if (document.querySelector("dialog[open]")) { return; }
    document.getElementById(button.getAttribute("aria-controls")).classList.remove("open");
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });
})();

// Saving: a form's submit buttons are busy (disabled, "Saving…") from the request until its answer, and a
// second submit meanwhile is dropped. A save's answer may carry a notice (HX-Trigger "console-notice"),
// shown in #notice-root, which screen readers announce.
(function () {
  "use strict";

  function busyLabel() {
    var template = document.getElementById("busy-template");
    return template ? template.content.textContent.trim() : "";
  }

  function setBusy(form, busy) {
    if (busy) { form.dataset.busy = "1"; } else { delete form.dataset.busy; }
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
      if (busy) {
        button.dataset.wasDisabled = button.disabled ? "1" : "";
        button.dataset.label = button.textContent;
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
        if (button.classList.contains("btn-primary") && busyLabel()) { button.textContent = busyLabel(); }
      } else if (button.hasAttribute("aria-busy")) {
        button.disabled = button.dataset.wasDisabled === "1";
        button.removeAttribute("aria-busy");
        if (button.dataset.label !== undefined) { button.textContent = button.dataset.label; }
        delete button.dataset.label;
        delete button.dataset.wasDisabled;
      }
    });
  }

  function savingForm(detail) {
    var elt = detail.elt;
    if (!elt || !elt.closest) { return null; }
    var verb = detail.requestConfig ? detail.requestConfig.verb : (elt.getAttribute("hx-post") ? "post" : "get");
    if (verb !== "post") { return null; }
    return elt.tagName === "FORM" ? elt : elt.closest("form");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = savingForm(event.detail);
    if (!form) { return; }
    if (form.dataset.busy) { event.preventDefault(); return; }
    setBusy(form, true);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = savingForm(event.detail);
    if (form && form.isConnected) { setBusy(form, false); }
  });

  // Forms posted without htmx (the page navigates): busy until the next page; a second submit is dropped.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.hasAttribute("hx-post") || (form.method || "").toLowerCase() !== "post") {
      return;
    }
    if (form.dataset.busy) { event.preventDefault(); return; }
    window.setTimeout(function () { setBusy(form, true); }, 0);
  });

  // Back to a page kept in the browser's cache: its forms are not busy any more.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-busy]").forEach(function (form) { setBusy(form, false); });
  });

  function notify(message, kind) {
    var root = document.getElementById("notice-root");
    if (!root || !message) { return; }
    var notice = document.createElement("p");
    notice.className = "notice" + (kind === "error" ? " notice-error" : "");
    notice.textContent = message;
    root.appendChild(notice);
    window.setTimeout(function () { notice.remove(); }, 8000);
  }

  // A request of htmx refused (403, 404, 500…): htmx swaps nothing, so say what the error page says.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var page = xhr && new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var title = page && page.getElementById("error-title");
    if (title) { notify(title.textContent.trim() + ": " + title.nextElementSibling.textContent.trim(), "error"); }
  });

  document.body.addEventListener("console-notice", function (event) {
    var detail = event.detail || {};
    notify(detail.message || detail.value, detail.kind);
  });
})();

// The delivery details of a domain's status stay as the reader left them (open or closed, and each node's
// technical detail) while the status polls itself, and across reloads of the page.
(function () {
  "use strict";

  var KEY = "delivery-open:" + window.location.pathname;

  function load() {
    try { return JSON.parse(window.sessionStorage.getItem(KEY) || "{}"); } catch (error) { return {}; }
  }

  function keyOf(details) {
    if (details.classList.contains("delivery")) { return "delivery"; }
    var row = details.closest("[data-node]");
    return row ? "node:" + row.getAttribute("data-node") : null;
  }

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.closest || !details.closest("#domain-status")) { return; }
    var key = keyOf(details);
    if (!key) { return; }
    var state = load();
    state[key] = details.open;
    try { window.sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (error) { /* private mode */ }
  }, true);

  function restore() {
    var status = document.getElementById("domain-status");
    if (!status) { return; }
    var state = load();
    status.querySelectorAll("details").forEach(function (details) {
      var key = keyOf(details);
      if (key && Object.prototype.hasOwnProperty.call(state, key) && details.open !== state[key]) {
        details.open = state[key];
      }
    });
  }

  document.addEventListener("htmx:afterSwap", restore);
  document.addEventListener("DOMContentLoaded", restore);
})();

// A table wider than its box scrolls inside it (narrow screens): it takes focus, so that the keyboard scrolls it.
(function () {
  "use strict";

  function focusableWhenScrolling() {
    document.querySelectorAll(".table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
      } else if (table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", focusableWhenScrolling);
  document.addEventListener("htmx:afterSettle", focusableWhenScrolling);
  window.addEventListener("resize", focusableWhenScrolling);
})();
