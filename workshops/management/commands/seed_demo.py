"""Seed the demo group, its cases and a workshop ready to start; print one sign-in link per member."""
import json as jsonlib
from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.tokens import signin_path
from workshops.models import Case, Group, Membership, Workshop

GROUP = "Groupe Managers Lyon"
PASSWORD = "codev-demo"
# (username, first name, last name); the first is the facilitator, the second the client.
MEMBERS = [
    ("claire", "Claire", "Morel"),
    ("marc", "Marc", "Lefèvre"),
    ("sophie", "Sophie", "Bernard"),
    ("julien", "Julien", "Petit"),
    ("nadia", "Nadia", "Benali"),
    ("thomas", "Thomas", "Girard"),
    ("emilie", "Émilie", "Roux"),
    ("karim", "Karim", "Haddad"),
]
CASES = {
    "marc": {
        "title": "Reprendre une équipe qui a perdu confiance",
        "context": (
            "Depuis trois mois, je manage une équipe de neuf techniciens de maintenance sur le site de "
            "Vénissieux. Mon prédécesseur est parti après un conflit ouvert avec deux anciens de l'équipe, "
            "et la direction m'a demandé de « remettre de l'ordre » avant l'audit de mars."
        ),
        "problem": (
            "En réunion, personne ne parle ; dans les couloirs, les critiques fusent. Deux techniciens "
            "expérimentés refusent les nouveaux plannings et les plus jeunes s'alignent sur eux. "
            "Je ne sais pas si je dois imposer ou négocier."
        ),
        "tried": (
            "Des entretiens individuels (polis mais fermés), un point d'équipe hebdomadaire que j'anime seul, "
            "et une relance écrite des règles de planning, mal reçue."
        ),
        "expectations": "Trouver une ou deux façons concrètes de rétablir le dialogue avant l'audit.",
    },
    "sophie": {
        "title": "Dire non à ma direction sans passer pour la bloquante",
        "context": "Responsable RH d'un établissement de 300 personnes, je reçois chaque semaine de nouvelles demandes urgentes.",
        "problem": "Je n'arrive plus à prioriser et mon équipe s'épuise ; refuser me semble risqué.",
        "tried": "J'ai proposé une liste de priorités partagée, restée lettre morte.",
        "expectations": "Des manières de poser des limites qui soient entendues.",
    },
}


class Command(BaseCommand):
    help = "Create the demo group (8 members), two cases and a workshop ready to start."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--fresh", action="store_true", help="recreate the demo group from scratch")
        parser.add_argument("--json", action="store_true", help="print the links as JSON")

    def handle(self, *args, base_url, fresh, **options):
        with transaction.atomic():
            if fresh:
                Group.objects.filter(name=GROUP).delete()
            users = self._members()
            group = Group.objects.filter(name=GROUP).first() or self._group(users)
            workshop = group.workshops.order_by("-id").first()
            if workshop.status != Workshop.PLANNED:  # the demo always offers a workshop to start
                workshop = self._next_session(group, workshop)
        links = [
            {
                "username": u.username,
                "name": u.get_full_name(),
                "role": self._role(u, workshop),
                "url": base_url.rstrip("/") + signin_path(u),
            }
            for u in users
        ]
        if options["json"]:
            self.stdout.write(_json_dumps({"workshop": workshop.pk, "links": links}))
            return
        self.stdout.write(f"\n{GROUP} — {workshop.title}\n")
        self.stdout.write(f"Salle de l'atelier : {base_url.rstrip('/')}/workshops/{workshop.pk}/\n")
        self.stdout.write("Liens de connexion (un clic, usage unique ; ouvrez-les dans des profils de navigateur différents) :\n")
        for link in links:
            self.stdout.write(f"  {link['name']:<16} {link['role']:<24} {link['url']}\n")
        self.stdout.write(f"Mot de passe de démonstration pour tous : {PASSWORD}\n\n")

    def _members(self):
        User = get_user_model()
        users = []
        for username, first, last in MEMBERS:
            user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
            if created:
                user.set_password(PASSWORD)
                user.save()
            users.append(user)
        return users

    def _group(self, users):
        group = Group.objects.create(name=GROUP)
        for i, user in enumerate(users):
            Membership.objects.create(group=group, user=user, role=Membership.FACILITATOR if i == 0 else Membership.MEMBER)
        by_name = {u.username: u for u in users}
        for owner, fields in CASES.items():
            Case.objects.create(group=group, owner=by_name[owner], **fields)
        today = timezone.localdate()
        Workshop.objects.create(
            group=group,
            title="Séance 3 — co-développement",
            scheduled_at=timezone.make_aware(timezone.datetime.combine(today + timedelta(days=0), time(18, 0))),
            facilitator=users[0],
        )
        return group

    @staticmethod
    def _next_session(group, previous):
        number = group.workshops.count() + 3  # the demo group's first workshop is its 3rd session
        return Workshop.objects.create(
            group=group,
            title=f"Séance {number} — co-développement",
            scheduled_at=timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1),
            facilitator=previous.facilitator,
        )

    @staticmethod
    def _role(user, workshop) -> str:
        if user.pk == workshop.facilitator_id:
            return "animatrice"
        if Case.objects.filter(group=workshop.group, owner=user, title=CASES["marc"]["title"]).exists():
            return "client (cas prévu)"
        return "consultant·e"


def _json_dumps(data) -> str:
    return jsonlib.dumps(data, ensure_ascii=False)
