"""Import the organisation's reporting lines from a CSV file, as the coordinator's page does."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workshops import membership
from workshops.errors import Invalid


class Command(BaseCommand):
    help = "Import reporting lines from a CSV file whose header is manager_email,report_email. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file (UTF-8 or Windows-1252; commas or semicolons)")

    def handle(self, *args, path, **options):
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error.strerror}) from None
        try:
            report = membership.import_reporting_lines(membership.decode_csv(data))
        except Invalid as error:
            raise CommandError(error.message) from None
        self.stdout.write(_("%(added)s added, %(known)s already known.") % {"added": report.added, "known": report.known})
        for number, message in report.errors:
            self.stderr.write(_("Line %(number)s: %(message)s") % {"number": number, "message": message})
        if report.errors:
            count = len(report.errors)
            raise CommandError(
                ngettext("%(count)s line refused; the others were imported.", "%(count)s lines refused; the others were imported.", count)
                % {"count": count}
            )
