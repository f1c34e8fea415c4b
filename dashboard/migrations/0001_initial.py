"""The dashboard's roll-ups (dashboard/models.py) and the triggers that keep them
(dashboard/triggers.py), filled from the existing orders and clients once the triggers exist: on
PostgreSQL the migration's transaction holds the locks the trigger creation took, and the
rebuild takes SHARE locks on both tables, so no write slips in between. The triggers' SQL is not
frozen here: it is the current definition, re-ensured after every `migrate` (dashboard/apps.py).
"""

from django.db import migrations, models

from dashboard import triggers


def install(apps, schema_editor):
    triggers.ROLLUP_TRIGGERS.install(schema_editor.connection)
    triggers.rebuild(schema_editor.connection)


def uninstall(apps, schema_editor):
    triggers.ROLLUP_TRIGGERS.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # The triggers are on clients_order and clients_client, which must be there.
        ('clients', '0008_order_title_trigram_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='ClientRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('bucket', models.DateTimeField(unique=True)),
                ('clients_count', models.BigIntegerField(default=0)),
                ('vip_count', models.BigIntegerField(default=0)),
                ('active_count', models.BigIntegerField(default=0)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('active_count__gte', 0), ('vip_count__gte', 0), ('active_count__lte', models.F('clients_count')), ('vip_count__lte', models.F('clients_count'))), name='client_rollup_counts_consistent')],
            },
        ),
        migrations.CreateModel(
            name='OrderRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('bucket', models.DateTimeField()),
                ('status', models.CharField(choices=[('NEW', 'New'), ('IN_PROGRESS', 'In progress'), ('DONE', 'Done')], max_length=16)),
                ('orders_count', models.BigIntegerField(default=0)),
                ('amount', models.DecimalField(decimal_places=2, default=0, max_digits=20)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('bucket', 'status'), name='order_rollup_unique'), models.CheckConstraint(condition=models.Q(('orders_count__gte', 0)), name='order_rollup_count_not_negative'), models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='order_rollup_amount_not_negative')],
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
