"""Session reminders (two days before) and action-plan reminders (halfway); cron runs it hourly."""
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from workshops import reminders


class Command(BaseCommand):
    help = "Send the e-mail reminders that are due: sessions within 48 hours, open action plans at halfway."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=None, help="Site address for links (default: settings.SITE_URL).")

    def handle(self, *args, base_url=None, **options):
        now = timezone.now()
        sessions = reminders.send_session_reminders(now, base_url=base_url)
        plans = reminders.send_plan_reminders(now, base_url=base_url)
        self.stdout.write(
            _("Reminders sent: %(sessions)d for sessions, %(plans)d for action plans.") % {"sessions": sessions, "plans": plans}
        )
