"""The three roles as groups, with their permissions (clients/permissions.py says who may do
what). Re-running is harmless: a group is created if missing and given exactly these rights.
A permission added later is granted to its roles by a later migration, so this table stays as
it was when written."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEWING = ["view_client", "view_order"]
SELLING = [*VIEWING, "add_client", "change_client", "add_order", "change_order"]
ROLES = {
    "Managers": [*SELLING, "delete_client", "delete_order", "merge_client", "export_client"],
    "Sales": SELLING,
    "Viewers": VIEWING,
}


def create_roles(apps, schema_editor):
    # Permissions are made after the last migration; these need them now.
    config = apps.get_app_config("clients")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="clients", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("clients", "0005_client_export_permission"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
