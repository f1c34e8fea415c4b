"""The soak's arithmetic (bench/soak_report.py) and its HTTP reader: percentiles, the table per
endpoint, the restart windows, the orders' reconciliation, what each listener should have got,
RSS growth and the targets. The soak itself is not run here (it takes minutes and restarts its
own PostgreSQL and Redis: `make soak`)."""

import asyncio
import math

import pytest

from bench.soak import _fields, _think, main
from bench.soak_http import read_response
from bench.soak_report import (
    ERROR,
    Listener,
    OrderAttempt,
    Sample,
    Window,
    account_windows,
    check_listener,
    endpoint_stats,
    percentile,
    reconcile_orders,
    requests_table,
    rss_rows,
    targets,
)


# --- Percentiles and the table per endpoint -----------------------------------------------
def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([3, 1, 2], 50) == 2  # sorted first
    assert math.isnan(percentile([], 50))


def test_endpoint_stats_count_statuses_and_leave_transport_errors_out_of_the_latency():
    samples = [
        Sample("GET /clients/", 200, 0.0, 0.010),
        Sample("GET /clients/", 200, 0.0, 0.030),
        Sample("GET /clients/", 500, 0.0, 0.020),
        Sample("GET /clients/", ERROR, 0.0, 60.0),  # a timeout: no latency to speak of
        Sample("POST /api/orders/", 201, 0.0, 0.050),
    ]
    clients, orders = endpoint_stats(samples)
    assert (clients.endpoint, clients.count, clients.errors) == ("GET /clients/", 4, 2)
    assert clients.statuses == {"200": 2, "500": 1, "ERR": 1}
    assert clients.p50_ms == pytest.approx(20)
    assert clients.p99_ms == pytest.approx(30)
    assert (orders.count, orders.errors, orders.p50_ms) == (1, 0, pytest.approx(50))
    table = requests_table([clients, orders])
    assert "| GET /clients/" in table
    assert "200: 2, 500: 1, ERR: 1" in table
    assert [cell.strip() for cell in table.splitlines()[-1].split("|")][1:5] == [
        "**all**",
        "5",
        "",
        "2",
    ]


# --- Restart windows -----------------------------------------------------------------------
def test_a_5xx_is_inside_a_window_when_its_request_overlaps_it():
    redis = Window("Redis", start=100.0, end=102.0)
    samples = [
        Sample("a", 500, 99.0, 100.5),  # sent before, answered inside
        Sample("a", 502, 101.0, 101.1),  # wholly inside
        Sample("a", ERROR, 101.5, 110.0),  # sent inside, answered after
        Sample("a", 500, 102.5, 102.6),  # after the window: outside
        Sample("a", 500, 10.0, 10.1),  # long before
        Sample("a", 200, 101.0, 101.1),  # not an error at all
        Sample("a", 404, 50.0, 50.1),  # a 4xx is not counted anywhere
    ]
    account = account_windows(samples, [redis])
    assert account.inside == {"Redis": 3}
    assert [(s.start, s.status) for s in account.outside] == [(102.5, 500), (10.0, 500)]


def test_a_window_that_never_ended_covers_everything_after_it():
    window = Window("PostgreSQL", start=50.0)
    assert window.seconds == math.inf
    assert window.overlaps(1000.0, 1000.1)
    assert not window.overlaps(10.0, 49.9)


# --- Orders --------------------------------------------------------------------------------
def _attempt(title, ok=True, order_id=None, start=10.0, end=10.5, via="api"):
    return OrderAttempt(title, via, ok, start, end, order_id)


def test_reconciliation_finds_lost_duplicated_and_unknown_orders():
    attempts = [
        _attempt("fine", order_id=1),
        _attempt("fine page", via="page"),  # the form's answer carries no id
        _attempt("lost", order_id=2),
        _attempt("twice", order_id=3),
        _attempt("other id", order_id=4),
        _attempt("failed but saved", ok=False),
        _attempt("failed", ok=False),
    ]
    stored = [
        (1, "fine"),
        (5, "fine page"),
        (3, "twice"),
        (6, "twice"),
        (7, "other id"),
        (8, "failed but saved"),
        (9, "nobody sent this"),
    ]
    result = reconcile_orders(attempts, stored)
    assert result.created == 5
    assert result.lost == ["lost"]
    assert result.duplicated == {"twice": 2}
    assert result.wrong_id == ["other id"]
    assert result.committed_after_error == ["failed but saved"]
    assert result.unknown == [9]
    assert not result.ok
    assert result.ids["fine page"] == 5


def test_reconciliation_passes_when_every_2xx_is_stored_once():
    attempts = [_attempt("a", order_id=1), _attempt("b", via="page"), _attempt("c", ok=False)]
    result = reconcile_orders(attempts, [(1, "a"), (2, "b")])
    assert result.ok
    assert (result.created, result.committed_after_error) == (2, [])


# --- Listeners -----------------------------------------------------------------------------
def test_a_listener_is_owed_the_orders_created_while_it_was_connected():
    listener = Listener("ws", intervals=[(0.0, 50.0), (60.0, None)], received={"a", "c"})
    attempts = [
        _attempt("a", start=10.0, end=10.2),  # connected: received
        _attempt("b", start=20.0, end=20.2),  # connected: missing
        _attempt("late", start=47.0, end=47.5),  # answered 2.5 s before the drop: < grace
        _attempt("gap", start=55.0, end=55.1),  # between two connections
        _attempt("c", start=70.0, end=70.1),  # the second connection, open until the end
        _attempt("window", start=80.0, end=80.1),  # overlaps a restart window (+ grace)
        _attempt("failed", ok=False, start=30.0, end=30.1),  # no 2xx: nothing is owed
    ]
    windows = [Window("Redis", start=83.0, end=84.0)]
    check = check_listener(listener, attempts, windows, run_end=100.0, grace=5.0)
    assert check.connections == 2
    assert (check.expected, check.received) == (3, 2)
    assert check.missing == ["b"]
    assert check.excluded_window == 1
    assert check.not_connected == 2  # "late" and "gap"


