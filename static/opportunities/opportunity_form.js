/* The opportunity form: product lines added and totalled in place; the customer found as you type. */
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector(".opportunity-form");
  var rows = form.querySelector("[data-line-rows]");
  var totalForms = form.querySelector('[name="lines-TOTAL_FORMS"]');
  var amount = form.querySelector('[name="amount"]');
  var totalText = form.querySelector("[data-lines-total]");
  var money = new Intl.NumberFormat(document.documentElement.lang, {minimumFractionDigits: 2, maximumFractionDigits: 2});

  function linesTotal() {
    var total = 0, any = false;
    rows.querySelectorAll("[data-line-row]").forEach(function (row) {
      var product = row.querySelector('select[name$="-product"]');
      if (!product.value) return;
      any = true;
      var option = product.selectedOptions[0];
      var price = row.querySelector('[name$="-unit_price"]').value || option.dataset.price || "0";
      total += (parseInt(row.querySelector('[name$="-quantity"]').value, 10) || 0) * parseFloat(price);
    });
    totalText.textContent = any ? money.format(total) : "—";
    amount.readOnly = any;
    if (any) amount.value = total.toFixed(2);
  }
  form.querySelector("[data-add-line]").addEventListener("click", function () {
    var index = parseInt(totalForms.value, 10);
    var html = form.querySelector("[data-line-template]").innerHTML.replace(/__prefix__/g, index);
    rows.insertAdjacentHTML("beforeend", html);
    totalForms.value = index + 1;
    rows.lastElementChild.querySelector("select").focus();
  });
  rows.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-line]");
    if (!button) return;
    var row = button.closest("[data-line-row]");
    row.querySelectorAll("select, input").forEach(function (input) { input.value = ""; });
    row.hidden = true;
    linesTotal();
  });
  rows.addEventListener("input", linesTotal);
  rows.addEventListener("change", linesTotal);
  linesTotal();

  var search = form.querySelector('[name="customer_search"]');
  if (search) {
    var hidden = form.querySelector('[name="customer"]');
    var choices = form.querySelector("#customer-choices");
    search.setAttribute("hx-get", form.dataset.customerChoicesUrl);
    search.setAttribute("hx-trigger", "input changed delay:300ms, focus");
    search.setAttribute("hx-target", "#customer-choices");
    htmx.process(search);
    search.addEventListener("input", function () { hidden.value = ""; });
    choices.addEventListener("click", function (event) {
      var choice = event.target.closest("[data-customer-id]");
      if (!choice) return;
      hidden.value = choice.dataset.customerId;
      search.value = choice.dataset.customerName;
      choices.innerHTML = "";
    });
  }
});
