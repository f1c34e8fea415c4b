"""Load generation: wrk, its `--latency` report read into a Load, or a slower Python generator
where wrk is missing; and the one Load kept of several rounds."""

import random
import re
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench import OUT_DIR
from bench.endpoints import RANDOM
from bench.server import request


@dataclass
class Load:
    """What one load run measured."""

    rps: float
    avg_ms: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int = 0  # non-2xx/3xx responses plus socket errors
    tool: str = "wrk"
    # CPU time per request of the gunicorn workers and of their PostgreSQL backends: unlike
    # req/s, barely moved by other jobs on the machine (they take CPU away, not add to ours).
    app_cpu_ms: float | None = None
    db_cpu_ms: float | None = None

    @property
    def cpu_ms(self) -> float | None:
        if self.app_cpu_ms is None or self.db_cpu_ms is None:
            return None
        return self.app_cpu_ms + self.db_cpu_ms


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(text: str) -> Load:
    """Read wrk's `--latency` report."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    avg = re.search(r"Latency\s+([\d.]+\w+)", text).group(1)
    p50 = re.search(r"^\s+50%\s+([\d.]+\w+)", text, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+([\d.]+\w+)", text, re.M).group(1)
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", text))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    if errors:
        # A sync worker closes the connection after each response: wrk counts some of those
        # closes as read errors; only connect errors and timeouts are real failures.
        bad += int(errors.group(1)) + int(errors.group(4))
    return Load(
        rps=rps, avg_ms=_ms(avg), p50_ms=_ms(p50), p99_ms=_ms(p99), requests=requests, bad=bad
    )


# Each wrk thread runs its own copy of a script: seeded with the time alone, both threads drew
# the same random numbers, so the second thread asked for the page the first had just cached.
# setup() runs once per thread before it starts and sets the thread's global `id`.
SEED_PER_THREAD = (
    "local threads = 0\n"
    "function setup(thread)\n"
    "  threads = threads + 1\n"
    '  thread:set("id", threads)\n'
    "end\n"
    "function init(args)\n"
    "  math.randomseed(os.time() * 1000 + id)\n"
    "end\n"
)


@dataclass
class Plan:
    """Requests that are not one repeated GET (bench.write's orders): wrk runs `lua`, the Python
    generator calls `next_request()` for each request's (method, path, body)."""

    name: str
    lua: str
    next_request: Callable[[], tuple[str, str, bytes | None]]


def _random_pages(url: str) -> tuple[str, int] | None:
    """("…?page=", pages) for a URL that asks for a random page per request: "…?page={random}"
    with "&pages=N" after it (added by bench.size); None for a fixed URL."""
    if RANDOM not in url:
        return None
    head, _, tail = url.partition(RANDOM)
    return head, int(tail.rpartition("pages=")[2])


def run_wrk(
    url: str, headers: dict[str, str], *, threads: int, connections: int, seconds: float,
    plan: Plan | None = None,
):  # fmt: skip
    # A long timeout: on a busy machine a slow answer is a figure, not an error.
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    command += ["--timeout", "30s"]
    random_pages = _random_pages(url)
    if plan:
        script = OUT_DIR / f"{plan.name}.lua"
        script.write_text(plan.lua)
        command += ["-s", str(script)]
    elif random_pages:
        head, pages = random_pages
        path = urlsplit(head).path + "?" + urlsplit(head).query
        script = OUT_DIR / "random-page.lua"
        script.write_text(
            SEED_PER_THREAD + "request = function()\n"
            f'  return wrk.format(nil, "{path}" .. math.random(1, {pages}))\n'
            "end\n"
        )
        command += ["-s", str(script)]
        url = head
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    return parse_wrk(result.stdout)


def run_python_load(
    url: str, headers: dict[str, str], *, threads: int, connections: int, seconds: float,
    plan: Plan | None = None,
):  # fmt: skip
    """The fallback when wrk is missing: `connections` threads, one request after another, a
    new connection each time (gunicorn's sync workers close it anyway). Python is a much
    slower client than wrk, so ceilings come out lower: compare ratios only."""
    random_pages = _random_pages(url)
    parts = urlsplit(random_pages[0] if random_pages else url)
    base, path = f"{parts.scheme}://{parts.netloc}", parts.path
    path += f"?{parts.query}" if parts.query else ""
    latencies: list[float] = []
    bad = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        nonlocal bad
        mine, failed = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            if plan:
                method, sent, body = plan.next_request()
            else:
                method, body = "GET", None
                sent = path + (str(random.randint(1, random_pages[1])) if random_pages else "")
            try:
                failed += request(base, method, sent, headers, body)[0] >= 400
            except OSError:
                failed += 1
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            bad += failed

    pool = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Load(
        rps=len(latencies) / elapsed,
        avg_ms=statistics.fmean(latencies),
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        requests=len(latencies),
        bad=bad,
        tool="python",
    )


def median_load(rounds: list[Load]) -> Load:
    """The round with the median req/s, with the errors of every round and the CPU per
    request over all of them."""
    requests = sum(load.requests for load in rounds)
    kept = sorted(rounds, key=lambda load: load.rps)[len(rounds) // 2]
    kept.bad = sum(load.bad for load in rounds)
    if requests:
        kept.app_cpu_ms = sum(load.app_cpu_ms * load.requests for load in rounds) / requests
        kept.db_cpu_ms = sum(load.db_cpu_ms * load.requests for load in rounds) / requests
    return kept
