"""The cast every test uses: a group with its facilitator, a client and consultants, and an outsider."""
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from workshops import actions, sessions
from workshops.models import Case, Group, Membership, Workshop  # noqa: F401 (Workshop: type)
from workshops.steps import Step


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Each test its own cache (the throttle's counters live there): the configured backend under
    a key prefix of its own, so one test's failed sign-ins never lock the next one out and parallel
    runs sharing one Redis never meet; nothing is ever flushed."""
    prefix = f"test-{uuid.uuid4().hex}"
    cache = dict(settings.CACHES["default"], KEY_PREFIX=prefix)
    if cache["BACKEND"].endswith("LocMemCache"):
        cache["LOCATION"] = prefix  # a store of its own, empty
    settings.CACHES = {**settings.CACHES, "default": cache}


@dataclass
class Cast:
    group: Group
    workshop: Workshop
    case: Case
    claire: User  # facilitator
    marc: User  # client
    sophie: User  # consultant
    julien: User  # consultant
    olivier: User  # member of another group only

    def at_step(self, step: Step) -> Workshop:
        """Bring the workshop to `step` through the domain actions, as a facilitator would."""
        workshop = Workshop.objects.get(pk=self.workshop.pk)
        if workshop.status == Workshop.PLANNED:
            actions.designate_case(workshop.pk, self.case.pk, acting_user=self.claire)
            actions.start(workshop.pk, acting_user=self.claire)
        workshop.refresh_from_db()
        while workshop.step < step:
            actions.advance(workshop.pk, from_step=workshop.step, acting_user=self.claire)
            workshop.refresh_from_db()
        return workshop


def make_user(username: str, first: str, last: str) -> User:
    return User.objects.create_user(username, password="pw-" + username, first_name=first, last_name=last)


def make_cast() -> Cast:
    claire = make_user("claire", "Claire", "Morel")
    marc = make_user("marc", "Marc", "Lefèvre")
    sophie = make_user("sophie", "Sophie", "Bernard")
    julien = make_user("julien", "Julien", "Petit")
    olivier = make_user("olivier", "Olivier", "Dupuis")
    group = Group.objects.create(name="Groupe Test")
    Membership.objects.create(group=group, user=claire, role=Membership.FACILITATOR)
    for user in (marc, sophie, julien):
        Membership.objects.create(group=group, user=user)
    other = Group.objects.create(name="Autre groupe")
    Membership.objects.create(group=other, user=olivier)
    case = Case.objects.create(group=group, owner=marc, title="Reprendre une équipe", problem="Personne ne parle.")
    workshop = sessions.plan_session(group, facilitator=claire).workshops.get()
    return Cast(group, workshop, case, claire, marc, sophie, julien, olivier)


@pytest.fixture
def cast(db) -> Cast:
    return make_cast()


@pytest.fixture
def cid():
    return lambda: str(uuid.uuid4())
