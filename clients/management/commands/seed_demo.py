import random
import unicodedata
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, Order
from clients.permissions import MANAGERS, SALES, VIEWERS, role_group
from clients.services import is_vip_email
from core.models import Profile
from timeline.models import Note, Task

FIRST = [
    "Anna",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Nora",
    "Olga",
    "Paul",
    "Quinn",
    "Rosa",
    "Sven",
    "Tomás",
    "Ute",
    "Vera",
    "Wen",
    "Yara",
    "Zoé",
]
LAST = [
    "Müller",
    "Schmidt",
    "Novak",
    "Rossi",
    "García",
    "Dubois",
    "Jensen",
    "Kowalski",
    "Tanaka",
    "Silva",
    "Öztürk",
    "Nilsson",
    "Fischer",
    "Moreau",
    "Costa",
    "Ivanova",
    "Horvat",
    "Berg",
    "Lindqvist",
    "O'Brien",
]
TITLES = [
    "Website redesign",
    "Annual support",
    "Onboarding workshop",
    "Hardware bundle",
    "Consulting day",
    "License renewal",
    "Data migration",
    "Training pack",
    "Custom report",
    "Cloud hosting",
]
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo12345"
# One login per role, so a newcomer sees at once what each may do (`make run` prints them).
# Staff, so that each can also try the admin and API writes, which their role then limits.
ROLE_LOGINS = {
    "manager": ("manager12345", MANAGERS),
    "sales": ("sales12345", SALES),
    "viewer": ("viewer12345", VIEWERS),
}
# A manager whose profile is Russian, in Moscow's time: every page, date and e-mail in Russian
# (core/preferences.py), beside the English logins above.
RUSSIAN_LOGIN = ("demo-ru", "demo-ru12345", MANAGERS)
RUSSIAN_PROFILE = {"language": "ru", "time_zone": "Europe/Moscow"}
BATCH = 5_000
# A few notes and follow-ups on every third client, so the timeline and /tasks/ mean something.
NOTES = [
    "Called: wants a **quote by Friday** for the next phase.",
    "Met at the trade fair. Interested in:\n- annual support\n- a training day",
    "Prefers e-mail to phone calls; the invoices go to accounting.",
    "Asked for a discount on the renewal: offered **5%** if signed this month.",
]
TASKS = ["Send the quote", "Call back about the renewal", "Book the onboarding workshop"]
# The demo data's history, in days back from now.
DEMO_DAYS = 365


