"""bench.imports at 200 rows, in this process on the test database: the files it writes, the
four cases and django-import-export's lines, the table, the JSON and --strict. Not a
measure: the figures at this size mean nothing."""

import csv
import json

import pytest

from bench import imports as bench_imports

# The cases commit (transaction.atomic) and the reset TRUNCATEs: a real transaction each.
pytestmark = pytest.mark.django_db(transaction=True)


def test_bench_runs_every_case_and_django_import_export_at_200_rows(tmp_path, capsys):
    out = tmp_path / "imports.json"
    argv = ["--rows", "200", "--iie-small-rows", "50", "--in-process", "--strict"]
    assert bench_imports.main([*argv, "--json", str(out)]) == 0

    result = json.loads(out.read_text())
    cases = {case["case"]: case for case in result["cases"]}
    assert list(cases) == ["clients csv", "clients xlsx", "orders csv", "orders xlsx"]
    for case in cases.values():
        assert case["status"] == "done", case["message"]
        assert case["rows"] == case["saved"] == 200
        assert case["invalid"] == 0
        assert case["verdict"] == "PASS"
        assert case["rss_mb"] >= 0
        assert case["revert_s"] is not None  # reverted, so the next case starts afresh
    runs = {run["variant"]: run for run in result["import_export"]}
    assert set(runs) == {"bulk", "bulk_clean", "default"}
    assert runs["bulk"]["rows"] == runs["bulk"]["saved"] == 200
    assert runs["bulk"]["saved_after_dry_run"] == 0  # its preview rolled back
    assert runs["default"]["rows"] == runs["default"]["saved"] == 50  # the small file
    assert runs["bulk_clean"]["validated"]
    assert not runs["bulk"]["validated"]
    assert result["passed"]

    table = capsys.readouterr().out
    assert "clients xlsx" in table
    assert "django-import-export 4.4.3" in table
    assert "at 50 rows: too slow for 200" in table


def test_generated_files_hold_realistic_rows(tmp_path):
    files = bench_imports.generate(tmp_path, rows=300, small_rows=20, xlsx_dimension=True)
    with files["clients_csv"].open(encoding="utf-8") as file:
        clients = list(csv.reader(file))
    assert clients[0] == ["name", "email", "phone"]
    emails = [row[1] for row in clients[1:]]
    assert len(set(emails)) == 300
    assert all(email == email.lower() and email.isascii() for email in emails)
    assert any(not row[0].isascii() for row in clients[1:])
    with files["orders_csv"].open(encoding="utf-8") as file:
        orders = list(csv.reader(file))[1:]
    assert {row[0] for row in orders} <= set(emails)
    assert any(row[2].count(" ") and "," in row[2] for row in orders)  # '1 234,56'
    assert any("." in row[2] for row in orders)  # '1234.56'
    assert {"Done", "DONE"} <= {row[3] for row in orders}

    from openpyxl import load_workbook

    sheet = load_workbook(files["orders_xlsx"], read_only=True).worksheets[0]
    assert sheet.max_row == 301  # the <dimension> Excel writes
    assert len(list(sheet.iter_rows(values_only=True))) == 301


def test_a_case_over_a_ceiling_or_not_saved_fails():
    case = {"status": "done", "rows": 10, "saved": 10, "preview_s": 1, "commit_s": 1, "rss_mb": 1}
    assert bench_imports.verdict(case) == "PASS"
    assert bench_imports.verdict({**case, "preview_s": 10.5}) == "FAIL"
    assert bench_imports.verdict({**case, "commit_s": 20.5}) == "FAIL"
    assert bench_imports.verdict({**case, "rss_mb": 151}) == "FAIL"
    assert bench_imports.verdict({**case, "saved": 9}) == "FAIL"
    assert bench_imports.verdict({**case, "status": "failed"}) == "FAIL"
