"""Notes and tasks join the roles (clients/permissions.py ROLES): everyone reads them, Sales
and Managers add, edit and delete their own, Managers everyone's."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OWN = ["add_note", "change_note", "delete_note", "add_task", "change_task", "delete_task"]
GRANTS = {
    "Managers": ["view_note", "view_task", *OWN, "moderate_note", "moderate_task"],
    "Sales": ["view_note", "view_task", *OWN],
    "Viewers": ["view_note", "view_task"],
}


def grant_to_roles(apps, schema_editor):
    config = apps.get_app_config("timeline")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=GRANTS):
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="timeline", codename__in=GRANTS[group.name]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("clients", "0009_import_permission"),
        ("timeline", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant_to_roles, migrations.RunPython.noop)]
