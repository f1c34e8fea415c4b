"""The targets a run is judged by: throughput against the bare views on the big database, page
times against the small one, the dashboard's server time, order creation against an earlier
run (--baseline), and the CSV export's speed and memory."""

from dataclasses import dataclass

from bench.endpoints import PAGE_TIME_TARGETS, WRITE_KEY, orders_deep_page
from bench.load import Load
from bench.measure import Export
from bench.size import SizeResult
from bench.timing import ServerTime

DASHBOARD_UNCACHED_MS, DASHBOARD_CACHED_MS = 50, 5
WRITE_SHARE = 0.90  # order creation with the roll-ups kept, against the baseline run's


@dataclass
class Target:
    name: str
    measured: str
    status: str  # PASS, FAIL or n/a


def evaluate(small: SizeResult, big: SizeResult, *, baseline: dict | None = None) -> list:
    """The targets, measured on the big database against the bare views of the same run, and
    against the small database for the page times."""
    targets = [
        _share(big, "page1", "list page 1", 0.30, "bare"),
        _share(big, "cold", "uncached list page", 0.40, "bare_login"),
        _share(big, "api", "API list", 0.40, "bare"),
        _page_time(small, big, "page1", f"page 1 time <= 2x at {small.clients:,} clients"),
        _page_time(
            small,
            big,
            "deep",
            f"page {big.deep_page:,} time <= 2x at {small.clients:,} clients "
            f"(page {small.deep_page:,})",
        ),
    ]
    for key, label, unit in PAGE_TIME_TARGETS:
        at = f"{small.clients:,} clients" if unit == "clients" else f"{small.orders:,} orders"
        if key == "orders_deep":  # the middle page of each size, as the list's deep page
            label = f"orders page {orders_deep_page(big.orders):,}"
            at += f" (page {orders_deep_page(small.orders):,})"
        targets.append(_page_time(small, big, key, f"{label} time <= 2x at {at}"))
    targets += _dashboard(big)
    targets.append(_write(big, baseline))
    targets += _export(small, big)
    return targets


def _by_cpu(numerator: Load, denominator: Load, fmt: str) -> str:
    if numerator.cpu_ms and denominator.cpu_ms:
        return f"; by CPU {format(denominator.cpu_ms / numerator.cpu_ms, fmt)}"
    return ""


def _share(big: SizeResult, key: str, label: str, minimum: float, ceiling: str) -> Target:
    """`key`'s req/s over the `ceiling` bare view's, with the no-login bare view's share too
    when the ceiling is another."""
    of = "bare" if ceiling == "bare" else "bare view logged in"
    name = f"{label} throughput >= {minimum:.0%} of {of}"
    load, top = big.load(key), big.load(ceiling)
    if not (load and top):
        return Target(name, big.why(key) if not load else big.why(ceiling), "n/a")
    ratio = load.rps / top.rps
    measured = f"{ratio:.0%} ({load.rps:,.0f} / {top.rps:,.0f} req/s{_by_cpu(load, top, '.0%')})"
    bare = big.load("bare")
    if ceiling != "bare" and bare:
        measured += f"; of the no-login bare {load.rps / bare.rps:.0%}"
    return Target(name, measured, _verdict(ratio >= minimum, load))


def _page_time(small: SizeResult, big: SizeResult, key: str, name: str) -> Target:
    at_big, at_small = big.load(key), small.load(key)
    if not (at_big and at_small):
        return Target(name, big.why(key) if not at_big else small.why(key), "n/a")
    ratio = at_big.avg_ms / at_small.avg_ms
    # The two sizes run minutes apart: on a shared machine the load can change in between,
    # which moves latency but hardly the CPU a request costs.
    by_cpu = (
        f"; by CPU {at_big.cpu_ms / at_small.cpu_ms:.2f}x"
        if at_big.cpu_ms and at_small.cpu_ms
        else ""
    )
    return Target(
        name,
        f"{ratio:.2f}x ({at_big.avg_ms:.1f} / {at_small.avg_ms:.1f} ms{by_cpu})",
        _verdict(ratio <= 2, at_big, at_small),
    )


