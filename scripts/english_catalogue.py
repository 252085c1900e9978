"""Fill the English catalogue: English is the source language, so each empty English msgstr takes
its msgid (msgid_plural for the plural form). An English wording chosen by hand is kept.

Run by `make messages` after makemessages; tests/test_i18n.py fails while an entry is left empty.
"""
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parents[1] / "locale" / "en" / "LC_MESSAGES" / "django.po"


def fill(path: Path = PO) -> int:
    catalogue = polib.pofile(str(path), wrapwidth=79)
    filled = 0
    for entry in catalogue:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:  # makemessages' guess from an older source: take the new source
            entry.flags.remove("fuzzy")
            entry.msgstr, entry.msgstr_plural = "", {}
        if entry.msgid_plural:
            if not all(entry.msgstr_plural.get(i) for i in (0, 1)):
                entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
                filled += 1
        elif not entry.msgstr:
            entry.msgstr = entry.msgid
            filled += 1
    catalogue.save()
    return filled


if __name__ == "__main__":
    count = fill(Path(sys.argv[1]) if len(sys.argv) > 1 else PO)
    print(f"{count} English entries filled from their source")
