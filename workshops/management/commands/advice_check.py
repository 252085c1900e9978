"""Classify clarification questions read on standard input, to measure the detector on your own.

    printf 'Avez-vous pensé à déléguer ?\nPourquoi a-t-il refusé ?\n' | python manage.py advice_check
    advice
    question

One line out per line in, in order, as soon as each line arrives; a blank line is a question.
"""
import io
import os
import sys

from django.core.management.base import BaseCommand

from workshops.advice import is_advice


class Command(BaseCommand):
    help = "Read one question per line on standard input; print `advice` or `question` for each, in the same order."
    requires_system_checks: list[str] = []  # no database, no checks: starts fast, works anywhere

    def handle(self, *args, **options):
        source = options.get("stdin") or sys.stdin
        raw = getattr(source, "buffer", None)
        lines = io.TextIOWrapper(raw, encoding="utf-8", errors="replace") if raw is not None else source
        try:
            for line in iter(lines.readline, ""):
                self.stdout.write("advice" if is_advice(line) else "question")
                self.stdout.flush()
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
