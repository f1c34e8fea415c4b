"""Benchmark: importing 100,000 clients and 100,000 orders from CSV and .xlsx (issue 15), and
django-import-export on the same clients CSV, on one PostgreSQL database in one run.

    make bench-imports                      # or: .venv/bin/python -m bench.imports [--rows N]
    .venv/bin/python -m bench.imports --strict --json var/bench/imports.json

Generates the four files in a temporary folder, creates the database if missing (its clients,
orders and imports are REPLACED), migrates it, then runs each case in a fresh child process
with production settings (DJANGO_DEBUG=0, a random secret key, no Redis: local-memory cache,
in-memory channel layer, eager tasks), so each peak RSS is the import's own:

- preview: services.import_create + services.import_check (reads and checks every row);
- commit:  services.import_commit (checks the file again, writes in one transaction);
- revert:  services.import_revert, timed for information, outside the memory window.

The clients cases start from an empty database; the orders cases from the clients present
(imported by the service, not measured) and no orders. Nothing here is a test; it prints a
table (bench/README.md, "Imports").
"""

import argparse
import csv
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import ROOT
from bench.seed import DOMAINS, FIRST, LAST, STATUSES, TITLES, VIP_DOMAIN, ascii_slug
from bench.server import child_env

DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mini_crm_bench_imports"
CEILINGS = {"preview_s": 10.0, "commit_s": 20.0, "rss_mb": 150.0}  # the issue's, per case
CASES = [("clients", "csv"), ("clients", "xlsx"), ("orders", "csv"), ("orders", "xlsx")]
# The order rows' status cells: the codes and the labels people type (Order.Status).
STATUS_LABELS = {"NEW": "New", "IN_PROGRESS": "In progress", "DONE": "Done"}
SPAN_DAYS = 730
PLACES = ["", "", "", " – Zürich office", " (Kraków)", " — São Paulo"]
# django-import-export's variants: (key, label, ModelResource Meta options). The first is the
# fast path its documentation points to; the second validates like for like (full_clean per
# row, as our import checks every row with the form's and model's rules); the third is the
# default a user starts from, without bulk (one save, and one savepoint, per row). The last two
# take minutes at 100,000 rows (~2-5 ms a row on this machine): they run on the first
# --iie-small-rows rows of the same file, and the table says so.
IIE_SLOW = {"bulk_clean", "default"}
IIE_VARIANTS = [
    ("bulk", "use_bulk=True", {"use_bulk": True}),
    (
        "bulk_clean",
        "use_bulk=True, clean_model_instances=True",
        {"use_bulk": True, "clean_model_instances": True},
    ),
    ("default", "default (no bulk)", {}),
]


# --- The files (parent process, no Django) --------------------------------------------------


