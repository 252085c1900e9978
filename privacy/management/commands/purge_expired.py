"""Purge the content of workshops past their group's retention; cron runs it daily."""
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from privacy import retention


class Command(BaseCommand):
    help = "Purge the content of ended workshops older than their group's retention (journals and client records kept)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be purged; change nothing.")

    def handle(self, *args, dry_run=False, **options):
        report = retention.purge_expired(dry_run=dry_run)
        heading = _("Would purge (dry run):") if dry_run else _("Purged:")
        counts = ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in report.items())
        self.stdout.write(f"{heading} {counts}")
