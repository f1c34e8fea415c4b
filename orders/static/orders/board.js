/*
 * The orders board (orders/templates/orders/board.html): moves without a reload, and live
 * changes from everyone else.
 *
 * Plain script, no build step, configured by #board's data- attributes (the CSP allows no
 * inline script); every text it shows comes from the template, where it is translated.
 *  - Moving (only when data-can-move="1"): drag a card onto another column, or focus a card and
 *    press Alt + ArrowLeft / ArrowRight, or submit the card's own Move form. Each sends the
 *    form's POST with fetch (Accept: application/json, the form's CSRF token); the card moves at
 *    once and goes back, with the reason in the alert region, when the server refuses. Without
 *    this script the same form posts and the server redirects back to the board.
 *  - Live: a websocket to data-live-path (live/consumers.py OrdersLiveConsumer). `order.changed`
 *    moves, updates, adds or removes the card; `orders.changed` (a bulk change: a merge, a
 *    client deleted with its orders) has no order. Either way the columns are then fetched from
 *    data-columns-url (debounced), so counts, amounts and "and N more" are the server's.
 *    The socket is core/static/core/live-socket.js's (loaded first): it reconnects with
 *    capped backoff, the columns are fetched again after a reconnection (what happened while
 *    it was down), and it stops on close codes 4001/4003 like the client list's, with
 *    data-text-stopped in the alert region.
 */
