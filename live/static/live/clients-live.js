/*
 * Live "new order" events on the client list (live/consumers.py).
 *
 * Plain script, no build step, no dependencies but core/static/core/live-socket.js, which the
 * page loads first. It reads its configuration from the #live-notices element's data-
 * attributes (the CSP allows no inline script), keeps a socket to ws(s)://<this host>
 * <data-live-path> through MiniCrmLive.connect, and for each `order.created` event:
 *   - shows a notice "New order “<title>” for <client name>" in the aria-live region;
 *   - updates that client's count and total cells when its row is on this page.
 * The shared loop reconnects with capped exponential backoff and sets the region's
 * data-live-state, and stops once the server says the session logged out (close code 4001)
 * or no longer allows live updates (4003: the session expired, its password changed, the user
 * was deactivated or lost their role), where a new handshake would only be refused. This
 * script then shows the page's data-live-stopped-text, if the page gives one, until dismissed
 * (a new message lives in the template, where it can be translated).
 * The words it writes itself come from the region's data-text-new-order ("%(title)s" and
 * "%(client)s" are filled in) and data-text-dismiss, when the page gives them; otherwise from
 * Django's JavaScript catalog (window.gettext), when the page loads one; otherwise English.
 * The page may come from a cache: everything here is static.
 */
(function () {
  "use strict";

  var region = document.getElementById("live-notices");
  if (!region || !window.MiniCrmLive) return;

  var NOTICE_MS = 10000;
  var MAX_NOTICES = 4;

  // Django's catalog function when the page loaded it, else the English text as it is.
  var gettext = window.gettext || function (text) { return text; };
  var TEXT_NEW_ORDER = region.dataset.textNewOrder ||
    gettext("New order “%(title)s” for %(client)s");
  var TEXT_DISMISS = region.dataset.textDismiss || gettext("Dismiss");

  // Named placeholders, filled in one pass, so a title holding "%(client)s" stays as typed.
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // In the page's language, as the server renders it (core/static/core/numbers.js).
  var formatAmount = window.MiniCrmNumbers.amount;

  // A notice vanishes after NOTICE_MS, unless `persistent` (it then stays until dismissed).
  function showNotice(text, persistent) {
    var notice = document.createElement("div");
    notice.className = "live-notice";
    notice.setAttribute("role", "status");
    var body = document.createElement("span");
    body.textContent = text; // text, never HTML: titles and names are user input
    var close = document.createElement("button");
    close.type = "button";
    close.className = "live-notice-close";
    close.setAttribute("aria-label", TEXT_DISMISS);
    close.textContent = "×";
    close.addEventListener("click", function () { notice.remove(); });
    notice.appendChild(body);
    notice.appendChild(close);
    region.appendChild(notice);
    while (region.querySelectorAll(".live-notice").length > MAX_NOTICES) {
      region.querySelector(".live-notice").remove();
    }
    if (!persistent) window.setTimeout(function () { notice.remove(); }, NOTICE_MS);
  }

  function updateRow(client) {
    var row = document.querySelector('tr[data-client-id="' + Number(client.id) + '"]');
    if (!row) return;
    var count = row.querySelector('td[data-field="orders_count"]');
    var total = row.querySelector('td[data-field="orders_total"]');
    if (count) count.textContent = String(client.orders_count);
    if (total) total.textContent = formatAmount(client.orders_total);
    row.classList.remove("live-updated");
    void row.offsetWidth; // restart the highlight animation
    row.classList.add("live-updated");
  }

  function onMessage(data) {
    if (data.type !== "order.created" || !data.order || !data.client) return;
    showNotice(fill(TEXT_NEW_ORDER, { title: data.order.title, client: data.client.name }));
    updateRow(data.client);
  }

  // The region's data-live-state (connecting, open, retrying, stopped) is read by the styles
  // and the browser tests.
  window.MiniCrmLive.connect(region.dataset.livePath || "/ws/clients/", {
    stateElement: region,
    onMessage: onMessage,
    onStop: function () {
      if (region.dataset.liveStoppedText) showNotice(region.dataset.liveStoppedText, true);
    },
  });
})();
