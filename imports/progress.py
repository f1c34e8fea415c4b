"""How far a running check or commit is: kept in the cache (a page opened later reads it) and
pushed to the import's live group (the open page's progress bar moves without polling)."""

import time

from django.core.cache import cache

from live.broadcast import IMPORT_PROGRESS, import_group, send_to_group

# Seconds between two reports: a 100,000-row import reports ~50 batches, far fewer than that.
INTERVAL = 0.25
# A running import not heard of for this long has lost its worker (a batch takes ~1 s).
STALLED_SECONDS = 120
TTL = 6 * 3600


def _key(import_id: int) -> str:
    return f"imports:progress:{import_id}"


def current(import_id: int) -> dict | None:
    """The last report of this import ({"stage", "done", "total", "finished", "at"}), if any."""
    return cache.get(_key(import_id))


def stalled(import_id: int) -> bool:
    """Whether the import's last report (or its absence) is older than STALLED_SECONDS."""
    state = current(import_id)
    return state is None or time.time() - state.get("at", 0) > STALLED_SECONDS


class Reporter:
    """Called as report(done, total) by the check and the commit; `stage` says which."""

    def __init__(self, import_id: int, *, stage: str):
        self.import_id, self.stage = import_id, stage
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < INTERVAL and done < total:
            return
        self.last = now
        self._send({"stage": self.stage, "done": done, "total": total, "finished": False})

    def finish(self) -> None:
        """The work ended (whichever way): the page reloads to show the outcome."""
        self._send({"stage": self.stage, "done": 0, "total": 0, "finished": True})

    def _send(self, state: dict) -> None:
        state["at"] = time.time()
        cache.set(_key(self.import_id), state, TTL)
        send_to_group(
            import_group(self.import_id), {"type": IMPORT_PROGRESS, "id": self.import_id, **state}
        )


def reporter(import_id: int, *, stage: str) -> Reporter:
    return Reporter(import_id, stage=stage)
