import pytest


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """The import's tasks run in the test's process (after commit), on the real stack too: its
    Redis broker has no worker behind it in the tests."""
    from mini_crm.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager
