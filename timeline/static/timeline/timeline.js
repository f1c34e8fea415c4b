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
  // Where a task's tick and edit forms send the user back to: this page, as the server's own
  // copy says (request.get_full_path in task_line.html).
  var here = window.location.pathname + window.location.search;
  var hereParam = encodeURIComponent(here).replace(/%2F/g, "/"); // as |urlencode writes it

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

  // An item from the fragment names the fragment's URL as the way back (its tick form's
  // `next`, its edit link's ?next=): ticking it would land on a bare list of items. Back to
  // this page instead.
  function adopt(item) {
    Array.prototype.forEach.call(item.querySelectorAll('input[name="next"]'), function (input) {
      input.value = here;
    });
    Array.prototype.forEach.call(item.querySelectorAll('a[href*="next="]'), function (link) {
      link.setAttribute("href", link.getAttribute("href").replace(/([?&]next=)[^&#]*/, "$1" + hereParam));
    });
    return item;
  }

  // What an item shows, without its forms' CSRF tokens: each rendering masks the token anew,
  // so an unchanged task would be replaced at every event (and the focus in it lost).
  function content(item) {
    var copy = item.cloneNode(true);
    Array.prototype.forEach.call(
      copy.querySelectorAll('input[name="csrfmiddlewaretoken"]'),
      function (input) {
        input.removeAttribute("value");
      }
    );
    return copy.innerHTML;
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
          list.appendChild(adopt(item));
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
  // Catch-ups asked for while one waits are one fetch; it announces if any of them would.
  var announceNext = false;

  function catchUp(announce) {
    announceNext = announceNext || Boolean(announce);
    if (pending) return;
    pending = window.setTimeout(function () {
      pending = null;
      var announceThis = announceNext;
      announceNext = false;
      fetchItems({})
        .then(function (page) {
          var added = 0;
          var anchor = list.firstElementChild;
          Array.prototype.slice.call(page.items).forEach(function (item) {
            adopt(item);
            var existing = document.getElementById(item.id);
            if (existing) {
              if (content(existing) !== content(item)) existing.replaceWith(item);
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
            if (announceThis && announcer) announcer.textContent = section.dataset.textAdded || "";
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
