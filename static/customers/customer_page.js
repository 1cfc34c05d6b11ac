/* The customer page: the action bar opens the quick-add forms (a call: the communication form with
   the channel set to phone; clicked before the forms have loaded, it opens them once they have),
   and the contact person pickers show once the customer has people. */
(function () {
  "use strict";

  function openQuickAdd(link) {
    var tab = document.getElementById("quick-" + link.dataset.quickTab + "-tab");
    if (!tab) return false;
    bootstrap.Tab.getOrCreateInstance(tab).show();
    var pane = document.getElementById("quick-" + link.dataset.quickTab);
    var channel = pane.querySelector("select[name=channel]");
    if (channel && link.dataset.quickChannel) channel.value = link.dataset.quickChannel;
    pane.scrollIntoView({ block: "start" });
    var first = pane.querySelector("input[name=subject]");
    if (first) first.focus({ preventScroll: true });
    return true;
  }

  var pending = null;  // an action clicked while the quick-add forms were still loading

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-quick-tab]");
    if (!link) return;
    event.preventDefault();
    if (!openQuickAdd(link)) pending = link;
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    if (pending && openQuickAdd(pending)) pending = null;
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var select = event.detail.target;
    if (!select.matches || !select.matches("[data-person-picker]")) return;
    var field = select.closest("[data-person-field]");
    if (field) field.classList.toggle("d-none", select.options.length < 2);
  });
})();
