"""Which server topology serves Mini CRM's HTTP fastest on this machine? (issue 7)

Runs the same production settings and the same bin/ scripts as the stack, all three topologies
at once (idle while another is measured), and loads each in turn with wrk on the same endpoints,
interleaved, best of N rounds (compare ratios within one run only):

  proxy+gunicorn  nginx (bin/proxy) -> gunicorn (bin/web): the chosen topology
  gunicorn        gunicorn alone (bin/web): what nginx costs
  uvicorn         uvicorn alone for everything (bin/ws with 2 processes, uvloop + httptools)

Endpoints: /health/ (plain: no database, no template), /health/ready/ (one SELECT 1 and a Redis
write/read/delete), /accounts/login/ (a template, a CSRF cookie, the middleware stack).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mini_crm REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/topology.py [--duration 3] [--connections 8]

Short runs by default: the 2 cores are shared with the load generator (and, here, with other
work), so every figure is understated; only the ratios within one run mean anything.
"""

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = ["/health/", "/health/ready/", "/accounts/login/"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(state: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_BEHIND_PROXY="1",
        LOG_LEVEL="WARNING",
        STATIC_ROOT=str(ROOT / "var" / "bench-static"),
        MEDIA_ROOT=str(state / "media"),
        PROXY_RUNTIME_DIR=str(state / "proxy"),
        PROXY_WORKERS="1",
        BIND_HOST="127.0.0.1",
        WEB_CONCURRENCY="2",
        WEB_MAX_REQUESTS="1000000",  # no worker recycling in the middle of a measurement
    )
    return env


def collect_static(env: dict) -> None:
    """Once: the login page's {% static %} needs the manifest (production storage)."""
    if (Path(env["STATIC_ROOT"]) / "staticfiles.json").exists():
        return
    print("collecting static files once into var/bench-static ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def start(commands: list[list[str]], env: dict, probe_port: int) -> list[subprocess.Popen]:
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for command in commands
    ]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{probe_port}/health/ready/", timeout=2):
                return processes
        except OSError:
            time.sleep(0.3)
    stop(processes)
    raise SystemExit(f"the server on port {probe_port} did not become ready")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _tree(roots: list[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    found, todo = set(roots), list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def cpu_seconds(roots: frozenset[int]) -> float:
    """User + system CPU of these servers' process trees so far, reaped children included (a
    recycled gunicorn worker's time moves to its master's). CPU per request is the figure that
    survives a busy machine: throughput falls with contention, the work per request does not."""
    ticks = 0
    for pid in _tree(list(roots)):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(port: int, path: str, *, duration: int, connections: int, pids=frozenset()) -> dict:
    cpu_before = cpu_seconds(pids)
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(pids) - cpu_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "errors": int(errors.group(1)) if errors else 0,
        "cpu_ms": 1000 * cpu / requests if requests else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="best of N per cell")
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx", path=f"{os.environ['PATH']}:/usr/sbin"):
        raise SystemExit("needs wrk and nginx (apt-get install wrk nginx)")
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL, as in production")

    state = Path(tempfile.mkdtemp(prefix="mini-crm-topology-"))
    env = production_env(state)
    collect_static(env)
    web, proxy, ws = free_port(), free_port(), free_port()
    env.update(
        WEB_PORT=str(web),
        WS_PORT=str(ws),
        WEB_UPSTREAM=f"127.0.0.1:{web}",
        WS_UPSTREAM=f"127.0.0.1:{ws}",
        PROXY_LISTEN=f"127.0.0.1:{proxy}",
    )
    # All three at once, idle while another is measured: gunicorn alone and nginx->gunicorn share
    # the same gunicorn. Cells are interleaved and each is the best of --rounds, so a burst of
    # load from elsewhere on the machine hits every topology alike.
    processes = start([["bin/web"]], env, web)
    processes += start([["bin/proxy"]], env, proxy)
    processes += start([["bin/ws"]], {**env, "WS_CONCURRENCY": "2"}, ws)
    topologies = {"proxy+gunicorn": proxy, "gunicorn": web, "uvicorn": ws}
    gunicorn, nginx, uvicorn = (frozenset([process.pid]) for process in processes)
    pids = {"proxy+gunicorn": gunicorn | nginx, "gunicorn": gunicorn, "uvicorn": uvicorn}
    results: dict = {}  # (topology, path) -> one result per round
    try:
        for port in topologies.values():
            for path in ENDPOINTS:
                wrk(port, path, duration=1, connections=args.connections)  # warm every worker
        for round_ in range(args.rounds):
            for path in ENDPOINTS:
                for name, port in topologies.items():
                    result = wrk(
                        port,
                        path,
                        duration=args.duration,
                        connections=args.connections,
                        pids=pids[name],
                    )
                    print(f"round {round_ + 1} {name:15} {path:18} {result}", file=sys.stderr)
                    results.setdefault((name, path), []).append(result)
    finally:
        stop(processes)

    print(f"\nwrk -t1 -c{args.connections} -d{args.duration}s, best of {args.rounds} rounds,")
    print("2 gunicorn workers (sync) / 2 uvicorn processes (uvloop, httptools), nginx 1 worker,")
    print("production settings, PostgreSQL + Redis. Best req/s and lowest server CPU time per")
    print("request (all the servers' processes: nginx + gunicorn master and workers, uvicorn).")
    print(f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.\n")

    def best(name, path, key):
        values = [r[key] for r in results[name, path]]
        return max(values) if key == "rps" else min(values)

    print("| endpoint | " + " | ".join(topologies) + " | uvicorn ÷ proxy+gunicorn |")
    print("| --- | " + " | ".join("---:" for _ in topologies) + " | ---: |")
    for path in ENDPOINTS:
        cells = [
            f"{best(name, path, 'rps'):,.0f} req/s, {best(name, path, 'cpu_ms'):.2f} ms CPU"
            for name in topologies
        ]
        ratio = best("uvicorn", path, "cpu_ms") / best("proxy+gunicorn", path, "cpu_ms")
        print(f"| `{path}` | " + " | ".join(cells) + f" | {ratio:.1f}× the CPU |")
    bad = {key: sum(r["errors"] for r in runs) for key, runs in results.items()}
    bad = {key: count for key, count in bad.items() if count}
    if bad:
        print(f"\nnon-2xx/3xx responses: {bad}")
    shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
