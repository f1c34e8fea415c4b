/*
 * The progress bar of an import that runs (imports/templates/imports/import_detail.html).
 *
 * Plain script, no build step. It reads its configuration from #import-progress's data-
 * attributes (the CSP allows no inline script) and keeps a socket to ws(s)://<this host>
 * <data-live-path> (live/consumers.py ImportProgressConsumer) through core/static/core/
 * live-socket.js, which the page loads first. Each `import.progress` event moves the bar and
 * its text; the event that says `finished` reloads the page, which then shows the outcome.
 *
 * The work may end before the socket has joined the import's group, and then no event would
 * ever come: so whenever the socket opens (and whenever it drops) the script asks
 * data-progress-url for the state, as the database has it. The shared loop reconnects with
 * capped exponential backoff, as on the client list; on close codes 4001/4003 the page is
 * reloaded, and says why. Without WebSocket support it only asks for the state, every few
 * seconds. Without any script, the page refreshes itself (a <noscript> meta refresh).
 */
(function () {
  "use strict";

  var box = document.getElementById("import-progress");
  if (!box) return;
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  var heading = document.getElementById("progress-stage");

  var POLL_MS = 3000;
  // The text is an aria-live region: read out now and then, not at every report (4 a second).
  var TEXT_EVERY_MS = 2000;

  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var reloading = false;
  var lastText = 0;
  var textTimer = null;
  var nextText = null;

  function reload() {
    if (reloading) return;
    reloading = true;
    window.location.reload();
  }

  function setText(words) {
    nextText = words;
    if (textTimer) return;
    var wait = Math.max(0, lastText + TEXT_EVERY_MS - Date.now());
    textTimer = window.setTimeout(function () {
      textTimer = null;
      lastText = Date.now();
      if (text.textContent !== nextText) text.textContent = nextText;
    }, wait);
  }

  function show(state) {
    if (!state || typeof state !== "object") return;
    if (state.finished) {
      reload();
      return;
    }
    var label = state.stage === "saving" ? box.dataset.labelSaving : box.dataset.labelChecking;
    if (label && heading.textContent !== label) heading.textContent = label;
    var total = Number(state.total) || 0;
    var done = Math.min(Number(state.done) || 0, total);
    if (total > 0) {
      bar.max = total;
      bar.value = done;
      setText(
        box.dataset.textCounted
          .replace("{done}", numbers.format(done))
          .replace("{total}", numbers.format(total))
      );
    } else {
      bar.removeAttribute("value"); // no numbers yet: an indeterminate bar
      setText(box.dataset.textWaiting);
    }
  }

  function askState() {
    // redirect "error": a session that ended answers with the login page, not JSON.
    return window
      .fetch(box.dataset.progressUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "error",
        cache: "no-store",
      })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(show)
      .catch(function () {});
  }

  var live = window.MiniCrmLive && window.MiniCrmLive.connect(box.dataset.livePath, {
    stateElement: box,
    onMessage: function (data) {
      if (data.type === "import.progress") show(data);
    },
    onOpen: askState,
    onDrop: function () {
      if (reloading) return false; // the page is going: no new socket
      askState();
    },
    onStop: reload, // the page says what happened (the login page, or no access)
  });
  if (!live) window.setInterval(askState, POLL_MS);
})();