(function () {
  "use strict";

  var board = document.getElementById("board");
  if (!board) return;
  var statusRegion = document.getElementById("board-status");
  var errorBox = document.getElementById("board-error");
  var text = board.dataset;
  var canMove = text.canMove === "1";
  var SYNC_DELAY_MS = 800;
  var pendingMoves = 0;
  var syncTimer = null;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? values[name] : all;
    });
  }

  // Numbers and dates as the server writes them in the page's language (floatformat:"2g",
  // intcomma, DATE_FORMAT in the user's time zone): en "1,234.50", "Dec 1, 2026"; ru
  // "1 234,50", "1 дек. 2026 г.". Intl gives the language's separators.
  var numbers = window.MiniCrmNumbers;  // core/static/core/numbers.js
  var LANG = numbers.lang;
  var formatInt = numbers.int;
  var formatAmount = numbers.amount;
  var parseAmount = numbers.parseAmount;

  // A count back from its text ("1,234", "1 234"): counts are never negative.
  function parseInt10(value) {
    return Number(String(value).replace(/\D/g, "")) || 0;
  }

  // The card's date in the user's time zone (data-time-zone), as the card's template writes it;
  // the server's own label when this browser does not know the zone.
  function formatDate(iso, fallback) {
    try {
      return new Intl.DateTimeFormat(LANG, {
        day: "numeric", month: "short", year: "numeric", timeZone: text.timeZone || undefined,
      }).format(new Date(iso));
    } catch (error) {
      return fallback;
    }
  }

  function cents(value) {
    var match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(String(value));
    if (!match) return 0;
    var n = Number(match[2]) * 100 + Number(((match[3] || "") + "00").slice(0, 2));
    return match[1] ? -n : n;
  }

  function centsToString(n) {
    var sign = n < 0 ? "-" : "";
    n = Math.abs(n);
    return sign + Math.floor(n / 100) + "." + String(n % 100).padStart(2, "0");
  }

  function say(message) {
    statusRegion.textContent = message;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function columns() {
    return Array.prototype.slice.call(board.querySelectorAll(".board-column"));
  }

  function columnOf(status) {
    return board.querySelector('.board-column[data-status="' + status + '"]');
  }

  function labelOf(status) {
    var column = columnOf(status);
    var label = column && column.querySelector("h2 .status");
    return label ? label.textContent : status;
  }

  function csrfToken() {
    var input = board.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  // --- Drawing ------------------------------------------------------------------------------
  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content; // text, never HTML: user input
    return node;
  }

  // The same markup as orders/templates/orders/includes/card.html.
  function renderCard(order) {
    var card = element("li", "card");
    card.id = "order-" + Number(order.id);
    card.dataset.orderId = String(order.id);
    card.dataset.status = order.status;
    card.dataset.amount = order.amount;
    card.dataset.created = order.created_at;
    if (canMove) {
      card.draggable = true;
      card.tabIndex = 0;
      card.setAttribute("aria-describedby", "board-help");
      var handle = element("span", "card-handle", "⠿");
      handle.setAttribute("aria-hidden", "true");
      handle.title = text.textDrag;
      card.appendChild(handle);
    }
    card.appendChild(element("p", "card-title", order.title));
    var client = element("p", "card-client");
    var link = element("a", "", order.client.name);
    link.href = order.client.url;
    client.appendChild(link);
    card.appendChild(client);
    var meta = element("p", "card-meta");
    meta.appendChild(element("span", "num", formatAmount(order.amount)));
    meta.appendChild(document.createTextNode(" · "));
    var time = element("time", "", formatDate(order.created_at, order.created_label));
    time.dateTime = order.created_at;
    meta.appendChild(time);
    card.appendChild(meta);
    if (canMove) card.appendChild(renderMoveForm(order));
    return card;
  }

  function renderMoveForm(order) {
    var form = element("form", "card-move");
    form.method = "post";
    form.action = order.move_url;
    var token = element("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrfToken();
    form.appendChild(token);
    var label = element("label", "visually-hidden", fill(text.textMoveLabel, { title: order.title }));
    label.htmlFor = "move-" + Number(order.id);
    form.appendChild(label);
    var select = element("select");
    select.name = "status";
    select.id = "move-" + Number(order.id);
    columns().forEach(function (column) {
      if (column.dataset.status === order.status) return;
      var option = element("option", "", labelOf(column.dataset.status));
      option.value = column.dataset.status;
      select.appendChild(option);
    });
    form.appendChild(select);
    var button = element("button", "secondary outline compact", text.textMove);
    button.type = "submit";
    form.appendChild(button);
    return form;
  }

  // A card's move form offers every status but its own.
  function refreshMoveForm(card) {
    var form = card.querySelector(".card-move");
    if (!form) return;
    var select = form.querySelector("select");
    var status = card.dataset.status;
    while (select.firstChild) select.removeChild(select.firstChild);
    columns().forEach(function (column) {
      if (column.dataset.status === status) return;
      var option = element("option", "", labelOf(column.dataset.status));
      option.value = column.dataset.status;
      select.appendChild(option);
    });
  }

  // Newest first, as the server orders them (created_at, then id).
  function insertSorted(list, card) {
    var created = card.dataset.created;
    var id = Number(card.dataset.orderId);
    var cards = list.querySelectorAll(".card");
    for (var i = 0; i < cards.length; i++) {
      var other = cards[i];
      if (other === card) continue;
      var later = other.dataset.created < created ||
        (other.dataset.created === created && Number(other.dataset.orderId) < id);
      if (later) {
        list.insertBefore(card, other);
        return;
      }
    }
    list.appendChild(card);
  }

  function updateEmpty(column) {
    var empty = column.querySelector(".column-empty");
    if (empty) empty.hidden = column.querySelector(".card") !== null;
  }

  function addToTotals(status, count, amountCents) {
    var column = columnOf(status);
    if (!column) return;
    var countNode = column.querySelector('[data-field="count"]');
    var amountNode = column.querySelector('[data-field="amount"]');
    countNode.textContent = formatInt(parseInt10(countNode.textContent) + count);
    var total = cents(parseAmount(amountNode.textContent)) + amountCents;
    amountNode.textContent = formatAmount(centsToString(total));
  }

  // Put `card` in the column of `status`, the totals following it.
  function place(card, status) {
    var from = card.dataset.status;
    var column = columnOf(status);
    if (!column) return;
    if (from !== status) {
      addToTotals(from, -1, -cents(card.dataset.amount));
      addToTotals(status, 1, cents(card.dataset.amount));
    }
    var oldColumn = card.closest(".board-column");
    card.dataset.status = status;
    insertSorted(column.querySelector(".cards"), card);
    refreshMoveForm(card);
    if (oldColumn) updateEmpty(oldColumn);
    updateEmpty(column);
  }

  // The columns as the server has them now (OrderBoardDataView).
  function drawColumns(data) {
    var focusedId = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest(".card") ? document.activeElement.closest(".card").id : null;
    data.columns.forEach(function (entry) {
      var column = columnOf(entry.status);
      if (!column) return;
      column.querySelector('[data-field="count"]').textContent = formatInt(entry.count);
      column.querySelector('[data-field="amount"]').textContent = formatAmount(entry.amount);
      var list = column.querySelector(".cards");
      while (list.firstChild) list.removeChild(list.firstChild);
      entry.cards.forEach(function (order) { list.appendChild(renderCard(order)); });
      var more = column.querySelector(".column-more");
      more.hidden = entry.more === 0;
      more.querySelector("a").textContent = fill(text.textMore, { count: formatInt(entry.more) });
      updateEmpty(column);
    });
    if (focusedId && document.getElementById(focusedId)) document.getElementById(focusedId).focus();
  }

  function sync() {
    syncTimer = null;
    // Not under a move the server has not answered yet, nor under a drag: later.
    if (pendingMoves > 0 || board.querySelector(".card.dragging")) {
      scheduleSync();
      return;
    }
    fetch(text.columnsUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && pendingMoves === 0) drawColumns(data); })
      .catch(function () { /* the next event tries again */ });
  }

  function scheduleSync() {
    if (syncTimer === null) syncTimer = window.setTimeout(sync, SYNC_DELAY_MS);
  }

  // --- Moving -------------------------------------------------------------------------------
  function move(card, status) {
    var from = card.dataset.status;
    if (!status || status === from) return;
    var title = card.querySelector(".card-title").textContent;
    var form = card.querySelector(".card-move");
    var home = { list: card.parentNode, next: card.nextSibling };
    place(card, status);
    card.classList.add("pending");
    showError("");
    pendingMoves += 1;
    var body = new URLSearchParams();
    body.append("status", status);
    body.append("csrfmiddlewaretoken", csrfToken());
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          var reason = result.data.error ||
            (result.status === 403 ? text.textForbidden : text.textNetwork);
          throw new Error(reason);
        }
        say(fill(text.textMoved, { title: title, status: labelOf(status) }));
      })
      .catch(function (error) {
        // Back where it was, the totals with it, and why.
        place(card, from);
        home.list.insertBefore(card, home.next && home.next.parentNode === home.list ? home.next : null);
        var reason = error && error.message && error.message !== "Failed to fetch" ? error.message : text.textNetwork;
        showError(fill(text.textFailed, { title: title, reason: reason }));
      })
      .then(function () {
        card.classList.remove("pending");
        pendingMoves -= 1;
        card.focus();
      });
  }

  if (canMove) {
    board.addEventListener("submit", function (event) {
      var form = event.target.closest(".card-move");
      if (!form) return;
      event.preventDefault();
      move(form.closest(".card"), form.querySelector("select").value);
    });

    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest && event.target.closest(".card");
      if (!card) return;
      event.dataTransfer.setData("text/plain", card.id);
      event.dataTransfer.effectAllowed = "move";
      card.classList.add("dragging");
    });
    board.addEventListener("dragend", function (event) {
      var card = event.target.closest && event.target.closest(".card");
      if (card) card.classList.remove("dragging");
      columns().forEach(function (c) { c.classList.remove("drop-target"); });
    });
    columns().forEach(function (column) {
      column.addEventListener("dragover", function (event) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        column.classList.add("drop-target");
      });
      column.addEventListener("dragleave", function (event) {
        if (!column.contains(event.relatedTarget)) column.classList.remove("drop-target");
      });
      column.addEventListener("drop", function (event) {
        event.preventDefault();
        column.classList.remove("drop-target");
        var card = document.getElementById(event.dataTransfer.getData("text/plain"));
        if (card && board.contains(card)) {
          card.classList.remove("dragging");
          move(card, column.dataset.status);
        }
      });
    });

    // Alt + ArrowLeft / ArrowRight on a focused card: the previous or next column.
    board.addEventListener("keydown", function (event) {
      if (!event.altKey || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) return;
      var card = event.target;
      if (!card.classList || !card.classList.contains("card")) return;
      var order = columns().map(function (c) { return c.dataset.status; });
      var next = order[order.indexOf(card.dataset.status) + (event.key === "ArrowRight" ? 1 : -1)];
      if (!next) return;
      event.preventDefault();
      move(card, next);
    });
  }

  // --- Live ---------------------------------------------------------------------------------
  function applyChange(data) {
    var card = document.getElementById("order-" + Number(data.order_id));
    if (data.deleted || !data.order) {
      if (card) {
        var column = card.closest(".board-column");
        card.remove();
        if (column) updateEmpty(column);
      }
      return;
    }
    var order = data.order;
    var fresh = renderCard(order);
    if (card) {
      card.replaceWith(fresh);
      var old = columnOf(card.dataset.status);
      if (old) updateEmpty(old);
    }
    var column = columnOf(order.status);
    if (!column) return;
    insertSorted(column.querySelector(".cards"), fresh);
    updateEmpty(column);
    fresh.classList.add("live-updated");
  }

  function onMessage(data) {
    if (data.type === "order.changed") applyChange(data);
    else if (data.type !== "orders.changed") return;
    scheduleSync();
  }

  if (!window.MiniCrmLive) return;
  window.MiniCrmLive.connect(text.livePath || "/ws/orders/", {
    stateElement: board,
    onMessage: onMessage,
    onOpen: function (reconnected) {
      if (reconnected) scheduleSync(); // what happened while the socket was down
    },
    onStop: function () {
      showError(text.textStopped);
    },
  });
})();
