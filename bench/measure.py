"""What the bench reads from the running server besides wrk's figures: the CPU time its
workers and their PostgreSQL backends spend per request, and the CSV export's speed and the
workers' peak memory while it streams."""

import http.client
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import Load

EXPORT_PATH = "/clients/export.csv"


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (/proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def database_backends(database_url: str) -> list[int]:
    """The PostgreSQL backends connected to the bench database (the workers' persistent
    connections: nothing else uses that database during a run)."""
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return [pid for (pid,) in rows]


def measure_round(args, server, database_url: str, url: str, headers, plan=None) -> Load:
    """Warm up, then one measure, with the CPU the server (workers and their PostgreSQL
    backends) spent on it. `plan`: requests other than one repeated GET (bench.load.Plan)."""
    args.load(url, headers, seconds=args.warmup, plan=plan)
    app, db = server.worker_pids(), database_backends(database_url)
    app_before, db_before = cpu_seconds(app), cpu_seconds(db)
    load = args.load(url, headers, seconds=args.duration, plan=plan)
    load.app_cpu_ms = (cpu_seconds(app) - app_before) * 1000 / max(load.requests, 1)
    load.db_cpu_ms = (cpu_seconds(db) - db_before) * 1000 / max(load.requests, 1)
    return load


# --- Memory of the workers ------------------------------------------------------------------
def _status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise LookupError(field_name)


def reset_peaks(pids: list[int]) -> dict[int, int]:
    """Reset each worker's peak RSS (VmHWM) to its current RSS (Linux: clear_refs 5) and
    return the current RSS in kB; where that is not allowed, the old peak stays as the base."""
    base = {}
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            base[pid] = _status_kb(pid, "VmRSS")
        except OSError:
            base[pid] = _status_kb(pid, "VmHWM")
    return base


def peak_growth_mb(base: dict[int, int]) -> float:
    """The largest rise of any worker's peak RSS since reset_peaks, in MB."""
    return max(_status_kb(pid, "VmHWM") - kb for pid, kb in base.items()) / 1024


@dataclass
class Export:
    rows: int
    seconds: float
    first_byte_ms: float
    peak_growth_mb: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def measure_export(server, headers: dict[str, str], *, repeat: int = 2) -> Export:
    """Download the whole CSV `repeat` times, reading it as it streams; the fastest run for
    rows/s, the largest peak-RSS rise of any worker for memory."""
    best = None
    worst_growth = 0.0
    for _ in range(repeat):
        base = reset_peaks(server.worker_pids())
        parts = urlsplit(server.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        started = time.perf_counter()
        conn.request("GET", EXPORT_PATH, headers=headers)
        response = conn.getresponse()
        first = response.read(1)
        first_byte_ms = (time.perf_counter() - started) * 1000
        lines = first.count(b"\n")
        while chunk := response.read(65536):
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        conn.close()
        run = Export(max(lines - 1, 0), seconds, first_byte_ms, peak_growth_mb(base))
        worst_growth = max(worst_growth, run.peak_growth_mb)
        if best is None or run.seconds < best.seconds:
            best = run
    best.peak_growth_mb = worst_growth
    return best
