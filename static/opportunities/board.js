/* The pipeline board: cards move between stages by drag and drop (SortableJS) or by the card's
   Move control. Either way the server moves the opportunity and answers with the board, redrawn;
   the won and lost stages answer with a dialog that asks first. A card drags from anywhere on it,
   its title too (a click without a drag still opens it). After a move the focus goes back to the
   moved card's Move control, and #board-status tells screen readers where the card went. */
(function () {
  "use strict";
  var dialog = document.getElementById("board-dialog");

  function ownerFilter() {
    var select = document.querySelector("#board-filter [name=owner]");
    return select ? select.value : "";
  }

  function closedFilter() {
    var select = document.querySelector("#board-filter [name=closed]");
    return select ? select.value : "";
  }

  function move(card, toList, fromList) {
    htmx.ajax("POST", card.dataset.moveUrl, {
      target: "#board",
      swap: "innerHTML",
      values: {
        stage: toList.dataset.stageId,
        from_stage: fromList.dataset.stageId,
        board: "1",
        owner: ownerFilter(),
        closed: closedFilter(),
      },
    });
  }

  function refreshBoard() {
    htmx.ajax("GET", document.getElementById("board-filter").action + "?" + filterValues(), {
      target: "#board",
      swap: "innerHTML",
    });
  }

  function enableDragging(root) {
    root.querySelectorAll("[data-stage-list]").forEach(function (list) {
      if (list.sortable) return;
      list.sortable = Sortable.create(list, {
        group: "pipeline",
        sort: false,
        draggable: ".board-card",
        filter: "select, button, input",
        preventOnFilter: false,
        forceFallback: true,
        fallbackTolerance: 4,
        delay: 150,
        delayOnTouchOnly: true,
        animation: 150,
        ghostClass: "board-card-ghost",
        chosenClass: "board-card-chosen",
        onEnd: function (event) {
          if (event.to !== event.from) move(event.item, event.to, event.from);
        },
      });
    });
  }

  function filterValues() {
    var form = document.getElementById("board-filter");
    return new URLSearchParams(new FormData(form)).toString();
  }

  // The board redrawn after a move names the moved card (data-moved-card): keep the focus on it.
  function focusMovedCard() {
    var board = document.querySelector("[data-moved-card]");
    if (!board || dialog.classList.contains("show")) return;
    var card = document.querySelector('[data-testid="' + board.dataset.movedCard + '"]');
    var control = card && card.querySelector(".board-move");
    if (control) control.focus();
  }

  htmx.onLoad(function (element) {
    if (element.querySelectorAll) enableDragging(element);
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "board") focusMovedCard();
  });
  document.body.addEventListener("board:dialog", function () {
    bootstrap.Modal.getOrCreateInstance(dialog).show();
  });
  document.body.addEventListener("board:close-dialog", function () {
    if (!dialog.classList.contains("show")) return;
    dialog.dataset.closedByServer = "1";
    bootstrap.Modal.getOrCreateInstance(dialog).hide();
  });
  // Keyboard users land on the dialog's first field.
  dialog.addEventListener("shown.bs.modal", function () {
    var field = dialog.querySelector("select, textarea, input:not([type=hidden])");
    if (field) field.focus();
  });
  // A dialog dismissed without winning or losing leaves the card where it was: redraw the board.
  dialog.addEventListener("hidden.bs.modal", function () {
    if (dialog.dataset.closedByServer) {
      delete dialog.dataset.closedByServer;
      focusMovedCard();
    } else {
      refreshBoard();
    }
    document.getElementById("board-dialog-content").innerHTML = "";
  });
})();