def client_rows(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(name, email, phone): names with non-ASCII letters, unique lowercased ASCII emails (the
    i-th carries i), 1 in 50 at the VIP domain, phones in the shapes people write, 1 in 5
    blank."""
    shapes = [
        lambda: f"+49 30 {rng.randint(1_000_000, 9_999_999)}",
        lambda: f"(030) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        lambda: f"+1 415 555 {rng.randint(1000, 9999)}",
        lambda: f"0{rng.randint(100_000_000, 999_999_999)}",
    ]
    rows = []
    for i in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        domain = VIP_DOMAIN if i % 50 == 0 else rng.choice(DOMAINS)
        phone = rng.choice(shapes)() if rng.random() < 0.8 else ""
        rows.append((name, f"{ascii_slug(name)}.{i}@{domain}", phone))
    return rows


def order_rows(count: int, emails: list[str], rng: random.Random) -> list[tuple]:
    """(client email, title, cents, status text, created at): random clients, amounts
    1.00-4,999.99, statuses as codes or labels, dates over the last two years."""
    now = datetime.datetime.now().replace(microsecond=0)
    rows = []
    for _ in range(count):
        status = rng.choice(STATUSES)
        if rng.random() < 0.5:
            status = STATUS_LABELS[status]
        created = now - datetime.timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
        rows.append(
            (
                rng.choice(emails),
                rng.choice(TITLES) + rng.choice(PLACES),
                rng.randint(100, 499_999),
                status,
                created,
            )
        )
    return rows


def amount_text(cents: int, n: int) -> str:
    """Half as '1234.56', half as a European spreadsheet writes it: '1 234,56'."""
    units, rest = divmod(cents, 100)
    if n % 2:
        return f"{units}.{rest:02}"
    return f"{units:,}".replace(",", " ") + f",{rest:02}"


def date_text(value: datetime.datetime, n: int) -> str:
    """ISO, or the day-first forms a European Excel writes, with and without the time."""
    shape = n % 4
    if shape < 2:
        return value.isoformat(sep=" ")
    if shape == 2:
        return value.strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y")


CLIENT_HEADER = ["name", "email", "phone"]  # django-import-export reads the field names
ORDER_HEADER = ["Client email", "Title", "Amount", "Status", "Created at"]


def write_csv(path: Path, header: list[str], rows) -> Path:
    # UTF-8 without BOM: tablib would read a BOM into the first header ("\ufeffname").
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows, *, dimension: bool = False) -> Path:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    count = 1
    for row in rows:
        sheet.append(row)
        count += 1
    workbook.save(path)
    if dimension:
        add_dimension(path, f"A1:{chr(ord('A') + len(header) - 1)}{count}")
    return path


def add_dimension(path: Path, ref: str) -> None:
    """Give the first sheet the <dimension> Excel writes and openpyxl's write_only mode leaves
    out. Without it, openpyxl's read_only load_workbook parses the whole sheet to size it."""
    import zipfile

    sheet = "xl/worksheets/sheet1.xml"
    rewritten = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == sheet:
                data = data.replace(
                    b"</sheetPr>", f'</sheetPr><dimension ref="{ref}"/>'.encode(), 1
                )
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    rewritten.replace(path)


def generate(
    folder: Path, *, rows: int, small_rows: int, xlsx_dimension: bool = False, seed: int = 15
) -> dict[str, Path]:
    """The four files, and the first `small_rows` clients as a CSV of their own (for the
    variant of django-import-export too slow to run at full size)."""
    rng = random.Random(seed)
    clients = client_rows(rows, rng)
    orders = order_rows(rows, [email for _, email, _ in clients], rng)
    order_csv = (
        (email, title, amount_text(cents, n), status, date_text(created, n))
        for n, (email, title, cents, status, created) in enumerate(orders)
    )
    # In the workbook the amounts and dates are cells of their types, as Excel keeps them.
    order_xlsx = (
        (email, title, cents / 100, status, created)
        for email, title, cents, status, created in orders
    )
    return {
        "clients_csv": write_csv(folder / "clients.csv", CLIENT_HEADER, clients),
        "clients_xlsx": write_xlsx(
            folder / "clients.xlsx", CLIENT_HEADER, clients, dimension=xlsx_dimension
        ),
        "orders_csv": write_csv(folder / "orders.csv", ORDER_HEADER, order_csv),
        "orders_xlsx": write_xlsx(
            folder / "orders.xlsx", ORDER_HEADER, order_xlsx, dimension=xlsx_dimension
        ),
        "clients_small_csv": write_csv(
            folder / f"clients-{small_rows}.csv", CLIENT_HEADER, clients[:small_rows]
        ),
    }


# --- The database and the child processes (parent) ------------------------------------------


def create_if_missing(database_url: str) -> None:
    if not database_url.startswith(("postgres://", "postgresql://")):
        return  # SQLite creates its file itself
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


class Children:
    """Runs each step in a fresh `python -m bench.imports --child SPEC`."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT, env=self.env, check=True,
        )  # fmt: skip

    def __call__(self, spec: dict) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "bench.imports", "--child", json.dumps(spec)],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            sys.stderr.write(done.stderr)
            raise SystemExit(f"bench.imports: the child for {spec['action']} failed")
        return json.loads(done.stdout.strip().splitlines()[-1])


def in_process(spec: dict) -> dict:
    """The same steps in this process, Django already set up (the smoke test): no memory of
    its own, so its RSS figures are only indicative."""
    return child(spec)


# --- The steps (child process, Django set up) -----------------------------------------------


class Peak:
    """The rise of this process's peak RSS from now on.

    VmHWM (the kernel's high-water mark of the resident set) reset with
    `echo 5 > /proc/self/clear_refs`, which sets it to the current VmRSS: the figure is then
    exactly the growth over the measured work, whatever the process touched before (Django's
    setup, the database reset). Where clear_refs cannot be written, ru_maxrss before and after
    (it cannot be reset): a lower bound when the process peaked higher before than it now
    holds, so `method` says which was used."""

    def __init__(self):
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.method, self.base_kb = "VmHWM", _status_kb("VmRSS")
        except OSError:
            self.method = "ru_maxrss"
            self.base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def growth_mb(self) -> float:
        if self.method == "VmHWM":
            peak = _status_kb("VmHWM")
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        return max(peak - self.base_kb, 0) / 1024


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise OSError(f"no {key} in /proc/self/status")


class Clock:
    """Wall and CPU seconds of this process since the last lap, and the CPU seconds of its
    PostgreSQL backend (read from /proc/<pid>/stat when the server runs on this machine)."""

    def __init__(self):
        self.backend = _backend_stat()
        self.wall, self.cpu, self.db = time.perf_counter(), time.process_time(), self._db()

    def _db(self) -> float | None:
        if self.backend is None:
            return None
        try:
            fields = self.backend.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def lap(self) -> tuple[float, float, float | None]:
        wall, cpu, db = time.perf_counter(), time.process_time(), self._db()
        laps = wall - self.wall, cpu - self.cpu, None if db is None else db - self.db
        self.wall, self.cpu, self.db = wall, cpu, db
        return laps


def _backend_stat() -> Path | None:
    from django.db import connection

    if connection.vendor != "postgresql" or connection.settings_dict["HOST"] not in (
        "127.0.0.1", "localhost", "", "::1"
    ):  # fmt: skip
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    path = Path(f"/proc/{pid}/stat")
    return path if path.exists() else None


def reset(*, keep_clients: bool) -> None:
    """Empty the imports and the orders (and the clients unless kept). TRUNCATE on PostgreSQL:
    its statement triggers zero the roll-ups the orders fed; then VACUUM ANALYZE, so every
    case finds the tables in the same shape."""
    from django.db import connection

    from clients.models import Client, Order
    from imports.models import Import, ImportRecord

    models = [ImportRecord, Import, Order] + ([] if keep_clients else [Client])
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            # Autocommit: VACUUM cannot run in a transaction.
            cursor.execute(f"VACUUM ANALYZE {Client._meta.db_table}, {Order._meta.db_table}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def bench_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-imports")
    return user


def _upload(path: str):
    from django.core.files import File

    return File(open(path, "rb"), name=Path(path).name)  # the caller closes it


def setup_clients(spec: dict) -> dict:
    """The orders cases' clients: imported by the service itself, not measured."""
    from imports import services

    reset(keep_clients=False)
    upload = _upload(spec["file"])
    try:
        batch = services.import_create(user=bench_user(), kind="clients", upload=upload)
    finally:
        upload.close()
    batch = services.import_commit(import_id=batch.pk)
    return {"status": batch.status, "created": batch.created, "message": batch.message}


def measure_case(spec: dict) -> dict:
    """One case: preview, commit (timed, and the peak RSS growth over both), then revert."""
    from clients.models import Client, Order
    from imports import services

    kind = spec["kind"]
    reset(keep_clients=kind == "orders")
    model = Client if kind == "clients" else Order
    before = model.objects.count()
    user = bench_user()
    profiler = _profiler(spec)
    # What a running worker holds already (its code) is loaded before the measure starts.
    import openpyxl  # noqa: F401

    peak = Peak()
    clock = Clock()
    upload = _upload(spec["file"])
    try:
        batch = services.import_create(user=user, kind=kind, upload=upload)
    finally:
        upload.close()
    batch = services.import_check(import_id=batch.pk)
    preview_s, preview_cpu, preview_db = clock.lap()
    preview_rss = peak.growth_mb()
    checked = {"rows": batch.rows, "invalid": batch.invalid, "planned": batch.created}
    errors = batch.errors[:3]
    batch = services.import_commit(import_id=batch.pk)
    commit_s, commit_cpu, commit_db = clock.lap()
    rss = peak.growth_mb()
    if profiler:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    saved = model.objects.count() - before
    status, message = batch.status, batch.message
    reverted_s = None
    if status == "done":
        services.import_revert(import_id=batch.pk, user=user)
        reverted_s, _cpu, _db = clock.lap()
    return {
        "case": f"{kind} {spec['format']}",
        "kind": kind,
        "format": spec["format"],
        "rows": checked["rows"],
        "invalid": checked["invalid"],
        "planned": checked["planned"],
        "errors": errors,
        "status": status,
        "message": message,
        "saved": saved,
        "preview_s": preview_s,
        "preview_cpu_s": preview_cpu,
        "preview_db_cpu_s": preview_db,
        "commit_s": commit_s,
        "commit_cpu_s": commit_cpu,
        "commit_db_cpu_s": commit_db,
        "preview_rss_mb": preview_rss,
        "rss_mb": rss,
        "rss_method": peak.method,
        "revert_s": reverted_s,
        "file_mb": Path(spec["file"]).stat().st_size / 1024 / 1024,
    }


def _profiler(spec: dict):
    if not spec.get("profile"):
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def measure_import_export(spec: dict) -> dict:
    """django-import-export on the clients CSV: its preview (import_data(dry_run=True), which
    writes in a transaction it rolls back) and its commit (dry_run=False), each after loading
    the file into a tablib.Dataset as its admin does on each step."""
    import tablib
    from import_export import __version__, resources

    from clients.models import Client

    reset(keep_clients=False)
    options = {
        "model": Client,
        "fields": ("name", "email", "phone"),
        "import_id_fields": ["email"],
        **spec["options"],
    }
    resource = type(
        "ClientResource", (resources.ModelResource,), {"Meta": type("Meta", (), options)}
    )()

    def load() -> tablib.Dataset:
        with open(spec["file"], encoding="utf-8") as file:
            return tablib.Dataset().load(file.read(), format="csv")

    peak = Peak()
    clock = Clock()
    dataset = load()
    load_s, _cpu, _db = clock.lap()
    preview = resource.import_data(dataset, dry_run=True)
    dry_run_s, _cpu, _db = clock.lap()
    after_dry_run = Client.objects.count()
    dataset = load()
    reload_s, _cpu, _db = clock.lap()
    result = resource.import_data(dataset, dry_run=False)
    import_s, _cpu, _db = clock.lap()
    return {
        "variant": spec["variant"],
        "version": __version__,
        "rows": len(dataset),
        "load_s": load_s,
        "dry_run_s": dry_run_s,
        "import_s": import_s,
        "preview_s": load_s + dry_run_s,
        "commit_s": reload_s + import_s,
        "saved_after_dry_run": after_dry_run,
        "saved": Client.objects.count(),
        "vip": Client.objects.filter(vip=True).count(),
        "totals": dict(result.totals),
        "dry_run_totals": dict(preview.totals),
        "has_errors": result.has_errors() or preview.has_errors(),
        "validated": bool(spec["options"].get("clean_model_instances")),
        "rss_mb": peak.growth_mb(),
        "rss_method": peak.method,
    }


ACTIONS = {
    "case": measure_case,
    "setup_clients": setup_clients,
    "import_export": measure_import_export,
}


def child(spec: dict) -> dict:
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from django.db import connection

    return {**ACTIONS[spec["action"]](spec), "vendor": connection.vendor}


# --- The run, the table ---------------------------------------------------------------------


def verdict(case: dict) -> str:
    ok = (
        case["status"] == "done"
        and case["saved"] == case["rows"]
        and case["preview_s"] <= CEILINGS["preview_s"]
        and case["commit_s"] <= CEILINGS["commit_s"]
        and case["rss_mb"] <= CEILINGS["rss_mb"]
    )
    return "PASS" if ok else "FAIL"


def _cpu(case: dict, step: str) -> str:
    db = case.get(f"{step}_db_cpu_s")
    return f"{case[f'{step}_cpu_s']:.1f} + {'?' if db is None else f'{db:.1f}'}"


def render(result: dict) -> str:
    meta = result["meta"]
    lines = [
        f"Imports bench, {meta['when']}: {meta['database']}, DJANGO_DEBUG=0, each case in "
        f"{'a fresh child process' if not meta['in_process'] else 'this process (smoke run)'};"
        f" {meta['cores']} cores, load average {meta['load_before']:.1f} before, "
        f"{meta['load_after']:.1f} after",
        "",
        f"{'case':<13}{'rows':>9} {'preview s':>10} {'commit s':>9} {'peak RSS +MB':>13}"
        f" {'result':<7}{'saved':>9}   {'CPU s: preview app+db':<22}{'commit app+db':<15}"
        f"{'revert s':>9} {'file MB':>8}",
        f"{'(ceiling)':<13}{'':>9} {CEILINGS['preview_s']:>10.0f} {CEILINGS['commit_s']:>9.0f}"
        f" {CEILINGS['rss_mb']:>13.0f}",
    ]
    for case in result["cases"]:
        revert = f"{case['revert_s']:.1f}" if case["revert_s"] is not None else "-"
        lines.append(
            f"{case['case']:<13}{case['rows']:>9,} {case['preview_s']:>10.2f}"
            f" {case['commit_s']:>9.2f} {case['rss_mb']:>13.1f} {case['verdict']:<7}"
            f"{case['saved']:>9,}   {_cpu(case, 'preview'):<22}{_cpu(case, 'commit'):<15}"
            f"{revert:>9} {case['file_mb']:>8.1f}"
        )
        if case["status"] != "done" or case["invalid"]:
            lines.append(
                f"    {case['status']}: {case['invalid']:,} invalid rows; {case['message']}"
                f" {case['errors']}"
            )
    lines.append(
        f"peak RSS from {result['cases'][0]['rss_method'] if result['cases'] else '-'}"
        " (reset before the preview); CPU: the import's process + its PostgreSQL backend;"
        " .xlsx written by openpyxl's write_only mode, "
        + ("<dimension> added as Excel writes it" if meta["xlsx_dimension"] else "no <dimension>")
    )
    if result["import_export"]:
        ours = {c["case"]: c for c in result["cases"]}.get("clients csv")
        lines += [
            "",
            f"django-import-export {result['import_export'][0]['version']} on the same clients"
            " CSV, same database, same run (preview = tablib load + import_data(dry_run=True),"
            " commit = load + import_data(dry_run=False)):",
        ]
        for run in result["import_export"]:
            totals = run["totals"]
            per_100k = ""
            if run["rows"] < (ours["rows"] if ours else run["rows"]):
                scale = ours["rows"] / run["rows"]
                per_100k = (
                    f" (at {run['rows']:,} rows: too slow for {ours['rows']:,}; at that rate "
                    f"~{run['preview_s'] * scale:,.0f} s + ~{run['commit_s'] * scale:,.0f} s)"
                )
            lines.append(
                f"  {run['label']:<44}{run['rows']:>8,} rows: preview {run['preview_s']:>6.1f} s,"
                f" commit {run['commit_s']:>6.1f} s, peak RSS +{run['rss_mb']:,.0f} MB; saved"
                f" {run['saved']:,} (new {totals.get('new', 0):,}, invalid"
                f" {totals.get('invalid', 0):,}, error {totals.get('error', 0):,}), VIP rule"
                f" applied to {run['vip']:,}; validated with the model's rules:"
                f" {'yes (full_clean)' if run['validated'] else 'no'}{per_100k}"
            )
        if ours:
            lines.append(
                f"  {'Mini CRM import (the row above)':<44}{ours['rows']:>8,} rows: preview"
                f" {ours['preview_s']:>6.1f} s, commit {ours['commit_s']:>6.1f} s, peak RSS"
                f" +{ours['rss_mb']:,.0f} MB; saved {ours['saved']:,}; validated with the form's"
                " and the model's rules: yes"
            )
    return "\n".join(lines)


def run(args, runner) -> dict:
    folder = Path(args.tmp)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    say(f"generating {args.rows:,} client rows and {args.rows:,} order rows (CSV and .xlsx)")
    files = generate(
        folder,
        rows=args.rows,
        small_rows=min(args.iie_small_rows or args.rows, args.rows),
        xlsx_dimension=args.xlsx_dimension,
    )
    say(f"  done in {time.perf_counter() - started:.1f} s")
    cases, iie = [], []

    def case(kind: str, fmt: str) -> None:
        say(f"{kind} {fmt}: preview, commit, revert")
        spec = {"action": "case", "kind": kind, "format": fmt, "file": str(files[f"{kind}_{fmt}"])}
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            spec["profile"] = str(args.profile / f"{kind}-{fmt}.prof")
        figures = runner(spec)
        figures["verdict"] = verdict(figures)
        cases.append(figures)
        say(
            f"  preview {figures['preview_s']:.2f} s, commit {figures['commit_s']:.2f} s, "
            f"peak RSS +{figures['rss_mb']:.1f} MB, {figures['status']}"
        )

    for fmt in ("csv", "xlsx"):
        if f"clients-{fmt}" in args.cases:
            case("clients", fmt)
    if not args.no_import_export:
        for key, label, options in IIE_VARIANTS:
            if key not in args.iie:
                continue
            small = key in IIE_SLOW and 0 < args.iie_small_rows < args.rows
            say(f"django-import-export {label}{' (small file)' if small else ''}")
            figures = runner(
                {
                    "action": "import_export",
                    "variant": key,
                    "options": options,
                    "file": str(files["clients_small_csv" if small else "clients_csv"]),
                }
            )
            figures["label"] = label
            iie.append(figures)
            say(f"  preview {figures['preview_s']:.1f} s, commit {figures['commit_s']:.1f} s")
    orders = [fmt for fmt in ("csv", "xlsx") if f"orders-{fmt}" in args.cases]
    if orders:
        say("clients for the orders cases (imported, not measured)")
        setup = runner({"action": "setup_clients", "file": str(files["clients_csv"])})
        if setup["status"] != "done":
            raise SystemExit(f"bench.imports: the clients' import failed: {setup['message']}")
    for fmt in orders:
        case("orders", fmt)
    vendor = cases[0]["vendor"] if cases else "?"
    return {
        "meta": {
            "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "database": "PostgreSQL" if vendor == "postgresql" else vendor,
            "in_process": runner is in_process,
            "cores": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "rows": args.rows,
            "xlsx_dimension": args.xlsx_dimension,
            "seconds": time.perf_counter() - started,
        },
        "ceilings": CEILINGS,
        "cases": cases,
        "import_export": iie,
        "passed": all(c["verdict"] == "PASS" for c in cases),
    }


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per file")
    parser.add_argument(
        "--db-url", default=os.environ.get("BENCH_IMPORTS_DATABASE_URL", DEFAULT_DB_URL),
        help="created if missing; its clients, orders and imports are REPLACED",
    )  # fmt: skip
    parser.add_argument(
        "--iie", nargs="*", default=[key for key, _l, _o in IIE_VARIANTS],
        choices=[key for key, _l, _o in IIE_VARIANTS],
        help="django-import-export variants to time",
    )  # fmt: skip
    parser.add_argument(
        "--iie-small-rows", type=int, default=10_000,
        help="rows for its slow variants (full_clean, no bulk): minutes at 100,000; 0: all",
    )  # fmt: skip
    parser.add_argument(
        "--xlsx-dimension", action="store_true",
        help="write the sheet's <dimension> as Excel does (openpyxl's write_only mode does not)",
    )  # fmt: skip
    parser.add_argument(
        "--cases", nargs="*", default=[f"{kind}-{fmt}" for kind, fmt in CASES],
        choices=[f"{kind}-{fmt}" for kind, fmt in CASES],
    )  # fmt: skip
    parser.add_argument("--no-import-export", action="store_true")
    parser.add_argument("--profile", type=Path, help="write each case's cProfile stats here")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a ceiling fails")
    parser.add_argument(
        "--in-process", action="store_true",
        help="run the steps in this process, on its Django database (the smoke test)",
    )  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    with tempfile.TemporaryDirectory(prefix="mini-crm-bench-imports-") as tmp:
        args.tmp = tmp
        if args.in_process:
            runner = in_process
        else:
            create_if_missing(args.db_url)
            # The uploads the imports keep go to the temporary folder.
            runner = Children(child_env(args.db_url, media_root=Path(tmp) / "media"))
            say(f"migrating {urlsplit(args.db_url).path.lstrip('/') or args.db_url}")
            runner.migrate()
        result = run(args, runner)
    print(render(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 1 if args.strict and not result["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
