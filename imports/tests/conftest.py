import pytest


@pytest.fixture(autouse=True)
def _tasks_run_in_process(monkeypatch):
    """The import's tasks run in the test's process (after commit), on the real stack too: its
    Redis broker has no worker behind it in the tests. Through monkeypatch, so that every other
    change to the Celery config in a test is undone in the right order (a copy restored by hand
    leaked `task_always_eager` into the reports' real-worker test)."""
    from mini_crm.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
