"""The soak's people, run once in the stack's environment before the load
(`python -m bench.soak_fixtures <count> <listeners>`, password in SOAK_PASSWORD): the demo data
(`seed_demo --force`: a throwaway database), then one login per virtual user with its role, a
session it starts with (as a user already logged in; logging in again through the form is one of
its actions: the password hasher costs a second of CPU a login, on purpose, and 37 logins at
once would be the whole warm-up), and API tokens for half the staff users (the other half use
their session and CSRF token on the API). Prints them as JSON.

The roles are the app's (clients/permissions.py): Managers may also export, import and merge;
Sales add and change; Viewers only read. The API's writes need staff status (api/permissions.py),
so some Sales users are staff and some are not (those write through the pages only)."""

import io
import json
import os
import sys


def main(count: int, listeners: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mini_crm.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from clients.permissions import MANAGERS, SALES, VIEWERS, role_group

    # It says what it created on stdout, which carries our JSON.
    call_command("seed_demo", clients=300, orders=3, force=True, stdout=io.StringIO())
    from bench.probe import bench_session_key

    # One hash for every user: the hasher costs a second of CPU each, on purpose.
    password = make_password(os.environ["SOAK_PASSWORD"])
    User = get_user_model()
    people = []
    for index in range(count + listeners):
        if index >= count:
            role, staff, name = VIEWERS, False, f"soak-listener-{index - count:02d}"
        else:
            share = index / count
            role = MANAGERS if share < 0.2 else SALES if share < 0.8 else VIEWERS
            # A quarter of the Sales users are not staff: they write through the pages only.
            staff = role == MANAGERS or (role == SALES and share < 0.65)
            name = f"soak-{index:02d}"
        user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": staff})
        user.password = password
        user.save()
        user.groups.add(role_group(role))
        token = Token.objects.get_or_create(user=user)[0].key if staff and index % 2 == 0 else ""
        people.append(
            {
                "username": name,
                "role": role,
                "staff": staff,
                "token": token,
                "session": bench_session_key(name),
            }
        )
    json.dump(people, sys.stdout)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
