"""`make soak`: the production stack of `make stack` (nginx, gunicorn, uvicorn, the Celery worker
and beat) on a PostgreSQL and a Redis of its own, under a mixed load of 32 users for 5 minutes
(after a 30 s warm-up), with Redis restarted once and PostgreSQL once; then the reconciliation
of what the load did against the database. Not a test (not in CI): bench/README.md "Soak test".

    .venv/bin/python -m bench.soak [--seconds 300] [--users 32] [--warmup 30]

It prints the requests and errors per endpoint and status with p50/p99 latency, each process's
RSS after the warm-up and at the end, the restart windows, and the reconciliation: every order
that got a 2xx exists exactly once (each title carries a uuid, so a duplicate shows), the stored
totals match a fresh aggregate (`manage.py check_totals`), and every websocket listener got every
order created while it was connected. Exits 1 when a target fails. Everything it started is
stopped at the end, on Ctrl-C and on failure too.
"""

import argparse
import asyncio
import contextlib
import html
import json
import math
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench import OUT_DIR
from bench.soak_http import Response, Session, TransportError, csrf_from, now
from bench.soak_report import (
    ERROR,
    EVENT_GRACE,
    Listener,
    OrderAttempt,
    Sample,
    Window,
    account_windows,
    check_listener,
    endpoint_stats,
    listeners_table,
    reconcile_orders,
    requests_table,
    rss_rows,
    rss_table,
    targets,
    targets_table,
    windows_table,
)
from bench.soak_services import (
    Postgres,
    Redis,
    RssSample,
    Stack,
    remove_tree,
    rss_sample,
    stack_env,
)
from core.testing import port_open, wait_until

START_TIMEOUT = 240  # seconds for the stack to answer ready (migrations and collectstatic)
LISTENERS = {"/ws/clients/": 3, "/ws/orders/": 2}  # order.created / the board's order.changed
STATUSES = ["NEW", "NEW", "IN_PROGRESS", "DONE"]
SORTS = ["", "name", "-name", "-orders_total", "orders_total", "-orders_count", "-created_at"]
SEARCHES = ["", "", "", "berg", "müller", "anna", "soak", "corp.test", "zz-nothing"]
API_ORDERINGS = ["", "-orders_total", "name", "-created_at", "orders_count"]
INPUT = re.compile(r"<input\b[^>]*>", re.S)
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


# --- What the load shares ------------------------------------------------------------------
@dataclass
class Person:
    username: str
    role: str
    staff: bool
    token: str
    session: str  # a logged-in session's key, made by bench/soak_fixtures.py


@dataclass
class Shared:
    """What every virtual user reads and adds to: the clients and orders it may use, and
    what the load recorded."""

    port: int
    password: str
    client_ids: list[int]  # never merged away (the seeded ones, those the API made): always there
    doomed: list[int] = field(default_factory=list)  # clients made to be merged away
    orders: dict[int, int] = field(default_factory=dict)  # order id -> its client's id
    samples: list[Sample] = field(default_factory=list)
    attempts: list[OrderAttempt] = field(default_factory=list)
    imports: dict[str, int] = field(default_factory=dict)
    merges: dict[str, int] = field(default_factory=dict)
    stop_at: float = 0.0

    async def call(
        self, session: Session, endpoint: str, method: str, path: str, **kwargs
    ) -> Response | None:
        start = now()
        try:
            if method == "FORM":
                response = await session.post_form(path, **kwargs)
            elif method in ("POST_JSON", "PATCH_JSON"):
                verb = method.removesuffix("_JSON")
                response = await session.send_json(verb, path, json.dumps(kwargs["data"]).encode())
            else:
                response = await session.request(method, path, **kwargs)
        except TransportError:
            self.samples.append(Sample(endpoint, ERROR, start, now()))
            return None
        self.samples.append(Sample(endpoint, response.status, start, now()))
        return response


