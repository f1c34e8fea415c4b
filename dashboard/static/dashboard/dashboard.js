/*
 * The dashboard's charts and live figures (dashboard/templates/dashboard/dashboard.html).
 *
 * Reads the figures from the #dashboard-stats json_script (the CSP allows no inline script),
 * draws the two charts with the vendored Chart.js (vendor/chartjs/README.md), and, for a user
 * who may view orders, listens on the client list's socket (live/consumers.py): on each
 * `order.created` it fetches /api/stats/ again, at most once every REFRESH_MS, and updates the
 * figures, the tables and the charts in place. It reconnects with capped backoff and stops for
 * good on 4001 (logged out) and 4003 (no longer allowed), as live/static/live/clients-live.js
 * does. Elements name their figure with data-stat="<path>" and data-format (int, money, pct).
 */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-stats");
  var status = document.getElementById("dash-live");
  if (!source || !status) return;
  var stats = JSON.parse(source.textContent);

  var STOP_CODES = [4001, 4003];
  var REFRESH_MS = 2000;
  var BACKOFF_FIRST_MS = 1000;
  var BACKOFF_MAX_MS = 30000;

  // In the page's language, as the server renders them (core/static/core/numbers.js).
  var numbers = window.MiniCrmNumbers;
  var formatAmount = numbers.amount;
  var formatInt = numbers.int;
  var formatPct = numbers.percent;
  var FORMATS = { int: formatInt, money: formatAmount, pct: formatPct };

  function lookup(data, path) {
    return path.split(".").reduce(function (node, key) {
      return node === null || node === undefined ? undefined : node[key];
    }, data);
  }

  // --- Charts ---------------------------------------------------------------------------------
  var charts = {};
  var style = window.getComputedStyle(document.documentElement);
  var primary = style.getPropertyValue("--pico-primary").trim() || "#0172ad";
  var muted = style.getPropertyValue("--pico-muted-color").trim() || "#646b79";
  var grid = style.getPropertyValue("--pico-muted-border-color").trim() || "#e7eaf0";

  function chartData(rows, field, money) {
    return {
      labels: rows.map(function (row) { return row.label; }),
      values: rows.map(function (row) { return money ? Number(row[field]) : row[field]; }),
    };
  }

  function drawChart(id, rows, field, money) {
    var canvas = document.getElementById(id);
    if (!canvas || !rows || !window.Chart) return;
    var data = chartData(rows, field, money);
    if (charts[id]) {
      charts[id].data.labels = data.labels;
      charts[id].data.datasets[0].data = data.values;
      charts[id].update();
      return;
    }
    charts[id] = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ data: data.values, backgroundColor: primary, borderRadius: 4, maxBarThickness: 40 }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                var row = currentRows(id)[item.dataIndex];
                return money ? formatAmount(row[field]) : formatInt(row[field]);
              },
            },
          },
        },
        scales: {
          x: { ticks: { color: muted, autoSkip: true, maxRotation: 0 }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { color: muted, precision: 0 }, grid: { color: grid } },
        },
      },
    });
  }

  function currentRows(id) {
    return id === "chart-amount" ? stats.months : stats.new_clients;
  }

  function drawCharts() {
    drawChart("chart-amount", stats.months, "amount", true);
    drawChart("chart-clients", stats.new_clients, "clients_count", false);
  }

  // --- Figures and tables ------------------------------------------------------------------------
  function updateFigures() {
    document.querySelectorAll("[data-stat]").forEach(function (element) {
      var value = lookup(stats, element.dataset.stat);
      if (value === undefined) return;
      var format = FORMATS[element.dataset.format];
      var text = format ? format(value) : String(value);
      if (element.textContent.trim() === text) return;
      element.textContent = text;
      element.classList.remove("dash-updated");
      void element.offsetWidth; // restart the highlight
      element.classList.add("dash-updated");
    });
  }

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text; // text, never HTML: names are user input
    return td;
  }

  function updateTopClients() {
    var body = document.querySelector('tbody[data-rows="top_clients"]');
    if (!body || !stats.top_clients) return;
    var rows = stats.top_clients.map(function (client, i) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(String(i + 1), "hide-sm"));
      var name = document.createElement("td");
      var link = document.createElement("a");
      link.href = client.url;
      link.textContent = client.name;
      name.appendChild(link);
      tr.appendChild(name);
      tr.appendChild(cell(formatInt(client.orders_count), "num"));
      tr.appendChild(cell(formatAmount(client.orders_total), "num"));
      return tr;
    });
    if (!rows.length) {
      var empty = cell(body.dataset.emptyText || "", "muted");
      empty.colSpan = 4;
      var tr = document.createElement("tr");
      tr.appendChild(empty);
      rows = [tr];
    }
    body.replaceChildren.apply(body, rows);
  }

  // --- Refreshing from /api/stats/ -------------------------------------------------------------
  var lastRefresh = 0;
  var pending = null;

  function refresh() {
    pending = null;
    lastRefresh = Date.now();
    fetch(status.dataset.statsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("stats: HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        stats = data;
        updateFigures();
        updateTopClients();
        drawCharts();
        status.dataset.refreshed = String(Date.now()); // read by the browser tests
      })
      .catch(function () { /* the next event tries again */ });
  }

  // At most one refresh every REFRESH_MS, however many orders arrive: a burst costs one request.
  function scheduleRefresh() {
    if (pending) return;
    var wait = Math.max(0, lastRefresh + REFRESH_MS - Date.now());
    pending = window.setTimeout(refresh, wait);
  }

  // --- The socket ---------------------------------------------------------------------------------
  var liveText = status.querySelector(".dash-live-state");
  function setState(state) {
    status.dataset.liveState = state;
    if (!liveText) return;
    var text = { open: liveText.dataset.liveTextOpen, retrying: liveText.dataset.liveTextClosed, stopped: liveText.dataset.liveTextStopped }[state];
    liveText.textContent = text || "";
  }

  function connect(attempt) {
    var path = status.dataset.livePath;
    if (!path || !("WebSocket" in window)) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + path);
    socket.addEventListener("open", function () {
      setState("open");
      if (attempt > 0) scheduleRefresh(); // orders may have come while we were away
      attempt = 0;
    });
    socket.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data && data.type === "order.created") scheduleRefresh();
    });
    socket.addEventListener("close", function (event) {
      if (STOP_CODES.indexOf(event.code) !== -1) {
        setState("stopped");
        if (liveText && status.dataset.liveStoppedText) liveText.textContent = status.dataset.liveStoppedText;
        return;
      }
      var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
      delay = delay / 2 + Math.random() * (delay / 2);
      setState("retrying");
      window.setTimeout(function () { connect(attempt + 1); }, delay);
    });
  }

  drawCharts();
  connect(0);
})();
