"""The targets a run is judged by: throughput against the bare view on the big database, page
times against the small one, and the CSV export's speed and memory."""

from dataclasses import dataclass

from bench.load import Load
from bench.measure import Export
from bench.size import SizeResult


@dataclass
class Target:
    name: str
    measured: str
    status: str  # PASS, FAIL or n/a


def evaluate(small: SizeResult, big: SizeResult) -> list[Target]:
    """The targets, measured on the big database against the bare view of the same run, and
    against the small database for the page times."""
    targets = []
    bare = big.load("bare")

    def share(key: str, label: str, minimum: float):
        load = big.load(key)
        if not (load and bare):
            targets.append(Target(f"{label} >= {minimum:.0%} of bare", big.why(key), "n/a"))
            return
        ratio = load.rps / bare.rps
        by_cpu = f"; by CPU {bare.cpu_ms / load.cpu_ms:.0%}" if load.cpu_ms and bare.cpu_ms else ""
        targets.append(
            Target(
                f"{label} throughput >= {minimum:.0%} of bare",
                f"{ratio:.0%} ({load.rps:,.0f} / {bare.rps:,.0f} req/s{by_cpu})",
                _verdict(ratio >= minimum, load),
            )
        )

    share("page1", "list page 1", 0.30)
    share("cold", "uncached list page", 0.30)
    share("api", "API list", 0.40)
    for key, label in (("page1", "page 1"), ("deep", f"page {big.deep_page:,}")):
        at_big, at_small = big.load(key), small.load(key)
        name = f"{label} time <= 2x at {small.clients:,} clients"
        if key == "deep":
            name += f" (page {small.deep_page:,})"
        if not (at_big and at_small):
            targets.append(Target(name, big.why(key), "n/a"))
            continue
        ratio = at_big.avg_ms / at_small.avg_ms
        # The two sizes run minutes apart: on a shared machine the load can change in between,
        # which moves latency but hardly the CPU a request costs.
        by_cpu = (
            f"; by CPU {at_big.cpu_ms / at_small.cpu_ms:.2f}x"
            if at_big.cpu_ms and at_small.cpu_ms
            else ""
        )
        targets.append(
            Target(
                name,
                f"{ratio:.2f}x ({at_big.avg_ms:.1f} / {at_small.avg_ms:.1f} ms{by_cpu})",
                _verdict(ratio <= 2, at_big, at_small),
            )
        )
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
