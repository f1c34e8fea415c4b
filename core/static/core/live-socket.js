/*
 * One live socket that stays open: connects to ws(s)://<this host><path>, and when it drops
 * reconnects with capped exponential backoff and jitter (a restarting server is not
 * stampeded). Close codes 4001 (logged out) and 4003 (no longer allowed), live/consumers.py,
 * stop it: a new handshake would be refused anyway.
 *
 *   MiniCrmLive.connect(path, {
 *     onMessage: function (data) {},   // each JSON message
 *     onOpen: function (reconnected) {},  // each (re)connection: catch up on what was missed;
 *                                      // `reconnected` is false for the page's first one
 *     onDrop: function (code) {},      // each drop that will be retried (before the wait);
 *                                      // returning false gives up instead, state unchanged
 *     onStop: function (code) {},      // stopped for good (4001, 4003)
 *     stateElement: element,           // gets data-live-state="connecting|open|retrying|stopped"
 *   });
 *
 * Returns false, and does nothing, where the browser has no WebSocket (the page may poll).
 * Used by every live page: the client list (live/static/live/clients-live.js), the orders
 * board (orders/static/orders/board.js), an import's progress (imports/static/imports/
 * import-progress.js) and a client's timeline (timeline/static/timeline/timeline.js); each
 * page loads this file first. Plain script, no build step; the CSP allows no inline script.
 */
(function () {
  "use strict";

  var STOP_CODES = [4001, 4003];
  var BACKOFF_FIRST_MS = 1000;
  var BACKOFF_MAX_MS = 30000;

  function connect(path, options) {
    if (!("WebSocket" in window)) return false;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + window.location.host + path;
    var attempt = 0;
    var state = options.stateElement;

    function setState(value) {
      if (state) state.dataset.liveState = value;
    }

    function open() {
      setState(attempt === 0 ? "connecting" : "retrying");
      var socket = new WebSocket(url);
      socket.addEventListener("open", function () {
        var reconnected = attempt > 0;
        attempt = 0;
        setState("open");
        if (options.onOpen) options.onOpen(reconnected);
      });
      socket.addEventListener("message", function (event) {
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        if (data && options.onMessage) options.onMessage(data);
      });
      socket.addEventListener("close", function (event) {
        if (STOP_CODES.indexOf(event.code) !== -1) {
          setState("stopped");
          if (options.onStop) options.onStop(event.code);
          return;
        }
        if (options.onDrop && options.onDrop(event.code) === false) return;
        // Exponential backoff with jitter, capped: a restarting server is not stampeded.
        var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
        delay = delay / 2 + Math.random() * (delay / 2);
        attempt += 1;
        setState("retrying");
        window.setTimeout(open, delay);
      });
    }

    open();
    return true;
  }

  window.MiniCrmLive = { connect: connect };
})();
