"""A trigram index for the orders' search by title on PostgreSQL (/orders/?q=), like
0003 for the clients: `title__icontains` is `UPPER(title) LIKE UPPER('%q%')`, which no B-tree
serves, and at 1,000,000 orders a scan of the table takes ~150 ms. PostgreSQL only, kept out
of the model state, as in 0003."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS order_title_upper_trgm ON clients_order "
            "USING gin ((UPPER(title::text)) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS order_title_upper_trgm")


class Migration(migrations.Migration):
    dependencies = [("clients", "0007_order_rollups")]

    operations = [migrations.RunPython(create_index, drop_index)]
