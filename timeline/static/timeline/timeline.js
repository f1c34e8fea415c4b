/*
 * The client page's timeline (timeline/templates/timeline/includes/timeline.html).
 *
 * Without this script everything works: "Show older" is a link to the next page, the forms
 * post and come back. With it:
 * - "Show older" appends the next page in place (the fragment at data-items-url, whose
 *   X-Timeline-Older header names the page after it);
 * - a note or task added, edited or deleted on another open page of this client appears here:
 *   the socket (live/consumers.py ClientTimelineConsumer, through core/static/core/
 *   live-socket.js) names the item, and the script fetches the newest page with this user's
 *   rights and puts in what it lacks or has changed. It catches up the same way whenever the
 *   socket (re)opens.
 */
(function () {
  "use strict";

  var section = document.getElementById("timeline");
  var list = document.getElementById("timeline-items");
  if (!section || !list) return;
  var announcer = document.getElementById("timeline-announcer");
  var itemsUrl = section.dataset.itemsUrl;
  var kind = section.dataset.kind;
  var onFirstPage = !/[?&]before=/.test(window.location.search);

  function fetchItems(params) {
    var query = [];
    if (kind) query.push("kind=" + encodeURIComponent(kind));
    if (params.before) query.push("before=" + encodeURIComponent(params.before));
    return window
      .fetch(itemsUrl + (query.length ? "?" + query.join("&") : ""), {
        credentials: "same-origin",
        redirect: "error",
        cache: "no-store",
        headers: { Accept: "text/html" },
      })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text().then(function (html) {
          var box = document.createElement("ol");
          box.innerHTML = html;
          return { items: box.children, older: response.headers.get("X-Timeline-Older") };
        });
      });
  }

  function removeEmptyState() {
    var empty = document.getElementById("timeline-empty");
    if (empty) empty.remove();
  }

  // --- Show older, in place ----------------------------------------------------------------
  section.addEventListener("click", function (event) {
    var link = event.target.closest("#timeline-older");
    if (!link) return;
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    fetchItems({ before: link.dataset.older })
      .then(function (page) {
        var first = null;
        Array.prototype.slice.call(page.items).forEach(function (item) {
          if (document.getElementById(item.id)) return;
          list.appendChild(item);
          first = first || item;
        });
        if (page.older) {
          link.dataset.older = page.older;
          link.href = "?before=" + encodeURIComponent(page.older) + (kind ? "&kind=" + kind : "") + "#timeline";
          link.removeAttribute("aria-busy");
        } else {
          link.parentNode.remove();
        }
        if (first) {
          var focusable = first.querySelector("a, button") || first;
          if (focusable === first) first.setAttribute("tabindex", "-1");
          focusable.focus({ preventScroll: false });
        }
      })
      .catch(function () {
        window.location.href = link.href; // the plain link still works
      });
  });

  // --- Live: others' notes and tasks ---------------------------------------------------------
  if (!onFirstPage || !window.MiniCrmLive) return;

  var pending = null;

  function catchUp(announce) {
    if (pending) return;
    pending = window.setTimeout(function () {
      pending = null;
      fetchItems({})
        .then(function (page) {
          var added = 0;
          var anchor = list.firstElementChild;
          Array.prototype.slice.call(page.items).forEach(function (item) {
            var existing = document.getElementById(item.id);
            if (existing) {
              if (existing.innerHTML !== item.innerHTML) existing.replaceWith(item);
              return;
            }
            if (!anchor || item.dataset.cursor > (anchor.dataset.cursor || "")) {
              item.classList.add("is-new");
              list.insertBefore(item, anchor);
              added += 1;
            }
          });
          if (added) {
            removeEmptyState();
            if (announce && announcer) announcer.textContent = section.dataset.textAdded || "";
          }
        })
        .catch(function () {});
    }, 150);
  }

  window.MiniCrmLive.connect(section.dataset.livePath, {
    stateElement: section,
    onOpen: function () {
      catchUp(false);
    },
    onMessage: function (data) {
      if (data.type !== "timeline.changed") return;
      if (data.deleted) {
        var gone = document.getElementById(data.kind + "-" + data.id);
        if (gone) gone.remove();
        return;
      }
      catchUp(true);
    },
  });
})();