def _fields(page: str, names: tuple[str, ...]) -> dict[str, str]:
    """The current values of a form's text inputs, as the browser would send them back."""
    values = {}
    for tag in INPUT.findall(page):
        attrs = dict(ATTR.findall(tag))
        if attrs.get("name") in names:
            values[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return values


def _title(via: str) -> str:
    return f"soak {uuid.uuid4().hex} {via}"


def _amount(rng: random.Random) -> str:
    return f"{rng.randint(100, 500_000) / 100:.2f}"


# --- A virtual user ------------------------------------------------------------------------
class User:
    def __init__(self, person: Person, shared: Shared, seed: int):
        self.person, self.shared = person, shared
        self.rng = random.Random(seed)
        self.session = Session(shared.port, token=person.token)
        self.session.cookies["sessionid"] = person.session
        self.can_write = person.role != "Viewers"
        self.api_writes = self.can_write and person.staff
        self.manager = person.role == "Managers"

    async def login(self) -> bool:
        """Through the login form, as a browser: its page (the CSRF cookie and token), then
        the POST, which answers a redirect to the dashboard."""
        shared, session = self.shared, self.session
        session.cookies.clear()
        page = await shared.call(session, "GET /accounts/login/", "GET", "/accounts/login/")
        if page is None or page.status != 200:
            return False
        fields = {
            "username": self.person.username,
            "password": shared.password,
            "csrfmiddlewaretoken": csrf_from(page.text),
        }
        answer = await shared.call(
            session, "POST /accounts/login/", "FORM", "/accounts/login/", fields=fields
        )
        return answer is not None and answer.status == 302

    def actions(self) -> list[tuple[float, object]]:
        reads = [
            (25, self.client_list),
            (10, self.client_detail),
            (6, self.order_list),
            (3, self.board),
            (4, self.dashboard),
            (5, self.api_clients),
            (4, self.api_orders),
            (1.5, self.relogin),
        ]
        writes = [
            (8, self.page_order_create),
            (3, self.page_order_edit),
            (2, self.page_order_status),
            (2, self.page_client_create),
            (2, self.page_client_edit),
        ]
        api_writes = [
            (8, self.api_order_create),
            (3, self.api_order_edit),
            (2, self.api_client_create),
            (1, self.api_client_edit),
        ]
        manager = [(1.5, self.export), (0.6, self.import_clients), (0.6, self.merge)]
        return (
            reads
            + (writes if self.can_write else [])
            + (api_writes if self.api_writes else [])
            + (manager if self.manager else [])
        )

    async def run(self, think: tuple[float, float], delay: float) -> None:
        actions = self.actions()
        weights = [w for w, _ in actions]
        await asyncio.sleep(delay)
        # The first page sets the CSRF cookie (its logout form), as for a browser.
        await self.dashboard()
        while now() < self.shared.stop_at:
            action = self.rng.choices([a for _, a in actions], weights)[0]
            # An answer not as expected (an error page) is already counted by its status.
            with contextlib.suppress(KeyError, ValueError, IndexError, AttributeError):
                await action()
            await asyncio.sleep(self.rng.uniform(*think))
        await self.session.close()

    # Reads.
    def _client(self) -> int:
        return self.rng.choice(self.shared.client_ids)

    async def client_list(self) -> None:
        params = {
            "sort": self.rng.choice(SORTS),
            "q": self.rng.choice(SEARCHES),
            "page": self.rng.choice(["", "", "2", "3", str(self.rng.randint(1, 40))]),
            "vip": self.rng.choice(["", "", "", "1"]),
        }
        query = urlencode({k: v for k, v in params.items() if v})
        path = "/clients/" + (f"?{query}" if query else "")
        await self.shared.call(self.session, "GET /clients/?sort&q&page", "GET", path)

    async def client_detail(self) -> None:
        path = f"/clients/{self._client()}/"
        await self.shared.call(self.session, "GET /clients/<id>/", "GET", path)

    async def order_list(self) -> None:
        page = self.rng.choice(["", "?page=2", f"?page={self.rng.randint(1, 30)}", "?status=NEW"])
        await self.shared.call(self.session, "GET /orders/", "GET", f"/orders/{page}")

    async def board(self) -> None:
        await self.shared.call(self.session, "GET /orders/board/", "GET", "/orders/board/")
        await self.shared.call(
            self.session, "GET /orders/board/columns/", "GET", "/orders/board/columns/"
        )

    async def dashboard(self) -> None:
        await self.shared.call(self.session, "GET /dashboard/", "GET", "/dashboard/")
        if self.rng.random() < 0.3:
            await self.shared.call(self.session, "GET /api/stats/", "GET", "/api/stats/", api=True)

    async def api_clients(self) -> None:
        params = {"ordering": self.rng.choice(API_ORDERINGS), "search": self.rng.choice(SEARCHES)}
        query = urlencode({k: v for k, v in params.items() if v})
        path = "/api/clients/" + (f"?{query}" if query else "")
        await self.shared.call(self.session, "GET /api/clients/", "GET", path, api=True)

    async def api_orders(self) -> None:
        client = f"?client={self._client()}" if self.rng.random() < 0.5 else "?ordering=-amount"
        path = f"/api/orders/{client}"
        await self.shared.call(self.session, "GET /api/orders/", "GET", path, api=True)

    async def relogin(self) -> None:
        """Log out (the form's POST) and in again: a new session, a new CSRF secret."""
        fields = {"csrfmiddlewaretoken": self.session.cookies.get("csrftoken", "")}
        await self.shared.call(
            self.session, "POST /accounts/logout/", "FORM", "/accounts/logout/", fields=fields
        )
        await self.login()

    # Orders.
    def _order_client(self) -> int:
        # Now and then a client being merged away: its order may land before the merge (and
        # move with it) or find the client gone (a 404 or 400, never a 500).
        if self.shared.doomed and self.rng.random() < 0.05:
            return self.rng.choice(self.shared.doomed)
        return self._client()

    async def _record(self, title: str, via: str, start: float, ok: bool, order_id=None) -> None:
        self.shared.attempts.append(OrderAttempt(title, via, ok, start, now(), order_id))

    async def page_order_create(self) -> None:
        shared, client = self.shared, self._order_client()
        form = await shared.call(
            self.session,
            "GET /clients/<id>/orders/add/",
            "GET",
            f"/clients/{client}/orders/add/",
        )
        if form is None or form.status != 200:
            return
        title = _title("page")
        fields = {
            "title": title,
            "amount": _amount(self.rng),
            "status": self.rng.choice(STATUSES),
            "csrfmiddlewaretoken": csrf_from(form.text),
        }
        start = now()
        answer = await shared.call(
            self.session,
            "POST /clients/<id>/orders/add/",
            "FORM",
            f"/clients/{client}/orders/add/",
            fields=fields,
        )
        # Success is the redirect to the client page (a form error answers 200 with the form).
        ok = answer is not None and answer.status == 302
        if answer is None or answer.status != 200:  # a 200 is the form again: nothing sent
            await self._record(title, "page", start, ok)
        if ok:  # the browser follows the redirect, where the new order is listed
            location = answer.header("location")
            await shared.call(self.session, "GET /clients/<id>/", "GET", location)

    async def api_order_create(self) -> None:
        shared = self.shared
        client = self._order_client()
        title = _title("api")
        data = {
            "client": client,
            "title": title,
            "amount": _amount(self.rng),
            "status": self.rng.choice(STATUSES),
        }
        start = now()
        answer = await shared.call(
            self.session, "POST /api/orders/", "POST_JSON", "/api/orders/", data=data
        )
        ok = answer is not None and 200 <= answer.status < 300
        order_id = json.loads(answer.body)["id"] if ok else None
        if answer is None or answer.status != 400:  # a 400 (client gone) created nothing
            await self._record(title, "api", start, ok, order_id)
        if ok:
            shared.orders[order_id] = client

    def _order(self) -> tuple[int, int] | None:
        if not self.shared.orders:
            return None
        order_id = self.rng.choice(list(self.shared.orders))
        return order_id, self.shared.orders[order_id]

    async def page_order_edit(self) -> None:
        picked = self._order()
        if picked is None:
            return
        order_id, client = picked
        path = f"/clients/{client}/orders/{order_id}/edit/"
        form = await self.shared.call(
            self.session, "GET /clients/<id>/orders/<id>/edit/", "GET", path
        )
        if form is None or form.status != 200:
            return
        fields = _fields(form.text, ("title",))
        fields.update(
            amount=_amount(self.rng),
            status=self.rng.choice(STATUSES),
            csrfmiddlewaretoken=csrf_from(form.text),
        )
        await self.shared.call(
            self.session, "POST /clients/<id>/orders/<id>/edit/", "FORM", path, fields=fields
        )

    async def page_order_status(self) -> None:
        picked = self._order()
        if picked is None:
            return
        order_id, client = picked
        fields = {
            "status": self.rng.choice(STATUSES),
            "csrfmiddlewaretoken": self.session.cookies.get("csrftoken", ""),
        }
        await self.shared.call(
            self.session,
            "POST /clients/<id>/orders/<id>/status/",
            "FORM",
            f"/clients/{client}/orders/{order_id}/status/",
            fields=fields,
        )

    async def api_order_edit(self) -> None:
        picked = self._order()
        if picked is None:
            return
        data = {"amount": _amount(self.rng), "status": self.rng.choice(STATUSES)}
        await self.shared.call(
            self.session,
            "PATCH /api/orders/<id>/",
            "PATCH_JSON",
            f"/api/orders/{picked[0]}/",
            data=data,
        )

    # Clients.
    async def page_client_create(self) -> None:
        form = await self.shared.call(self.session, "GET /clients/add/", "GET", "/clients/add/")
        if form is None or form.status != 200:
            return
        tag = uuid.uuid4().hex[:12]
        fields = {
            "name": f"Soak Page {tag}",
            "email": f"page-{tag}@soak.test",
            "phone": f"+49 30 {self.rng.randint(1000000, 9999999)}",
            "csrfmiddlewaretoken": csrf_from(form.text),
        }
        await self.shared.call(
            self.session, "POST /clients/add/", "FORM", "/clients/add/", fields=fields
        )

    async def page_client_edit(self) -> None:
        path = f"/clients/{self._client()}/edit/"
        form = await self.shared.call(self.session, "GET /clients/<id>/edit/", "GET", path)
        if form is None or form.status != 200:
            return
        fields = _fields(form.text, ("name", "email", "phone"))
        fields.update(
            phone=f"+49 40 {self.rng.randint(1000000, 9999999)}",
            csrfmiddlewaretoken=csrf_from(form.text),
        )
        await self.shared.call(
            self.session, "POST /clients/<id>/edit/", "FORM", path, fields=fields
        )

    async def api_client_create(self, *, doomed: bool = False) -> int | None:
        tag = uuid.uuid4().hex[:12]
        data = {"name": f"Soak Api {tag}", "email": f"api-{tag}@soak.test", "phone": ""}
        answer = await self.shared.call(
            self.session, "POST /api/clients/", "POST_JSON", "/api/clients/", data=data
        )
        if answer is None or answer.status != 201:
            return None
        client_id = json.loads(answer.body)["id"]
        # API-made clients join the pool of those that orders may go to; those made to be
        # merged away only the doomed one (they vanish).
        (self.shared.doomed if doomed else self.shared.client_ids).append(client_id)
        return client_id

    async def api_client_edit(self) -> None:
        data = {"phone": f"+49 89 {self.rng.randint(1000000, 9999999)}"}
        await self.shared.call(
            self.session,
            "PATCH /api/clients/<id>/",
            "PATCH_JSON",
            f"/api/clients/{self._client()}/",
            data=data,
        )

    # Managers.
    async def export(self) -> None:
        query = self.rng.choice(["", "?q=berg", "?sort=-orders_total", "?vip=1"])
        await self.shared.call(
            self.session, "GET /clients/export.csv", "GET", f"/clients/export.csv{query}"
        )

    async def import_clients(self) -> None:
        """A small CSV of new clients (over IMPORT_BACKGROUND_KB, so the worker checks and
        commits it), then its page's progress until it is checked, the commit, and the
        progress again until it is done."""
        shared, tag = self.shared, uuid.uuid4().hex[:10]
        rows = ["name,email,phone"] + [
            f"Soak Import {tag} {i},import-{tag}-{i}@soak.test,+49 30 {1000000 + i}"
            for i in range(40)
        ]
        form = await shared.call(self.session, "GET /clients/import/", "GET", "/clients/import/")
        if form is None or form.status != 200:
            return
        answer = await shared.call(
            self.session,
            "POST /clients/import/",
            "FORM",
            "/clients/import/",
            fields={"on_duplicate": "skip", "csrfmiddlewaretoken": csrf_from(form.text)},
            files={"file": (f"soak-{tag}.csv", "text/csv", "\n".join(rows).encode())},
        )
        if answer is None or answer.status != 302:
            shared.imports["upload failed"] = shared.imports.get("upload failed", 0) + 1
            return
        page = answer.header("location")
        import_id = int(re.search(r"/imports/(\d+)/", page).group(1))
        if not await self._wait_import(import_id):
            shared.imports["check never finished"] = (
                shared.imports.get("check never finished", 0) + 1
            )
            return
        detail = await shared.call(self.session, "GET /imports/<id>/", "GET", page)
        if detail is None or detail.status != 200:
            return
        committed = await shared.call(
            self.session,
            "POST /imports/<id>/commit/",
            "FORM",
            f"/imports/{import_id}/commit/",
            fields={"csrfmiddlewaretoken": csrf_from(detail.text)},
        )
        if committed is None or committed.status != 302:
            return
        done = await self._wait_import(import_id)
        outcome = "not finished"
        if done:
            state = await shared.call(
                self.session,
                "GET /api/imports/<id>/",
                "GET",
                f"/api/imports/{import_id}/",
                api=True,
            )
            if state is not None and state.status == 200:
                outcome = json.loads(state.body)["status"]
        shared.imports[outcome] = shared.imports.get(outcome, 0) + 1

    async def _wait_import(self, import_id: int, timeout: float = 60) -> bool:
        deadline = now() + timeout
        while now() < deadline:
            state = await self.shared.call(
                self.session,
                "GET /imports/<id>/progress/",
                "GET",
                f"/imports/{import_id}/progress/",
            )
            if state is not None and state.status == 200 and json.loads(state.body)["finished"]:
                return True
            await asyncio.sleep(0.5)
        return False

    async def merge(self) -> None:
        """A duplicate made through the API with an order or two, then merged into a seeded
        client: through the merge page's form or the API's merge action, in turn."""
        shared = self.shared
        if not self.api_writes:
            return
        source = await self.api_client_create(doomed=True)
        if source is None:
            return
        for _ in range(self.rng.randint(1, 2)):
            title = _title("api")
            data = {"client": source, "title": title, "amount": _amount(self.rng)}
            start = now()
            answer = await shared.call(
                self.session, "POST /api/orders/", "POST_JSON", "/api/orders/", data=data
            )
            ok = answer is not None and answer.status == 201
            await self._record(
                title, "api", start, ok, json.loads(answer.body)["id"] if ok else None
            )
        await asyncio.sleep(self.rng.uniform(1, 3))  # others may add orders to it meanwhile
        target = self._client()
        if self.rng.random() < 0.5:
            path = f"/clients/merge/?source={source}&target={target}"
            form = await shared.call(self.session, "GET /clients/merge/", "GET", path)
            if form is None or form.status != 200:
                return
            answer = await shared.call(
                self.session,
                "POST /clients/merge/",
                "FORM",
                "/clients/merge/",
                fields={
                    "source": source,
                    "target": target,
                    "csrfmiddlewaretoken": csrf_from(form.text),
                },
            )
            ok = answer is not None and answer.status == 302
        else:
            answer = await shared.call(
                self.session,
                "POST /api/clients/<id>/merge/",
                "POST_JSON",
                f"/api/clients/{target}/merge/",
                data={"source": source},
            )
            ok = answer is not None and answer.status == 200
        outcome = "merged" if ok else f"not merged ({answer.status if answer else ERROR})"
        shared.merges[outcome] = shared.merges.get(outcome, 0) + 1
        if ok:
            with contextlib.suppress(ValueError):
                shared.doomed.remove(source)
            for order_id, client in list(shared.orders.items()):
                if client == source:
                    shared.orders[order_id] = target


# --- Websocket listeners -------------------------------------------------------------------
async def listen(listener: Listener, person: Person, shared: Shared, path: str) -> None:
    """A Viewer's socket, open until the soak cancels it: reconnects half a second after a
    drop or a refused handshake (logging in again through the form when refused with 403, the
    consumer's answer to a session that is gone). Records each handshake as a request of the
    load, each connection's interval, how each ended, and the order titles its events carry."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

    user = User(person, shared, seed=0)
    endpoint = f"WS {path} handshake"
    while True:
        cookie = "; ".join(f"{k}={v}" for k, v in user.session.cookies.items())
        opened, start, ended = None, now(), "cancelled"
        try:
            async with connect(
                f"ws://127.0.0.1:{shared.port}{path}",
                origin=user.session.origin,
                additional_headers={"Cookie": cookie, "X-Forwarded-Proto": "https"},
                open_timeout=10,
            ) as socket:
                opened = now()
                shared.samples.append(Sample(endpoint, 101, start, opened))
                listener.intervals.append((opened, None))
                try:
                    async for raw in socket:
                        order = json.loads(raw).get("order") or {}
                        if order.get("title"):
                            listener.received.add(order["title"])
                finally:
                    code = socket.close_code
                    ended = f"closed {code}" if code is not None else "cancelled"
        except InvalidStatus as refused:
            status = refused.response.status_code
            shared.samples.append(Sample(endpoint, status, start, now()))
            if status == 403:
                await user.login()
        except ConnectionClosed:
            pass
        except (OSError, WebSocketException, TimeoutError, ValueError):
            if opened is None:
                shared.samples.append(Sample(endpoint, ERROR, start, now()))
        finally:
            if opened is not None:
                listener.intervals[-1] = (opened, now())
                listener.ends[ended] = listener.ends.get(ended, 0) + 1
        await asyncio.sleep(0.5)


# --- Restarts and RSS ----------------------------------------------------------------------
async def _ready_after(window: Window, port: int) -> None:
    """The window ends at the first ready answer through the proxy."""
    probe = Session(port, timeout=5)
    while True:
        with contextlib.suppress(TransportError):
            response = await probe.get("/health/ready/")
            if response.status == 200:
                window.end = now()
                break
        await asyncio.sleep(0.05)
    await probe.close()


async def restart(name: str, action, windows: list[Window], port: int) -> None:
    window = Window(name, now())
    windows.append(window)
    await asyncio.to_thread(action)
    window.back = now()
    await asyncio.wait_for(_ready_after(window, port), 60)


@dataclass
class Run:
    started: float = 0.0
    warm: float = 0.0
    ended: float = 0.0
    windows: list[Window] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    rss_start: dict = field(default_factory=dict)
    rss_end: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)


async def load(
    *,
    shared: Shared,
    people: list[Person],
    stack: Stack,
    postgres: Postgres,
    redis: Redis,
    seconds: float,
    warmup: float,
    think: tuple[float, float],
) -> Run:
    run = Run(started=now())
    run.warm = run.started + warmup
    shared.stop_at = run.warm + seconds
    users = [p for p in people if not p.username.startswith("soak-listener")]
    watchers = [p for p in people if p.username.startswith("soak-listener")]
    user_tasks = [
        asyncio.create_task(User(p, shared, seed=i).run(think, delay=i * 0.1))
        for i, p in enumerate(users)
    ]
    paths = [path for path, n in LISTENERS.items() for _ in range(n)]
    listener_tasks = []
    for person, path in zip(watchers, paths, strict=False):
        listener = Listener(f"{path} ({person.username})")
        run.listeners.append(listener)
        listener_tasks.append(asyncio.create_task(listen(listener, person, shared, path)))

    seen: dict[str, set[int]] = {}

    def sample() -> RssSample:
        current = rss_sample(stack, postgres, redis)
        for role, pids in current.pids.items():
            seen.setdefault(role, set()).update(pids)
        return current

    await asyncio.sleep(max(0.0, run.warm - now()))
    first = await asyncio.to_thread(sample)
    run.rss_start = first.kb
    print(f"soak: warm-up over, {len(shared.samples):,} requests so far", flush=True)
    # Redis at a third of the measured run, PostgreSQL at two thirds.
    plan = [
        (seconds / 3, "Redis", redis.restart),
        (2 * seconds / 3, "PostgreSQL", postgres.restart),
    ]
    for at, name, action in plan:
        while now() < run.warm + at:
            await asyncio.sleep(min(5.0, run.warm + at - now()))
            await asyncio.to_thread(sample)
        print(f"soak: restarting {name} at +{now() - run.started:.0f}s", flush=True)
        await restart(name, action, run.windows, shared.port)
        print(f"soak: {name} back, window {run.windows[-1].seconds:.2f} s", flush=True)
    while now() < shared.stop_at:
        await asyncio.sleep(min(5.0, max(0.0, shared.stop_at - now())))
        await asyncio.to_thread(sample)
    last = await asyncio.to_thread(sample)
    run.rss_end = last.kb
    run.counts = {
        role: (len(first.pids.get(role, [])), len(last.pids.get(role, [])), len(seen[role]))
        for role in seen
    }
    # The users finish their current action; the listeners wait for the last orders' events.
    await asyncio.gather(*user_tasks, return_exceptions=True)
    run.ended = now()
    await asyncio.sleep(EVENT_GRACE + 0.5)
    for task in listener_tasks:
        task.cancel()
    await asyncio.gather(*listener_tasks, return_exceptions=True)
    return run


# --- Setup, reconciliation, report ---------------------------------------------------------
def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _stored_orders(postgres: Postgres, after_id: int) -> list[tuple[int, str]]:
    import psycopg

    with psycopg.connect(postgres.url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute(
            "SELECT id, title FROM clients_order WHERE id > %s ORDER BY id", [after_id]
        ).fetchall()


def _setup_rows(postgres: Postgres) -> tuple[list[int], int]:
    import psycopg

    with psycopg.connect(postgres.url.replace("postgres://", "postgresql://")) as conn:
        clients = [row[0] for row in conn.execute("SELECT id FROM clients_client ORDER BY id")]
        (last_order,) = conn.execute("SELECT coalesce(max(id), 0) FROM clients_order").fetchone()
    return clients, last_order


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not number > 0:
        raise argparse.ArgumentTypeError(f"a number of seconds above 0, not {value!r}")
    return number


def _users(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 200:
        raise argparse.ArgumentTypeError(f"a number of users from 1 to 200, not {value!r}")
    return int(value)


def _think(value: str) -> tuple[float, float]:
    """'0.5-2.0': from half a second to two."""
    low, _, high = value.partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        bounds = (math.nan, math.nan)
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"a range of seconds such as 0.5-2.0, not {value!r}")
    return bounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=_positive,
        default=os.environ.get("SOAK_SECONDS", "300"),
        help="seconds of load after the warm-up (SOAK_SECONDS; default 300)",
    )
    parser.add_argument(
        "--warmup",
        type=_positive,
        default=os.environ.get("SOAK_WARMUP", "30"),
        help="seconds of load before RSS is first read (SOAK_WARMUP; default 30)",
    )
    parser.add_argument(
        "--users", type=_users, default=os.environ.get("SOAK_USERS", "32"), help="default 32"
    )
    parser.add_argument(
        "--think",
        type=_think,
        default=os.environ.get("SOAK_THINK", "0.5-2.0"),
        help="seconds each user waits between two actions, a range (default 0.5-2.0)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    think = args.think
    began = time.monotonic()

    base = Path(tempfile.mkdtemp(prefix="soak-", dir="/tmp"))
    base.chmod(0o755)  # the `postgres` user reaches its data folder inside
    postgres = Postgres(base / "pg", _port("SOAK_PG_PORT", 18032))
    redis = Redis(base / "redis", _port("SOAK_REDIS_PORT", 18079))
    ports = {
        "web": _port("SOAK_WEB_PORT", 18010),
        "ws": _port("SOAK_WS_PORT", 18011),
        "proxy": _port("SOAK_PROXY_PORT", 18020),
    }
    env = stack_env(database_url=postgres.url, redis_url=redis.url, state=base, ports=ports)
    password = secrets.token_urlsafe(12)
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Production as deployed behind a TLS terminator, which the load plays (it sends
        # X-Forwarded-Proto from loopback, the one front nginx believes), as in
        # deploy/tests/test_stack.py.
        DJANGO_SECURE_SSL_REDIRECT="1",
        DJANGO_SECURE_COOKIES="1",
        DJANGO_HSTS_SECONDS="3600",
        PROXY_TRUSTED_FRONT="127.0.0.0/8",
        SOAK_PASSWORD=password,
    )
    stack = Stack(env=env, log=base / "stack.log")

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        for port in ports.values():
            if port_open(port):
                raise SystemExit(f"soak: port {port} is taken (SOAK_*_PORT pick others)")
        postgres.start()
        redis.start()
        stack.start()
        probe = Session(ports["proxy"], timeout=5)

        def ready() -> bool:
            return asyncio.run(_ready_once(probe)) and port_open(ports["ws"])

        wait_until(
            ready,
            timeout=START_TIMEOUT,
            process=stack.process,
            what="the stack's /health/ready/ through the proxy",
            log=stack.log_tail,
            interval=0.5,
        )
        people = make_people(stack, args.users)
        client_ids, last_order = _setup_rows(postgres)
        setup_seconds = time.monotonic() - began
        print(
            f"soak: stack up with {len(client_ids)} clients, {args.users} users "
            f"(setup {setup_seconds:.0f} s); {args.warmup:g} s warm-up, {args.seconds:g} s load",
            flush=True,
        )
        shared = Shared(port=ports["proxy"], password=password, client_ids=client_ids)
        run = asyncio.run(
            load(
                shared=shared,
                people=people,
                stack=stack,
                postgres=postgres,
                redis=redis,
                seconds=args.seconds,
                warmup=args.warmup,
                think=think,
            )
        )
        stored = _stored_orders(postgres, last_order)
        totals = stack.manage("check_totals")
        drift = len([line for line in totals.stdout.splitlines() if line.strip()])
        if totals.returncode == 0:
            drift = 0
        report, ok = render(
            shared=shared,
            run=run,
            stored=stored,
            drift=drift,
            totals_output=(totals.stdout + totals.stderr).strip(),
            wall=time.monotonic() - began,
            setup=setup_seconds,
        )
        print(report)
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        (OUT_DIR / "soak-latest.md").write_text(report + "\n")
        print(f"soak: the report is in {OUT_DIR / 'soak-latest.md'}, logs in {base}", flush=True)
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("soak: interrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        stack.stop()
        redis.stop()
        postgres.stop()
        if not args.keep and not os.environ.get("SOAK_KEEP"):
            keep = OUT_DIR / "soak-logs"
            keep.mkdir(parents=True, exist_ok=True)
            for log in (stack.log, postgres.log, redis.log):
                with contextlib.suppress(OSError):
                    (keep / log.name).write_bytes(log.read_bytes())
            remove_tree(base)


async def _ready_once(probe: Session) -> bool:
    try:
        return (await probe.get("/health/ready/")).status == 200
    except TransportError:
        return False
    finally:
        await probe.close()


def make_people(stack: Stack, users: int) -> list[Person]:
    """The users and the listeners' logins, with the demo data (bench/soak_fixtures.py)."""
    listeners = sum(LISTENERS.values())
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak_fixtures", str(users), str(listeners)],
        cwd=Path(__file__).resolve().parent.parent,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode:
        raise SystemExit(f"soak: the fixtures failed:\n{result.stdout}{result.stderr}")
    return [Person(**person) for person in json.loads(result.stdout)]


def render(*, shared, run, stored, drift, totals_output, wall, setup) -> tuple[str, bool]:
    samples = shared.samples
    stats = endpoint_stats(samples)
    account = account_windows(samples, run.windows)
    orders = reconcile_orders(shared.attempts, stored)
    checks = [
        check_listener(listener, shared.attempts, run.windows, run_end=run.ended)
        for listener in run.listeners
    ]
    rss = rss_rows(run.rss_start, run.rss_end, run.counts)
    results = targets(
        orders=orders,
        totals_drift=drift,
        account=account,
        windows=run.windows,
        rss=rss,
        listeners=checks,
    )
    duration = run.ended - run.started
    by_via = Counter(a.via for a in shared.attempts if a.ok)
    last_line = totals_output.splitlines()[-1] if totals_output else "?"
    lines = [
        f"## Soak: {len(samples):,} requests in {duration:.0f} s "
        f"({len(samples) / duration:.1f} req/s), wall time {wall:.0f} s (setup {setup:.0f} s)",
        "",
        requests_table(stats),
        "",
        "Restart windows (from the stop to the first ready answer through the proxy):",
        "",
        windows_table(run.windows, account, run.started),
        "",
    ]
    if account.outside:
        lines += ["5xx/transport errors outside the windows:", ""]
        lines += [
            f"- +{s.start - run.started:.1f}s {s.endpoint}: {s.status} "
            f"({(s.end - s.start) * 1000:.0f} ms)"
            for s in account.outside[:40]
        ]
        lines.append("")
    lines += [
        "RSS after the warm-up and at the end (sum over the role's processes):",
        "",
        rss_table(rss),
        "",
        f"Orders: {orders.created:,} created with a 2xx ({by_via['page']:,} through the form, "
        f"{by_via['api']:,} through the API); "
        f"{len(stored):,} stored since the load began; {len(orders.lost)} lost, "
        f"{len(orders.duplicated)} duplicated, {len(orders.wrong_id)} with another id, "
        f"{len(orders.unknown)} unknown to the load; {len(orders.committed_after_error)} stored "
        "although their request got no 2xx (the client saw an error).",
        f"Totals (`manage.py check_totals`): {last_line}",
        f"Imports: {dict(sorted(shared.imports.items())) or 'none'}; merges: "
        f"{dict(sorted(shared.merges.items())) or 'none'}",
        "",
        "Listeners: an order counts for a socket when one of its connections was open from "
        "before the create was sent to 5 s after its answer; those whose create (plus 5 s) "
        "overlaps a restart window are excluded.",
        "",
        listeners_table(checks),
        "",
        targets_table(results),
    ]
    for item in (orders.lost, list(orders.duplicated), orders.unknown):
        if item:
            lines.append(f"examples: {item[:5]}")
    for check in checks:
        if check.missing:
            lines.append(f"{check.name} missed: {check.missing[:5]}")
    ok = all(t.ok for t in results)
    lines.append("")
    lines.append("soak: PASS" if ok else "soak: FAIL")
    # Everything the reconciliation read, for a look afterwards.
    data = {
        "started": run.started,
        "samples": [asdict(x) for x in samples],
        "windows": [asdict(w) for w in run.windows],
        "attempts": [asdict(a) for a in shared.attempts],
        "listeners": [
            {"name": x.name, "intervals": x.intervals, "received": sorted(x.received)}
            for x in run.listeners
        ],
        "stored": stored,
        "targets": [asdict(t) for t in results],
    }
    with contextlib.suppress(OSError):
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        (OUT_DIR / "soak-latest.json").write_text(json.dumps(data, indent=2))
    return "\n".join(lines), ok


if __name__ == "__main__":
    sys.exit(main())
