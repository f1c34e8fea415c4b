"""Roll-ups of each client's orders, stored on the client and kept by database triggers.

`orders_count`, `orders_total` and `open_orders_count` (orders not DONE) change in the same
transaction as the order rows, through triggers on `clients_order`: no path can forget them,
not `QuerySet.update()` (the merge), not `bulk_create` (imports), not the admin, raw SQL or
`COPY` (the bench's seed). Signals or overridden `save()`s see none of those bulk paths, and
a service function is only as good as the discipline of every caller.

PostgreSQL: statement-level triggers with transition tables, so a statement that moves 20,000
orders (a merge) updates each client touched once, not once per order. The clients are locked
in id order first, so two statements touching the same clients queue instead of deadlocking.
SQLite has no statement-level triggers: one trigger per row, which is plenty for the embedded
default. Both spell DONE, the one status that is not open (clients.models.OPEN_EXCLUDED).

The triggers' SQL lives in clients/triggers.py, not frozen here: they are the current
definition, installed by this migration and re-ensured after every `migrate` (clients/apps.py),
the way Django re-ensures permissions. Existing rows are filled from the orders after the
triggers exist (on PostgreSQL the migration's transaction holds the lock the trigger creation
took, so no write slips in between).
"""

from decimal import Decimal
from django.db import migrations, models




from clients import triggers


def install(apps, schema_editor):
    triggers.ROLLUP_TRIGGERS.install(schema_editor.connection)
    schema_editor.execute(triggers.BACKFILL)


def uninstall(apps, schema_editor):
    triggers.ROLLUP_TRIGGERS.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0006_roles'),
    ]

    operations = [
        migrations.AddField(
            model_name='client',
            name='open_orders_count',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='client',
            name='orders_count',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='client',
            name='orders_total',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), editable=False, max_digits=18),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['orders_total', 'id'], name='client_by_orders_total'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['orders_count', 'id'], name='client_by_orders_count'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['name', 'id'], name='client_by_name'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(condition=models.Q(('open_orders_count__gt', 0)), fields=['-created_at', '-id'], name='client_active_newest_first'),
        ),
        migrations.AddConstraint(
            model_name='client',
            constraint=models.CheckConstraint(condition=models.Q(('open_orders_count__lte', models.F('orders_count'))), name='client_open_orders_within_orders'),
        ),
        migrations.AddConstraint(
            model_name='client',
            constraint=models.CheckConstraint(condition=models.Q(('orders_total__gte', 0)), name='client_orders_total_not_negative'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(condition=models.Q(('vip', True)), fields=['-created_at', '-id'], name='client_vip_newest_first'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['-created_at', '-id'], name='order_newest_first'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['amount', 'id'], name='order_by_amount'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['status', '-created_at', '-id'], name='order_status_newest_first'),
        ),
        # The new index first, so the orders' foreign key is indexed all along.
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['client', '-created_at', '-id'], name='order_client_newest_first'),
        ),
        migrations.RemoveIndex(model_name='order', name='order_client_totals'),
        # created_at and status are indexed with the id now (order_newest_first,
        # order_status_newest_first): their single-column indexes go.

        migrations.AlterField(
            model_name='order',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AlterField(
            model_name='order',
            name='status',
            field=models.CharField(choices=[('NEW', 'New'), ('IN_PROGRESS', 'In progress'), ('DONE', 'Done')], default='NEW', max_length=16),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
