"""The table a run prints: each endpoint's figures at both sizes, the export, the dashboard
timed one request at a time, the in-process probe, then the targets."""

from bench.endpoints import LABELS, LITERAL_DEEP, WRITE_KEY, orders_deep_page
from bench.measure import Export
from bench.size import SizeResult
from bench.targets import Target
from bench.timing import TIMED, ServerTime

LABEL = 40  # the width of the first column


def _row(size: SizeResult, key: str) -> str:
    load, bare = size.load(key), size.load("bare")
    if load is None:
        return f" | {size.why(key):>13} {'':>7} {'':>7} {'':>7} {'':>6} {'':>6}"
    ratio = f"{load.rps / bare.rps:.0%}" if bare else "n/a"
    cpu = f"{load.cpu_ms:.2f}" if load.cpu_ms else "n/a"
    cpu_ratio = f"{bare.cpu_ms / load.cpu_ms:.0%}" if bare and load.cpu_ms else "n/a"
    flag = f" !{load.bad} errors" if load.bad else ""
    return (
        f" | {load.rps:>9,.0f} r/s {load.avg_ms:>7.1f} {load.p99_ms:>7.1f} {ratio:>7}"
        f" {cpu:>6} {cpu_ratio:>6}{flag}"
    )


def _last_page(items: int | None) -> str:
    return f"{min(LITERAL_DEEP, max(1, -(-items // 10))):,}" if items is not None else "?"


def _timed(timed: ServerTime | str) -> str:
    if isinstance(timed, str):
        return timed
    uncached = (
        f"uncached {timed.uncached:.1f} ms (max {max(timed.uncached_ms):.1f}, "
        f"n={len(timed.uncached_ms)})"
        if timed.uncached_ms
        else f"uncached {timed.note}"
    )
    bad = f", {timed.bad} not 200" if timed.bad else ""
    return f"{uncached}, cached {timed.cached:.1f} ms (n={len(timed.cached_ms)}){bad}"


def render(small: SizeResult, big: SizeResult, targets: list[Target], *, header: str) -> str:
    sizes = (small, big)
    lines = [header, ""]
    head = f"{'endpoint':<{LABEL}}"
    for size in sizes:
        head += (
            f" | {f'{size.clients:,} clients':>13} {'avg ms':>7} {'p99 ms':>7} {'vs bare':>7}"
            f" {'CPU ms':>6} {'by CPU':>6}"
        )
    lines += [head, "-" * len(head)]
    for key, label in LABELS.items():
        if key == WRITE_KEY:
            continue  # after the export, as it is measured
        lines.append(f"{label:<{LABEL}}" + "".join(_row(size, key) for size in sizes))
    row = f"{'CSV export (one download)':<{LABEL}}"
    for size in sizes:
        export = size.export
        if isinstance(export, Export):
            row += (
                f" | {export.rows_per_s:>7,.0f} rows/s, {export.seconds * 1000:,.0f} ms, first "
                f"byte {export.first_byte_ms:,.0f} ms, peak RSS +{export.peak_growth_mb:.1f} MB"
            )
        else:
            row += f" | {export or 'n/a':>13}"
    lines.append(row)
    lines.append(
        f"{LABELS[WRITE_KEY] + ' (last)':<{LABEL}}"
        + "".join(_row(size, WRITE_KEY) for size in sizes)
    )
    lines += ["", "* page=5000 is sent as it is; a page past the end is clamped to the last one:"]
    for size in sizes:
        p = size.probe
        lines.append(
            f"  {size.clients:>9,} clients: page {_last_page(size.clients)}, ?vip=1 page "
            f"{_last_page(p.get('vip_clients'))}, ?q=berg page "
            f"{_last_page(p.get('search_clients'))}; middle pages: list {size.deep_page:,}, "
            f"orders {orders_deep_page(size.orders):,} (25 a page)"
        )
    lines.append("Dashboard, one request at a time (median; uncached: cache emptied before each):")
    for size in sizes:
        lines.append(
            f"  {size.orders:>9,} orders: "
            + " | ".join(f"{path} {_timed(size.timed.get(key, 'n/a'))}" for key, path, _ in TIMED)
        )
    lines.append("In-process, one request's database work (median ms):")
    for size in sizes:
        p = size.probe
        literal = f"{p['literal_page1_ms']:,.0f} ms" if "literal_page1_ms" in p else "skipped"
        seek = f", from its anchor {p['seek_deep_ms']:.2f} ms" if "seek_deep_ms" in p else ""
        lines.append(
            f"  {size.clients:>9,} clients: COUNT(*) {p['count_ms']:.2f} ms "
            f"({p['counts_per_s']:,.0f}/s) | two steps: page 1 {p['two_step_page1_ms']:.2f} ms, "
            f"page {size.deep_page:,} {p['two_step_deep_ms']:.2f} ms (without the count "
            f"{p['page_only_deep_ms']:.2f} ms{seek}) | the spec's literal "
            f"annotate-then-paginate, page 1: {literal}"
        )
    lines.append(
        "Load average when measured: "
        + ", ".join(f"{s.clients:,} clients {s.load_average:.1f}" for s in sizes)
    )
    lines += ["", f"{'target':<68} {'result':<6} measured"]
    for target in targets:
        lines.append(f"{target.name:<68} {target.status:<6} {target.measured}")
    return "\n".join(lines)
