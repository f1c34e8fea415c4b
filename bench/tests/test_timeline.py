"""bench.timeline at --quick sizes, in this process on the test database: every step runs, the
table and the JSON hold its figures, an INSERT over its ceiling fails the run. Not a measure:
the figures at this size mean nothing."""

import json

import pytest

from bench import timeline as bench_timeline

# Orders are created in transactions whose on-commit callbacks must run; the import commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _orders_deleted_first():
    """The flush after a transactional test empties the clients before their orders; on
    SQLite the roll-up triggers then refuse the orders' delete. Delete the orders first."""
    yield
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clients_order")


def test_bench_runs_every_step_at_quick_sizes(tmp_path, capsys):
    out = tmp_path / "timeline.json"
    assert bench_timeline.main(["--quick", "--in-process", "--json", str(out)]) == 0

    result = json.loads(out.read_text())
    orders = result["orders"]
    for path in ("orm", "http"):
        assert set(orders[path]) == {"on", "off"}  # no --before in process
        assert all(orders[path][mode]["per_s"] > 0 for mode in ("on", "off"))
    assert orders["http_bad"] == 0

    inserts = {row["key"]: row for row in result["inserts"]}
    assert {key: row["inserts"] for key, row in inserts.items()} == {
        "order_create": 1,
        "client_edit": 1,
        "board_move": 1,
        "note_add": 1,
        "task_done": 1,
        "client_delete": 1,  # not one per cascaded order, note and task
        "merge": 2,  # the merge, the source's delete
        "import": 1,  # 60 clients: one batch
    }
    assert all(row["entries"] == row["inserts"] for row in inserts.values())
    # With django-auditlog's receivers off only the entries written by hand remain.
    assert {key: row["inserts_off"] for key, row in inserts.items() if row["inserts_off"]} == {
        "merge": 1,
        "import": 1,
    }
    assert result["inserts_passed"]

    page = result["page"]
    assert page["bad"] == 0
    pages = page["pages"]
    assert pages["full"]["kinds"] == pages["small"]["kinds"] == 4
    assert pages["full"]["queries"] == pages["small"]["queries"]
    assert pages["empty"]["kinds"] == 0
    assert page["deep_page"] == bench_timeline.QUICK["deep_page"]
    for plan in page["explain"].values():
        assert set(plan["branches"]) == set(bench_timeline.BRANCHES)

    checks = {check["name"]: check for check in result["checks"]}
    assert checks["client page queries: full history = small history (constant)"]["status"] == (
        "PASS"
    )
    table = capsys.readouterr().out
    assert "INSERT INTO history_entry per change" in table
    assert "client with 400 entries, 40 notes" in table
    assert "Show older" in table


def test_json_alone_prints_the_figures_instead_of_the_table(capsys):
    assert bench_timeline.main(["--quick", "--in-process", "--steps", "inserts", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [row["status"] for row in result["inserts"]] == ["PASS"] * len(result["inserts"])
    assert result["page"] is None


@pytest.mark.parametrize("expected", [0, 2], ids=["over its ceiling", "not recorded"])
def test_a_change_off_its_insert_count_fails_the_run(monkeypatch, capsys, expected):
    cases = bench_timeline.insert_cases

    def other_count(sizes):
        key, label, _expected, prepare = cases(sizes)[0]  # an order created: one entry
        return [(key, label, expected, prepare)]

    monkeypatch.setattr(bench_timeline, "insert_cases", other_count)
    assert bench_timeline.main(["--quick", "--in-process", "--steps", "inserts"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_ratios_are_judged_against_the_issue_ceilings():
    def figures(per_s: float, cpu: float) -> dict:
        return {"per_s": per_s, "app_cpu_ms": cpu, "db_cpu_ms": 0.0, "rounds": [per_s]}

    result = {
        "orders": {"orm": {"off": figures(100, 10), "on": figures(84, 12)}, "http": {}},
        "inserts": [],
        "page": None,
    }
    (check,) = bench_timeline.checks_for(result)
    assert check["status"] == "FAIL"
    assert check["measured"] == "84% (84 / 100 orders/s; by CPU 83%)"
    result["orders"]["orm"]["on"] = figures(85, 11)
    assert bench_timeline.checks_for(result)[0]["status"] == "PASS"
