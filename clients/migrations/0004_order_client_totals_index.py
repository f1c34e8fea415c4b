"""A covering index for the order totals (clients.models.Order.Meta.indexes).

`order_client_totals` is `(client_id) INCLUDE (amount, id)`: the list's and the export's
GROUP BY read the index alone on PostgreSQL. It replaces the foreign key's own index on
`client_id` (same key, so the FK lookups and the cascade delete use it too). Built before the
old index goes, so a client's orders are always indexed. SQLite builds it without INCLUDE.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0003_client_search_trigram_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["client"], include=("amount", "id"), name="order_client_totals"
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="client",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="orders",
                to="clients.client",
            ),
        ),
    ]
