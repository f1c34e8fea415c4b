"""In-process figures for one seeded database, printed as JSON for bench.run.

    .venv/bin/python -m bench.probe --explain var/bench/explain.txt

- a session for the bench login (the cookie that wrk sends), created with the server's
  SECRET_KEY (bench.run passes the same environment to both);
- the spec's literal approach, timed once: annotate the whole table, then paginate;
- the two steps the list page uses (clients.selectors.with_totals_for_page), page 1 and deep;
- what the paginator's COUNT(*) costs;
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
    from clients.models import Client
    from clients.selectors import with_totals_for_page
    from core.pagination import AnchoredPaginator

    clients = Client.objects.all()
    figures: dict = {
        "session_cookie": f"{settings.SESSION_COOKIE_NAME}={bench_session_key(BENCH_USERNAME)}",
        "clients": clients.count(),
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
            annotated = clients.with_order_totals().order_by(*Client._meta.ordering)
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
                Client.objects.filter(pk__in=clients[:10].values("pk")).with_order_totals()
            ),
            f"page {deep_page}: totals for the page's clients": explain(
                Client.objects.filter(
                    pk__in=clients[offset : offset + 10].values("pk")
                ).with_order_totals()
            ),
            f"page {deep_page}, seeking from its anchor (what the list runs)": explain(
                Client.objects.filter(
                    pk__in=anchored.page(deep_page).object_list.values("pk")
                ).with_order_totals()
            ),
        }
        searched = Client.objects.search(search)
        sql, params = searched.order_by().values("pk").query.sql_with_params()
        sections[f"search ?q={search}: COUNT(*)"] = explain_sql(
            f"SELECT COUNT(*) FROM ({sql}) matches", params
        )
        sections[f"search ?q={search}: page 1"] = explain(
            Client.objects.filter(pk__in=searched[:10].values("pk")).with_order_totals()
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
