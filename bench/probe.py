"""In-process figures for one seeded database, printed as JSON for bench.run.

    .venv/bin/python -m bench.probe --explain var/bench/explain.txt

- a session for the bench login (the cookie that wrk sends), created with the server's
  SECRET_KEY (bench.run passes the same environment to both);
- the spec's literal approach, timed once: annotate the whole table, then paginate;
- the two steps the list page uses (clients.selectors.with_totals_for_page), page 1 and deep;
- what the paginator's COUNT(*) costs, and how many clients the VIP and search lists hold;
- an API token for the bench's writer (bench.write), made staff in the Sales role here;
- EXPLAIN ANALYZE of the list page's queries, written to a file.
"""

import argparse
import json
import os
import statistics
import sys
import time


def timed(fn, *, repeat: int) -> float:
    """Median wall time of `fn()` in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def bench_session_key(username: str) -> str:
    """A saved, logged-in session for `username`, as django.contrib.auth.login would make it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore

    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the one with users
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


WRITER_USERNAME = "bench-writer"


def writer_token() -> str:
    """The API token of the login that creates orders through the API (bench.write): staff
    (the API's writes need it) in the Sales role (`clients.add_order`). A login of its own, so
    the pages are measured for the bench login exactly as before; no password, only a token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from clients.permissions import SALES, role_group

    User = get_user_model()
    user = User.objects.filter(username=WRITER_USERNAME).first()
    if user is None:
        user = User.objects.create_user(WRITER_USERNAME, is_staff=True)  # unusable password
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(role_group(SALES))
    return Token.objects.get_or_create(user=user)[0].key


def aggregated(queryset):
    """`queryset` with each client's order totals aggregated from its orders: the annotation
    the list used, renamed once the totals became stored roll-ups (issue 14)."""
    annotate = getattr(queryset, "with_order_totals", None) or queryset.with_computed_totals
    return annotate()


def explain(queryset) -> str:
    return queryset.explain(analyze=True, buffers=True)


def explain_sql(sql: str, params=()) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def probe(*, deep_page: int, literal: bool, explain_path: str | None, search: str = "berg") -> dict:
    from django.conf import settings
    from django.core.paginator import Paginator
    from django.db import connection

    from bench.seed import BENCH_USERNAME
    from clients import selectors
    from clients.models import Client
    from core.pagination import AnchoredPaginator

    # The list's second step; with stored roll-ups a page needs none: its rows are the page.
    with_totals_for_page = getattr(selectors, "with_totals_for_page", list)

    clients = Client.objects.all()
    figures: dict = {
        "session_cookie": f"{settings.SESSION_COOKIE_NAME}={bench_session_key(BENCH_USERNAME)}",
        "clients": clients.count(),
        "api_token": writer_token(),
        # What ?vip=1 and ?q= list: their page=5000 is their last page (bench.endpoints).
        "vip_clients": clients.filter(vip=True).count(),
        "search_clients": clients.search(search).count(),
    }
    figures["count_ms"] = timed(clients.count, repeat=30)
    figures["counts_per_s"] = 1000 / figures["count_ms"]

    def two_step(number: int):
        page = Paginator(clients, 10).get_page(number)
        return with_totals_for_page(page.object_list)

    figures["two_step_page1_ms"] = timed(lambda: two_step(1), repeat=20)
    figures["two_step_deep_ms"] = timed(lambda: two_step(deep_page), repeat=20)
    figures["page_only_deep_ms"] = timed(
        lambda: with_totals_for_page(clients[(deep_page - 1) * 10 : deep_page * 10]), repeat=20
    )

    # The list's deep pages seek from a cached anchor (core.pagination): the same page, its
    # anchor found once, then timed without the count, like page_only_deep_ms.
    class KnownCount(AnchoredPaginator):
        count = figures["clients"]

    anchored = KnownCount(clients, 10, anchor_key=f"bench-probe:{time.time_ns()}")
    anchored.page(deep_page)
    figures["seek_deep_ms"] = timed(
        lambda: with_totals_for_page(anchored.page(deep_page).object_list), repeat=20
    )
    if literal:
        # The spec read literally: every client's orders aggregated, then the page cut out;
        # the paginator's count() keeps the join and the GROUP BY.
        def literal_page():
            # Meta.ordering is dropped from GROUP BY queries: order explicitly, as the page must.
            annotated = aggregated(clients).order_by(*Client._meta.ordering)
            page = Paginator(annotated, 10).page(1)
            return list(page.object_list)

        figures["literal_page1_ms"] = timed(literal_page, repeat=1)
    if explain_path:
        offset = (deep_page - 1) * 10
        sections = {
            "COUNT(*) (the paginator)": explain_sql(
                f"SELECT COUNT(*) FROM {Client._meta.db_table}"
            ),
            "page 1: totals for the page's clients": explain(
                aggregated(Client.objects.filter(pk__in=clients[:10].values("pk")))
            ),
            f"page {deep_page}: totals for the page's clients": explain(
                aggregated(Client.objects.filter(pk__in=clients[offset : offset + 10].values("pk")))
            ),
            f"page {deep_page}, seeking from its anchor": explain(
                aggregated(
                    Client.objects.filter(pk__in=anchored.page(deep_page).object_list.values("pk"))
                )
            ),
        }
        if any(field.name == "orders_total" for field in Client._meta.concrete_fields):
            # Stored roll-ups (issue 14): the sort by total reads its index, no GROUP BY.
            by_total = Client.objects.order_by("-orders_total", "-id")
            sections[f"?sort=-orders_total, page {deep_page} by OFFSET"] = explain(
                by_total[offset : offset + 10]
            )
        searched = Client.objects.search(search)
        sql, params = searched.order_by().values("pk").query.sql_with_params()
        sections[f"search ?q={search}: COUNT(*)"] = explain_sql(
            f"SELECT COUNT(*) FROM ({sql}) matches", params
        )
        sections[f"search ?q={search}: page 1"] = explain(
            aggregated(Client.objects.filter(pk__in=searched[:10].values("pk")))
        )
        with open(explain_path, "w", encoding="utf-8") as out:
            out.write(f"-- {connection.settings_dict['NAME']}: {figures['clients']:,} clients\n")
            for title, plan in sections.items():
                out.write(f"\n== {title}\n{plan}\n")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="In-process figures for bench.run (JSON).")
    parser.add_argument("--deep-page", type=int, default=5000)
    parser.add_argument("--no-literal", dest="literal", action="store_false")
    parser.add_argument("--explain", metavar="PATH", help="write EXPLAIN ANALYZE plans here")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mini_crm.settings")
    import django

    django.setup()
    json.dump(
        probe(deep_page=args.deep_page, literal=args.literal, explain_path=args.explain),
        sys.stdout,
    )


if __name__ == "__main__":
    main()
