"""Seed K groups of 8 for the load bench, in one go: users, groups, memberships, one case in each
group's pool, a planned session whose workshop has its case chosen, and a ready session cookie per
user, so the bench never signs 4,000 people in through HTTP.

    manage.py seed_bench --workshops 50 > seed.json

Prints one JSON object: {"workshops": [{"id", "seq", "group", "members": [{"id", "username",
"role", "cookie"}, …]}, …], "cookie_name": "sessionid"}. The first member is the facilitator,
the second the client, the six others the consultants. For a throwaway bench database only.
"""
import json
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session as DjangoSession
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from workshops import actions, sessions
from workshops.models import Case, Group, Membership, Workshop

GROUP_SIZE = 8  # a facilitator, a client, six consultants
ROLES = ["facilitator", "client"] + ["consultant"] * (GROUP_SIZE - 2)
BACKEND = "django.contrib.auth.backends.ModelBackend"
BATCH = 500


class Command(BaseCommand):
    help = "Create K bench groups of 8 with a workshop ready to start, and print their ids and session cookies as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--workshops", type=int, default=10, help="how many groups (one workshop each)")
        parser.add_argument("--prefix", default="bench", help="usernames are <prefix><group>-<member>")

    def handle(self, *args, workshops: int, prefix: str, **options):
        if not 1 <= workshops <= 5000:
            raise CommandError("--workshops must be between 1 and 5000")
        User = get_user_model()
        if User.objects.filter(username__startswith=f"{prefix}0-").exists():
            raise CommandError(f"users named {prefix}0-… already exist: seed a fresh database, or pass another --prefix")
        # One unusable-but-valid password hash for all: nobody signs in with it, and hashing
        # 4,000 passwords would take minutes with Argon2 or PBKDF2.
        password = make_password(None)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(username=f"{prefix}{g}-{m}", first_name=f"{ROLES[m].title()} {m}", last_name=f"G{g}", password=password)
                    for g in range(workshops) for m in range(GROUP_SIZE)
                ],
                batch_size=BATCH,
            )
            if users[0].pk is None:  # a database that does not return keys from bulk inserts
                users = list(User.objects.filter(username__startswith=prefix).order_by("pk"))
            groups = Group.objects.bulk_create([Group(name=f"Bench {g}") for g in range(workshops)], batch_size=BATCH)
            members = [users[g * GROUP_SIZE:(g + 1) * GROUP_SIZE] for g in range(workshops)]
            Membership.objects.bulk_create(
                [
                    Membership(group=group, user=user, role=Membership.FACILITATOR if m == 0 else Membership.MEMBER)
                    for group, people in zip(groups, members, strict=True) for m, user in enumerate(people)
                ],
                batch_size=BATCH,
            )
            cases = Case.objects.bulk_create(
                [
                    Case(group=group, owner=people[1], title=f"Cas du groupe {g}", problem="Une équipe qui ne se parle plus.")
                    for g, (group, people) in enumerate(zip(groups, members, strict=True))
                ],
                batch_size=BATCH,
            )
        out = []
        # Through the domain, one workshop at a time: plan_session makes the session and its
        # workshop, designate_case records the first event (seq 1) as a facilitator would.
        for group, people, case in zip(groups, members, cases, strict=True):
            workshop = sessions.plan_session(group, facilitator=people[0]).workshops.get()
            actions.designate_case(workshop.pk, case.pk, acting_user=people[0])
            out.append({"id": workshop.pk, "group": group.pk, "members": people})
        cookies = _session_cookies(users)
        seqs = dict(Workshop.objects.filter(pk__in=[w["id"] for w in out]).values_list("pk", "seq"))
        payload = {
            "cookie_name": settings.SESSION_COOKIE_NAME,
            "workshops": [
                {
                    "id": w["id"],
                    "seq": seqs[w["id"]],
                    "group": w["group"],
                    "members": [
                        {"id": u.pk, "username": u.username, "role": ROLES[m], "cookie": cookies[u.pk]}
                        for m, u in enumerate(w["members"])
                    ],
                }
                for w in out
            ],
        }
        self.stdout.write(json.dumps(payload))


def _session_cookies(users) -> dict[int, str]:
    """One signed-in session per user, inserted in bulk: the same data login() would store."""
    store = SessionStore()
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows, cookies = [], {}
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: BACKEND, HASH_SESSION_KEY: user.get_session_auth_hash()}
        rows.append(DjangoSession(session_key=key, session_data=store.encode(data), expire_date=expires))
        cookies[user.pk] = key
    DjangoSession.objects.bulk_create(rows, batch_size=BATCH)
    return cookies