def _dashboard(big: SizeResult) -> list[Target]:
    timed = big.timed.get("dashboard", "n/a")
    at = f"{big.orders:,} orders"
    names = (
        f"dashboard uncached <= {DASHBOARD_UNCACHED_MS} ms at {at}",
        f"dashboard cached <= {DASHBOARD_CACHED_MS} ms at {at}",
    )
    if not isinstance(timed, ServerTime):
        return [Target(name, timed, "n/a") for name in names]
    targets = []
    for name, samples, limit in (
        (names[0], timed.uncached_ms, DASHBOARD_UNCACHED_MS),
        (names[1], timed.cached_ms, DASHBOARD_CACHED_MS),
    ):
        if not samples:
            targets.append(Target(name, timed.note or "n/a", "n/a"))
            continue
        median = sorted(samples)[len(samples) // 2]
        measured = f"{median:.1f} ms median of {len(samples)} (max {max(samples):.1f} ms)"
        if timed.bad:
            status = "FAIL"
            measured += f"; {timed.bad} answers not 200"
        else:
            status = "PASS" if median <= limit else "FAIL"
        targets.append(Target(name, measured, status))
    return targets


def _write(big: SizeResult, baseline: dict | None) -> Target:
    name = f"create order throughput >= {WRITE_SHARE:.0%} of the baseline run's"
    load = big.load(WRITE_KEY)
    if not load:
        return Target(name, big.why(WRITE_KEY), "n/a")
    if baseline is None:
        return Target(name, f"{load.rps:,.0f} orders/s; no --baseline to compare with", "n/a")
    size = baseline["sizes"][-1]
    before = size["loads"].get(WRITE_KEY)
    if size["clients"] != big.clients or size["orders"] != big.orders:
        return Target(name, f"the baseline is {size['clients']:,} clients, not this size", "n/a")
    if not isinstance(before, dict):
        return Target(name, f"the baseline has no figure: {before or 'n/a'}", "n/a")
    ratio = load.rps / before["rps"]
    measured = f"{ratio:.0%} ({load.rps:,.0f} / {before['rps']:,.0f} orders/s"
    cpu_before = (before.get("app_cpu_ms") or 0) + (before.get("db_cpu_ms") or 0)
    if load.cpu_ms and cpu_before:
        measured += f"; CPU ms {load.cpu_ms:.2f} / {cpu_before:.2f}"
    bare, bare_before = big.load("bare"), size["loads"].get("bare")
    if bare and isinstance(bare_before, dict):
        # Runs hours apart on a shared machine: each run's own bare view as the yardstick.
        measured += f"; of each run's bare {load.rps / bare.rps:.0%} / "
        measured += f"{before['rps'] / bare_before['rps']:.0%}"
    return Target(name, measured + ")", _verdict(ratio >= WRITE_SHARE, load))


def _export(small: SizeResult, big: SizeResult) -> list[Target]:
    targets = []
    if isinstance(big.export, Export):
        targets.append(
            Target(
                "export >= 40,000 rows/s",
                f"{big.export.rows_per_s:,.0f} rows/s ({big.export.rows:,} rows)",
                "PASS" if big.export.rows_per_s >= 40_000 else "FAIL",
            )
        )
    else:
        targets.append(Target("export >= 40,000 rows/s", big.export or "n/a", "n/a"))
    if isinstance(big.export, Export) and isinstance(small.export, Export):
        extra = big.export.peak_growth_mb - small.export.peak_growth_mb
        targets.append(
            Target(
                f"export peak RSS {big.clients:,} rows < {small.clients:,} rows + 30 MB",
                f"+{extra:.1f} MB (+{big.export.peak_growth_mb:.1f} vs "
                f"+{small.export.peak_growth_mb:.1f} MB)",
                "PASS" if extra < 30 else "FAIL",
            )
        )
    else:
        targets.append(Target("export peak RSS growth < 30 MB", big.export or "n/a", "n/a"))
    return targets


def _verdict(ok: bool, *loads: Load) -> str:
    if any(load.bad for load in loads):
        return "FAIL"  # errors under load are a failure whatever the speed
    return "PASS" if ok else "FAIL"
