"""The harness's own logic: reading wrk, judging the targets, the table. No load is run."""

import pytest

from bench import database, measure, run
from bench.load import Load, median_load, parse_wrk
from bench.measure import Export
from bench.size import SizeResult
from bench.table import render
from bench.targets import evaluate

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:8000/clients/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.08ms    1.32ms  22.61ms   85.51%
    Req/Sec     0.99k   107.69     1.21k    70.00%
  Latency Distribution
     50%  850.00us
     75%    4.43ms
     90%    5.32ms
     99%    1.20s
  9862 requests in 5.00s, 3.75MB read
  Socket errors: connect 2, read 12, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:   1971.54
Transfer/sec:    767.44KB
"""


def test_wrk_report_is_read_in_milliseconds_with_failures_counted():
    load = parse_wrk(WRK_OUTPUT)
    assert load.rps == pytest.approx(1971.54)
    assert load.avg_ms == pytest.approx(4.08)
    assert load.p50_ms == pytest.approx(0.85)
    assert load.p99_ms == pytest.approx(1200)
    assert load.requests == 9862
    # 3 non-2xx + 2 connect errors + 1 timeout; read errors are gunicorn closing connections.
    assert load.bad == 6


def test_clean_wrk_report_has_no_failures():
    clean = WRK_OUTPUT.replace("  Non-2xx or 3xx responses: 3\n", "").replace(
        "connect 2, read 12, write 0, timeout 1", "connect 0, read 12, write 0, timeout 0"
    )
    assert parse_wrk(clean).bad == 0


def load(rps: float, avg_ms: float, bad: int = 0) -> Load:
    return Load(rps=rps, avg_ms=avg_ms, p50_ms=avg_ms, p99_ms=avg_ms, requests=100, bad=bad)


def size(clients: int, export, **loads) -> SizeResult:
    result = SizeResult(clients=clients, orders=clients * 10, deep_page=max(1, clients // 20))
    result.loads = loads
    result.export = export
    result.probe = {
        "count_ms": 1.3,
        "counts_per_s": 770,
        "two_step_page1_ms": 5.5,
        "two_step_deep_ms": 17,
        "page_only_deep_ms": 15,
        "seek_deep_ms": 4.5,
        "literal_page1_ms": 1200,
    }
    return result


def by_name(targets):
    return {t.name.split(" >=")[0].split(" time")[0].split(" throughput")[0]: t for t in targets}


def test_targets_pass_and_fail_on_the_issue_thresholds():
    small = size(1000, Export(1000, 0.05, 5, 10.0), bare=load(1000, 8), page1=load(500, 16),
                 deep=load(480, 17), api=load(600, 13))  # fmt: skip
    big = size(100_000, Export(100_000, 2.0, 5, 35.0), bare=load(1000, 8), page1=load(310, 30),
               deep=load(200, 40), api=load(390, 20))  # fmt: skip
    targets = by_name(evaluate(small, big))
    assert targets["list page 1"].status == "PASS"  # 31% >= 30%
    assert targets["API list"].status == "FAIL"  # 39% < 40%
    assert targets["page 1"].status == "PASS"  # 30 ms <= 2 x 16 ms
    assert targets["page 5,000"].status == "FAIL"  # 40 ms > 2 x 17 ms
    assert targets["export"].status == "PASS"  # 50,000 rows/s
    peak = next(t for t in targets.values() if "peak RSS" in t.name)
    assert peak.status == "PASS"  # +25 MB over the 1,000-row export
    assert peak.measured.startswith("+25.0 MB")


def test_errors_under_load_fail_a_target_whatever_the_speed():
    small = size(1000, None, bare=load(1000, 8), page1=load(900, 9))
    big = size(100_000, None, bare=load(1000, 8), page1=load(900, 9, bad=4))
    targets = by_name(evaluate(small, big))
    assert targets["list page 1"].status == "FAIL"
    assert targets["page 1"].status == "FAIL"


def test_missing_endpoints_are_reported_not_applicable():
    small = size(1000, "n/a (404)", bare=load(1000, 8), page1=load(500, 16), api="n/a (404)")
    big = size(100_000, "n/a (404)", bare=load(1000, 8), page1=load(400, 20), api="n/a (404)")
    targets = evaluate(small, big)
    api = by_name(targets)["API list"]
    assert (api.measured, api.status) == ("n/a (404)", "n/a")
    assert [t.status for t in targets if "export" in t.name] == ["n/a", "n/a"]
    table = render(small, big, targets, header="bench")
    assert "API list /api/clients/" in table
    assert "n/a (404)" in table
    assert "1,200 ms" in table  # the spec's literal query, for the record
    assert "from its anchor 4.50 ms" in table  # the deep page as the list runs it


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_only_strict_runs_exit_non_zero_on_a_failed_target(monkeypatch, tmp_path, strict, code):
    slow = size(100_000, None, bare=load(1000, 8), page1=load(100, 80))
    monkeypatch.setattr(run, "manage", lambda *args: None)
    monkeypatch.setattr(run, "run_size", lambda args, **kwargs: slow)
    argv = ["--json", str(tmp_path / "out.json")] + (["--strict"] if strict else [])
    assert run.main(argv) == code
    assert (tmp_path / "out.json").exists()


def test_cpu_seconds_reads_the_processes_own_counters():
    import os

    sum(i * i for i in range(200_000))  # burn a little CPU
    assert measure.cpu_seconds([os.getpid()]) > 0
    assert measure.cpu_seconds([2**22 + 12345]) == 0  # a process that is gone counts nothing


def test_a_round_warms_up_then_counts_the_cpu_of_its_own_requests(monkeypatch):
    from types import SimpleNamespace

    measured = iter([load(10, 1), load(300, 1)])
    clock = iter([0.0, 0.0, 3.0, 1.5])  # app before, db before, app after, db after
    monkeypatch.setattr(measure, "database_backends", lambda url: [1])
    monkeypatch.setattr(measure, "cpu_seconds", lambda pids: next(clock))
    args = SimpleNamespace(
        load=lambda url, headers, seconds, plan=None: next(measured), warmup=1, duration=5
    )
    server = SimpleNamespace(worker_pids=lambda: [2])
    kept = measure.measure_round(args, server, "postgres://x/db", "http://x/", {})
    assert kept.rps == 300  # the warm-up (10 req/s) is not the round
    assert kept.app_cpu_ms == pytest.approx(3000 / 100)  # 3 s over its 100 requests
    assert kept.db_cpu_ms == pytest.approx(1500 / 100)


def test_rounds_keep_the_median_and_spread_cpu_over_every_request():
    rounds = [load(300, 1, bad=1), load(200, 1), load(100, 1)]
    for cpu, measured in zip((10, 20, 30), rounds, strict=True):
        measured.app_cpu_ms = measured.db_cpu_ms = cpu
    kept = median_load(rounds)
    assert kept.rps == 200  # the median of 300, 200, 100
    assert kept.bad == 1
    assert kept.app_cpu_ms == kept.db_cpu_ms == pytest.approx(20)  # 100 requests each


def test_export_is_counted_in_rows_while_it_streams_with_the_workers_peak_memory():
    import os
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from types import SimpleNamespace

    class CSV(BaseHTTPRequestHandler):
        def do_GET(self):
            assert self.path == measure.EXPORT_PATH
            assert self.headers["Cookie"] == "sessionid=abc"
            self.send_response(200)
            self.send_header("Content-Type", "text/csv; charset=utf-8")
            self.end_headers()
            self.wfile.write("\ufeffid,name\r\n".encode())
            for i in range(2500):
                self.wfile.write(f"{i},Zoë Müller\r\n".encode())

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), CSV)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        server = SimpleNamespace(
            base=f"http://127.0.0.1:{httpd.server_address[1]}",
            worker_pids=lambda: [os.getpid()],  # this process plays the worker
        )
        export = measure.measure_export(server, {"Cookie": "sessionid=abc"}, repeat=2)
    finally:
        httpd.shutdown()
    assert export.rows == 2500  # the header line is not a row
    assert export.rows_per_s > 0
    assert 0 <= export.first_byte_ms <= export.seconds * 1000
    assert export.peak_growth_mb >= 0


@pytest.mark.services  # the server's cache must be one the test can read: Redis
def test_retiring_cached_pages_keeps_the_count_and_anchors(settings):
    import os

    from clients.cache import NAMESPACE, POSITIONS_NAMESPACE
    from core.cache import version_get

    before = version_get(NAMESPACE), version_get(POSITIONS_NAMESPACE)
    database.retire_cached_pages(
        {**os.environ, "DJANGO_DEBUG": "1", "REDIS_URL": settings.REDIS_URL}
    )
    assert (version_get(NAMESPACE), version_get(POSITIONS_NAMESPACE)) == (before[0] + 1, before[1])