def ascii_slug(word: str) -> str:
    """ "Zoé" -> "zoe", "O'Brien" -> "obrien": demo emails stay plain ASCII."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


class Command(BaseCommand):
    help = (
        "Load demo clients and orders, a 'demo' superuser, one login per role "
        "(manager, sales, viewer) and a Russian manager (demo-ru). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=60, help="number of demo clients")
        parser.add_argument(
            "--orders", type=int, default=4, help="average orders per client (0 for none)"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when any client exists"
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (repeatable data)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DJANGO_DEBUG off (the demo logins have published passwords)",
        )

    def handle(
        self, *, clients: int, orders: int, if_empty: bool, seed: int, force: bool, **options
    ):
        # The demo logins' passwords are in the README: in production they are open doors.
        if not settings.DEBUG and not force:
            raise CommandError(
                _(
                    "seed_demo creates logins with published passwords: it runs only with "
                    "DJANGO_DEBUG=1 (or --force, for a throwaway database)."
                )
            )
        if clients < 0 or orders < 0:
            raise CommandError(_("--clients and --orders must not be negative."))
        self.ensure_demo_user()
        self.ensure_role_users()
        self.ensure_russian_user()
        if if_empty and Client.objects.exists():
            self.stdout.write(_("Clients exist already: no demo data loaded."))
            return
        rng = random.Random(seed)
        created_clients = created_orders = 0
        # Emails are derived from the index, so a second run finds the same clients and adds
        # only what is missing: idempotent.
        for start in range(0, clients, BATCH):
            stop = min(start + BATCH, clients)
            with transaction.atomic():
                batch = [self.make_client(i, rng) for i in range(start, stop)]
                emails = [c.email for c in batch]
                existing = set(
                    Client.objects.filter(email__in=emails).values_list("email", flat=True)
                )
                new = Client.objects.bulk_create([c for c in batch if c.email not in existing])
                created_clients += len(new)
                order_rows = [
                    self.make_order(client, rng)
                    for client in new
                    for _ in range(rng.randint(0, 2 * orders) if orders else 0)
                ]
                created_orders += len(Order.objects.bulk_create(order_rows, batch_size=BATCH))
                self.backdate(new, order_rows, rng)
                self.add_timeline(new[::3], rng)
            self.progress(stop, clients)
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data: %(clients)d clients and %(orders)d orders added.")
                % {"clients": created_clients, "orders": created_orders}
            )
        )

    def progress(self, done: int, total: int) -> None:
        if total < BATCH * 2:
            return
        width = 30
        filled = width * done // total
        self.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} clients",
            ending="\n" if done == total else "",
        )
        self.stderr.flush()

    def ensure_demo_user(self) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "first_name": "Demo"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            self.stdout.write(
                _("Created the demo login: %(username)s / %(password)s")
                % {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
            )

    def ensure_role_users(self) -> None:
        """The groups come from the migrations; a missing one is a database not migrated."""
        for username, (password, role) in ROLE_LOGINS.items():
            self.ensure_login(username, password, role, first_name=username.title())

    def ensure_russian_user(self) -> None:
        """Its profile is set on every run, as its group is: the login shows Russian pages."""
        username, password, role = RUSSIAN_LOGIN
        user = self.ensure_login(username, password, role, first_name="Дарья")
        Profile.objects.update_or_create(user=user, defaults=RUSSIAN_PROFILE)

    def ensure_login(self, username: str, password: str, role: str, *, first_name: str):
        """The demo login in `role`; its password only when it is new (a changed one is kept)."""
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "first_name": first_name}
        )
        if created:
            user.set_password(password)
            user.save()
            self.stdout.write(
                _("Created the %(role)s login: %(username)s / %(password)s")
                % {"role": role, "username": username, "password": password}
            )
        user.groups.add(role_group(role))
        return user

    @staticmethod
    def make_client(index: int, rng: random.Random) -> Client:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = (
            "company.com" if index % 9 == 0 else rng.choice(["mail.test", "corp.test", "shop.test"])
        )
        email = f"{ascii_slug(first)}.{ascii_slug(last)}.{index}@{domain}"
        return Client(
            name=f"{first} {last}",
            email=email,
            phone=f"+49 30 {rng.randint(1000000, 9999999)}" if rng.random() < 0.8 else "",
            # bulk_create sends no post_save: apply the VIP rule here, the same function.
            vip=is_vip_email(email),
        )

    @staticmethod
    def backdate(clients: list[Client], orders: list[Order], rng: random.Random) -> None:
        """Spread the new rows over the last year (created_at is set on insert, so it is
        changed after), so the dashboard's months and the list's "date added" mean something:
        clients from a year ago to today, each order between its client's arrival and now."""
        now = timezone.now()
        for client in clients:
            # More clients lately, as a growing business has: a square root skews to recent.
            client.created_at = now - timedelta(days=DEMO_DAYS * (1 - rng.random() ** 0.5))
        for order in orders:
            since = (now - order.client.created_at).total_seconds()
            order.created_at = order.client.created_at + timedelta(seconds=since * rng.random())
        Client.objects.bulk_update(clients, ["created_at"], batch_size=BATCH)
        Order.objects.bulk_update(orders, ["created_at"], batch_size=BATCH)

    @staticmethod
    def add_timeline(clients: list[Client], rng: random.Random) -> None:
        """Notes since each client arrived, and one open task each for the role logins, due
        from three days ago (overdue) to a week ahead. Bulk-created: no history entries."""
        users = list(get_user_model().objects.filter(username__in=["manager", "sales"]))
        if not users:
            return
        now = timezone.now()
        notes, tasks = [], []
        for client in clients:
            since = (now - client.created_at).total_seconds()
            for _note in range(rng.randint(1, 2)):
                at = client.created_at + timedelta(seconds=since * rng.random())
                author = rng.choice(users)
                notes.append(
                    Note(client=client, author=author, body=rng.choice(NOTES), created_at=at)
                )
            tasks.append(
                Task(
                    client=client,
                    title=rng.choice(TASKS),
                    assignee=rng.choice(users),
                    created_by=rng.choice(users),
                    due_at=now + timedelta(hours=rng.randint(-72, 7 * 24)),
                    created_at=now - timedelta(hours=rng.randint(1, 72)),
                )
            )
        made = Note.objects.bulk_create(notes, batch_size=BATCH)
        # Written long ago, never edited since (auto_now stamped them with today).
        Note.objects.filter(pk__in=[note.pk for note in made]).update(updated_at=F("created_at"))
        Task.objects.bulk_create(tasks, batch_size=BATCH)

    @staticmethod
    def make_order(client: Client, rng: random.Random) -> Order:
        return Order(
            client=client,
            title=rng.choice(TITLES),
            amount=Decimal(rng.randint(1_000, 500_000)) / 100,
            status=rng.choice(Order.Status.values),
        )
