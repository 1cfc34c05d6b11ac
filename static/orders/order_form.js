/* The order form: the customer found as you type, lines added in place, a product's price as the hint. */
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector(".order-form");
  form.addEventListener("click", function (event) {
    var option = event.target.closest("[data-pick-customer]");
    if (option) {
      form.querySelector('[name="customer"]').value = option.dataset.pickCustomer;
      document.getElementById("customer-search").value = option.dataset.name;
      document.getElementById("customer-chosen").textContent = "#" + option.dataset.pickCustomer;
      document.getElementById("customer-options").innerHTML = "";
    }
    if (event.target.closest("[data-add-line]")) {
      var total = form.querySelector('[name="lines-TOTAL_FORMS"]');
      var row = document.getElementById("empty-line").innerHTML.replace(/__prefix__/g, total.value);
      document.getElementById("line-rows").insertAdjacentHTML("beforeend", row);
      total.value = parseInt(total.value, 10) + 1;
    }
  });
  var search = document.getElementById("customer-search");
  if (search) {
    search.addEventListener("input", function () { form.querySelector('[name="customer"]').value = ""; });
    // The options view reads what is typed as `q`.
    search.addEventListener("htmx:configRequest", function (event) { event.detail.parameters.q = search.value; });
  }
  form.addEventListener("change", function (event) {
    if (!event.target.matches(".line-product select")) { return; }
    var option = event.target.selectedOptions[0];
    var price = event.target.closest("tr").querySelector(".line-price");
    price.placeholder = option && option.dataset.price ? option.dataset.price : "";
  });
});
