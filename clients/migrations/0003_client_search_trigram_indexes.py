"""Trigram indexes for the client search on PostgreSQL (docs/performance.md#search-indexes).

`Client.objects.search(q)` is `UPPER(name) LIKE UPPER('%q%') OR UPPER(email) LIKE ...`: no
B-tree can serve a leading wildcard, so at 100,000 clients the list's COUNT(*) for a search read
the whole table (~200 ms under load). GIN trigram indexes on exactly those expressions turn it
into a bitmap scan of the matches. Terms shorter than 3 characters still scan (no trigram).

The indexes are kept out of the model state on purpose: they exist on PostgreSQL only, and the
embedded SQLite default has neither pg_trgm nor GIN.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "client_name_upper_trgm": "name",
    "client_email_upper_trgm": "email",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {index} ON clients_client "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_client_merge_permission")]

    operations = [
        TrigramExtension(),  # a no-op outside PostgreSQL
        migrations.RunPython(create_indexes, drop_indexes),
    ]
