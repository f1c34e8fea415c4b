"""Who may do what with clients and orders: Django's model permissions, one name per action, and
the three roles that bundle them. Pages, the admin, the API and the live page all ask
`user.has_perm(<one of these>)`; nothing grants a right through `is_staff` (which only means
"may enter the admin"). Superusers hold every permission.

The roles are groups kept by data migrations (clients/migrations/0006_roles.py): a permission
added later is granted to its roles by a later migration, never by hand.
"""

VIEW_CLIENT = "clients.view_client"
ADD_CLIENT = "clients.add_client"
CHANGE_CLIENT = "clients.change_client"
DELETE_CLIENT = "clients.delete_client"
MERGE_CLIENT = "clients.merge_client"
EXPORT_CLIENT = "clients.export_client"
IMPORT_CLIENT = "clients.import_client"  # clients and their orders (imports/)
VIEW_ORDER = "clients.view_order"
ADD_ORDER = "clients.add_order"
CHANGE_ORDER = "clients.change_order"
DELETE_ORDER = "clients.delete_order"
# Notes and tasks (timeline/). Add, change and delete are for one's own (the author's, the
# creator's or the assignee's); moderate is for everyone's.
VIEW_NOTE = "timeline.view_note"
ADD_NOTE = "timeline.add_note"
CHANGE_NOTE = "timeline.change_note"
DELETE_NOTE = "timeline.delete_note"
MODERATE_NOTE = "timeline.moderate_note"
VIEW_TASK = "timeline.view_task"
ADD_TASK = "timeline.add_task"
CHANGE_TASK = "timeline.change_task"
DELETE_TASK = "timeline.delete_task"
MODERATE_TASK = "timeline.moderate_task"

MANAGERS, SALES, VIEWERS = "Managers", "Sales", "Viewers"
VIEWING = (VIEW_CLIENT, VIEW_ORDER, VIEW_NOTE, VIEW_TASK)
SELLING = (
    *VIEWING,
    *(ADD_CLIENT, CHANGE_CLIENT, ADD_ORDER, CHANGE_ORDER),
    *(ADD_NOTE, CHANGE_NOTE, DELETE_NOTE, ADD_TASK, CHANGE_TASK, DELETE_TASK),
)
ROLES: dict[str, tuple[str, ...]] = {
    MANAGERS: (
        *SELLING,
        *(DELETE_CLIENT, DELETE_ORDER, MERGE_CLIENT, EXPORT_CLIENT, IMPORT_CLIENT),
        *(MODERATE_NOTE, MODERATE_TASK),
    ),
    SALES: SELLING,
    VIEWERS: VIEWING,
}


def role_group(name: str):
    """The group of the role `name` with exactly its permissions, made again when it is missing
    (a database a test has flushed, or one restored without it)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    group, created = Group.objects.get_or_create(name=name)
    if created:
        wanted = Q(pk__in=[])
        for perm in ROLES[name]:
            app_label, codename = perm.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))
    return group
