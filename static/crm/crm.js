/* Behaviour every page shares, bound by data attributes: the Content-Security-Policy allows no
   inline script and no on…= handler, so templates mark elements and this file acts on them.
   - data-print: a button that prints the page;
   - data-autosubmit: a field whose form is sent as soon as it changes;
   - data-select-all="NAME": a checkbox that checks or unchecks every checkbox named NAME;
   - data-focus="ID": a link that, besides going to its #anchor, puts the cursor in field ID;
   - an htmx request that fails says so above the page (base.html's #request-error). */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
    var link = event.target.closest("a[data-focus]");
    var field = link && document.getElementById(link.dataset.focus);
    if (field) {
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
    }
  });

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches("[data-autosubmit]") && field.form) field.form.requestSubmit();
    if (field.matches("[data-select-all]")) {
      document.querySelectorAll('input[type="checkbox"][name="' + field.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = field.checked;
      });
    }
  });

  // kind: "failed", "unavailable" (503) or "unsent"; the messages are in base.html's template.
  function showRequestError(kind) {
    var alert = document.querySelector("body > .request-error");
    if (!alert) {
      alert = document.getElementById("request-error").content.firstElementChild.cloneNode(true);
      document.body.append(alert);
    }
    alert.querySelector("[data-message]").textContent = alert.dataset[kind];
  }

  document.body.addEventListener("htmx:responseError", function (event) {
    showRequestError(event.detail.xhr.status === 503 ? "unavailable" : "failed");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showRequestError("unsent");
  });

  // data-toggle-columns="TABLE_ID": shows or hides the table's secondary columns (.col-more) on a
  // small screen; aria-pressed says which.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toggle-columns]");
    if (!button) return;
    var table = document.getElementById(button.dataset.toggleColumns);
    var shown = table.classList.toggle("show-all-columns");
    button.setAttribute("aria-pressed", shown ? "true" : "false");
  });
})();
