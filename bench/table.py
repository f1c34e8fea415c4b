"""The table a run prints: each endpoint's figures at both sizes, the export, the in-process
probe, then the targets."""

from bench.measure import Export
from bench.size import ENDPOINTS, SizeResult
from bench.targets import Target


def render(small: SizeResult, big: SizeResult, targets: list[Target], *, header: str) -> str:
    lines = [header, ""]
    head = f"{'endpoint':<30}"
    for size in (small, big):
        head += (
            f" | {f'{size.clients:,} clients':>13} {'avg ms':>7} {'p99 ms':>7} {'vs bare':>7}"
            f" {'CPU ms':>6} {'by CPU':>6}"
        )
    lines += [head, "-" * len(head)]
    for key, label, _ in ENDPOINTS:
        row = f"{label:<30}"
        for size in (small, big):
            load, bare = size.load(key), size.load("bare")
            if load is None:
                row += f" | {size.why(key):>13} {'':>7} {'':>7} {'':>7} {'':>6} {'':>6}"
                continue
            ratio = f"{load.rps / bare.rps:.0%}" if bare else "n/a"
            cpu = f"{load.cpu_ms:.2f}" if load.cpu_ms else "n/a"
            cpu_ratio = f"{bare.cpu_ms / load.cpu_ms:.0%}" if bare and load.cpu_ms else "n/a"
            flag = f" !{load.bad} errors" if load.bad else ""
            row += (
                f" | {load.rps:>9,.0f} r/s {load.avg_ms:>7.1f} {load.p99_ms:>7.1f} {ratio:>7}"
                f" {cpu:>6} {cpu_ratio:>6}{flag}"
            )
        lines.append(row)
    row = f"{'CSV export (one download)':<30}"
    for size in (small, big):
        export = size.export
        if isinstance(export, Export):
            row += (
                f" | {export.rows_per_s:>7,.0f} rows/s, {export.seconds * 1000:,.0f} ms, first "
                f"byte {export.first_byte_ms:,.0f} ms, peak RSS +{export.peak_growth_mb:.1f} MB"
            )
        else:
            row += f" | {export or 'n/a':>13}"
    lines += [row, ""]
    lines.append("In-process, one request's database work (median ms):")
    for size in (small, big):
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
        + ", ".join(f"{s.clients:,} clients {s.load_average:.1f}" for s in (small, big))
    )
    lines += ["", f"{'target':<58} {'result':<6} measured"]
    for target in targets:
        lines.append(f"{target.name:<58} {target.status:<6} {target.measured}")
    return "\n".join(lines)