def test_an_order_sent_before_the_socket_opened_is_not_owed():
    listener = Listener("ws", intervals=[(10.0, None)])
    check = check_listener(listener, [_attempt("x", start=9.9, end=10.5)], [], run_end=100.0)
    assert (check.expected, check.not_connected, check.missing) == (0, 1, [])


# --- RSS and the targets -----------------------------------------------------------------
def test_rss_growth_is_a_target_for_the_app_processes_only():
    start = {"web workers": 100_000, "ws (uvicorn)": 100_000, "postgres": 100_000}
    end = {"web workers": 119_000, "ws (uvicorn)": 125_000, "postgres": 200_000}
    counts = {"web workers": (2, 2, 5), "ws (uvicorn)": (1, 1, 1), "postgres": (9, 8, 17)}
    rows = {row.role: row for row in rss_rows(start, end, counts)}
    assert rows["web workers"].growth == pytest.approx(0.19)
    assert rows["web workers"].ok
    assert rows["web workers"].processes == "2 → 2 (5 pids seen)"
    assert not rows["ws (uvicorn)"].ok  # +25%
    assert rows["postgres"].ok  # restarted mid-run: for information only
    assert not rows["postgres"].target


def test_each_target_fails_on_its_own_figure():
    orders = reconcile_orders([_attempt("a", order_id=1)], [(1, "a")])
    windows = [Window("Redis", 0.0, 1.0), Window("PostgreSQL", 10.0, 12.0)]
    account = account_windows([Sample("x", 500, 0.5, 0.6)], windows)
    rss = rss_rows({"nginx": 1000}, {"nginx": 1000})
    listener = check_listener(
        Listener("ws", [(0.0, None)], {"a"}), [_attempt("a")], windows, run_end=99
    )

    def results(**changes):
        figures = {
            "orders": orders,
            "totals_drift": 0,
            "account": account,
            "windows": windows,
            "rss": rss,
            "listeners": [listener],
        }
        return [t.ok for t in targets(**{**figures, **changes})]

    assert results() == [True] * 6
    assert results(orders=reconcile_orders([_attempt("a")], []))[0] is False
    assert results(totals_drift=2)[1] is False
    outside = account_windows([Sample("x", 500, 5.0, 5.1)], windows)
    assert results(account=outside)[2] is False
    assert results(windows=[Window("Redis", 0.0, 5.5)])[3] is False
    assert results(windows=[])[3] is False  # no restart happened: the soak did not do its job
    assert results(rss=rss_rows({"nginx": 1000}, {"nginx": 1300}))[4] is False
    owed = _attempt("a", start=30.0, end=30.1)
    deaf = check_listener(Listener("ws", [(0.0, None)]), [owed], windows, run_end=99)
    assert results(listeners=[deaf])[5] is False


# --- Reading the pages and answers -------------------------------------------------------
def test_form_fields_are_read_back_unescaped():
    page = (
        '<input type="text" name="name" value="Seán O&#x27;Brien" maxlength="200" required>'
        '<input type="email" name="email" value="sean@corp.test">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="tok">'
    )
    assert _fields(page, ("name", "email")) == {"name": "Seán O'Brien", "email": "sean@corp.test"}


async def _read(raw: bytes, method: str = "GET"):
    reader = asyncio.StreamReader()
    reader.feed_data(raw)
    reader.feed_eof()
    return await read_response(reader, method)


async def test_a_chunked_answer_is_read_whole_with_its_cookies():
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1; Path=/\r\n"
        b"Set-Cookie: b=2; Path=/\r\nContent-Type: text/csv\r\n\r\n"
        b"4\r\nname\r\n6\r\n,email\r\n0\r\n\r\n"
    )
    response = await _read(raw)
    assert (response.status, response.body) == (200, b"name,email")
    assert response.cookies == ["a=1; Path=/", "b=2; Path=/"]
    assert response.header("Content-Type") == "text/csv"


async def test_a_content_length_answer_leaves_the_next_one_on_the_connection():
    raw = b"HTTP/1.1 302 Found\r\nLocation: /clients/1/\r\nContent-Length: 2\r\n\r\nokHTTP/1.1"
    response = await _read(raw)
    assert (response.status, response.body, response.header("location")) == (
        302,
        b"ok",
        "/clients/1/",
    )


async def test_a_garbled_status_line_is_an_error_not_a_status():
    with pytest.raises(ValueError, match="not an HTTP status line"):
        await _read(b"garbage\r\n\r\n")


# --- The command line ------------------------------------------------------------------------
def test_the_think_time_is_a_range_of_seconds():
    assert _think("0.5-2.0") == (0.5, 2.0)
    assert _think("1") == (1.0, 1.0)
    assert _think("0-0") == (0.0, 0.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--think", "2-1"], "a range of seconds"),
        (["--think", "soon"], "a range of seconds"),
        (["--seconds", "0"], "above 0"),
        (["--seconds", "nan"], "above 0"),
        (["--warmup", "-5"], "above 0"),
        (["--users", "0"], "from 1 to 200"),
        (["--users", "many"], "from 1 to 200"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
