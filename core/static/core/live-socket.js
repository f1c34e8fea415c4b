/*
 * One live socket that stays open: connects to ws(s)://<this host><path>, and when it drops
 * reconnects with capped exponential backoff and jitter (a restarting server is not
 * stampeded). Close codes 4001 (logged out) and 4003 (no longer allowed), live/consumers.py,
 * stop it: a new handshake would be refused anyway.
 *
 *   MiniCrmLive.connect(path, {
 *     onMessage: function (data) {},   // each JSON message
 *     onOpen: function () {},          // each (re)connection: catch up on what was missed
 *     onStop: function (code) {},      // stopped for good
 *     stateElement: element,           // gets data-live-state="connecting|open|retrying|stopped"
 *   });
 *
 * Plain script, no build step; the CSP allows no inline script.
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
        attempt = 0;
        setState("open");
        if (options.onOpen) options.onOpen();
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
