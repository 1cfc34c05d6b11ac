/* The customer form: person-only fields follow the kind; likely duplicates show while typing. */
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector(".customer-form");
  var kind = form.querySelector('[name="kind"]');
  function togglePersonFields() {
    form.querySelectorAll(".person-only").forEach(function (el) { el.hidden = kind.value !== "person"; });
  }
  kind.addEventListener("change", togglePersonFields);
  togglePersonFields();
  var url = form.dataset.duplicatesUrl;
  form.querySelectorAll('[name="name"], .method-row input').forEach(function (input) {
    input.setAttribute("hx-get", url);
    input.setAttribute("hx-include", "closest form");
    input.setAttribute("hx-target", "#duplicates");
    input.setAttribute("hx-trigger", "change, keyup changed delay:700ms");
    htmx.process(input);
  });
});
