"""The translations: complete French and English catalogues, compiled .mo files in step with them,
no string left out (marked or not), and pages that speak French by default and English on request.

When a string is added to the code or a template, test_every_marked_string_is_in_the_catalogue fails:
run `make messages` (makemessages for fr and en, then scripts/english_catalogue.py fills English
from the source), translate the new entries of locale/fr/LC_MESSAGES/django.po, then
`manage.py compilemessages --ignore '.venv/*'`.
"""
import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

from workshops.steps import Step

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
LANGS = ("fr", "en")

# What makemessages leaves out, as in the command above; hidden directories and caches too.
SKIPPED_DIRS = {".venv", "tests", "locale", "var", "node_modules", "__pycache__", "staticfiles", "test-artifacts"}
SOURCE_SUFFIXES = {".py", ".html", ".txt"}  # makemessages' defaults for the "django" domain


# --- A small .po reader -------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included (msgid ""). Obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None  # which field a continuation line extends

    def start(lineno: int) -> Entry:
        nonlocal entry
        if entry is None:
            entry = Entry(line=lineno)
        return entry

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            if entry is not None:
                entries.append(entry)
            entry, target = None, None
            continue
        if line.startswith("#,"):
            start(lineno).flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert target is not None, f"{path}:{lineno}: continuation line outside an entry"
            name, index = target
            value = ast.literal_eval(line)
            if name == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, name, getattr(entry, name) + value)
            continue
        keyword, _, rest = line.partition(" ")
        value = ast.literal_eval(rest)
        current = start(lineno)
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if match:
            target = ("msgstr", int(match.group(1)))
            current.msgstr[target[1]] = value
        elif keyword == "msgstr":
            target = ("msgstr", 0)
            current.msgstr[0] = value
        elif keyword in ("msgid", "msgid_plural", "msgctxt"):
            target = (keyword, None)
            setattr(current, keyword, value)
        else:
            raise AssertionError(f"{path}:{lineno}: unexpected line {raw!r}")
    if entry is not None:
        entries.append(entry)
    return entries


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def messages(lang: str) -> list[Entry]:
    """The catalogue's messages, header left out."""
    return [e for e in read_po(po_path(lang)) if e.msgid]


def header(lang: str) -> Entry:
    return next(e for e in read_po(po_path(lang)) if not e.msgid and e.msgctxt is None)


def expected_catalog(lang: str) -> dict:
    """What msgfmt makes of the .po, in the shape of GNUTranslations._catalog: translated, non-fuzzy only."""
    catalog = {}
    for e in messages(lang):
        if e.fuzzy or not all(e.msgstr.values()):
            continue
        msgid = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            catalog[msgid] = e.msgstr[0]
        else:
            for index, text in e.msgstr.items():
                catalog[(msgid, index)] = text
    return catalog


PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


# --- (a) Both catalogues are complete -------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated_and_none_is_fuzzy(lang):
    """English is the source language, but its catalogue is filled too (scripts/english_catalogue.py):
    an empty or fuzzy entry in either language means a string nobody looked at."""
    entries = messages(lang)
    assert len(entries) > 100  # the catalogue was generated, not left empty
    untranslated = [e.msgid for e in entries if not e.msgstr or not all(s.strip() for s in e.msgstr.values())]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert not untranslated, f"untranslated in {lang}: {untranslated}"
    assert not fuzzy, f"fuzzy in {lang} (check the translation, then remove the flag): {fuzzy}"
    plurals = [e.msgid for e in entries if e.msgid_plural is not None and sorted(e.msgstr) != [0, 1]]
    assert not plurals, f"plural entries need msgstr[0] and msgstr[1]: {plurals}"


def test_french_header_is_usable():
    """A fuzzy header is ignored by msgfmt: French plurals (0 and 1 are singular) would be lost."""
    head = header("fr")
    assert not head.fuzzy
    text = head.msgstr[0]
    assert "Language: fr\n" in text
    assert "charset=UTF-8" in text
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in text


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_their_placeholders(lang):
    wrong = []
    for e in messages(lang):
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        wanted = placeholders(sources[-1])
        for index, text in e.msgstr.items():
            # A singular form may drop the count (it is 1), never another placeholder.
            got = placeholders(text)
            if got != wanted and not (e.msgid_plural is not None and index == 0 and got == placeholders(e.msgid)):
                wrong.append((e.msgid, text))
    assert not wrong, f"placeholders differ: {wrong}"


def test_french_typography_is_consistent():
    """Typographic apostrophes, and no breakable space before : ; ? ! (use U+00A0 or U+202F)."""
    straight = [s for e in messages("fr") for s in e.msgstr.values() if "'" in s]
    assert not straight, f"use ’ rather than ': {straight}"
    breakable = [s for e in messages("fr") for s in e.msgstr.values() if re.search(r" [:;?!»]|« ", s)]
    assert not breakable, f"use a no-break space (U+00A0 or U+202F) here: {breakable}"


def test_english_catalogue_is_the_source():
    """English is the source language: its catalogue exists and holds the same messages as the French one."""
    assert {e.key for e in messages("en")} == {e.key for e in messages("fr")}
    assert not header("en").fuzzy


# --- (b) The committed .mo files are compiled from the committed .po files ----------------------


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_is_up_to_date(lang):
    mo = LOCALE / lang / "LC_MESSAGES" / "django.mo"
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages --ignore '.venv/*'"
    with mo.open("rb") as fp:
        compiled = gettext.GNUTranslations(fp)
    loaded = {k: v for k, v in compiled._catalog.items() if k != ""}
    expected = expected_catalog(lang)
    stale = {k for k in expected.keys() | loaded.keys() if expected.get(k) != loaded.get(k)}
    assert not stale, f"{mo} differs from its .po on {sorted(map(str, stale))[:10]}: run manage.py compilemessages"
    if lang == "fr":
        assert compiled.ngettext("%(counter)s evaluation received", "%(counter)s evaluations received", 0).startswith(
            "%(counter)s évaluation "
        ), "French: 0 takes the singular; is the header's Plural-Forms compiled?"


# --- (c) Every string marked for translation is in the catalogue --------------------------------


def source_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix in SOURCE_SUFFIXES:
                yield path


# For each gettext function: the positions of (context, msgid, plural) among its arguments.
KEYWORDS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


def marked_in_python(source: str) -> set[tuple[str | None, str]]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in KEYWORDS:
            continue
        ctx_at, id_at, _plural_at = KEYWORDS[name]
        args = node.args
        literal = [isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args]
        if len(args) <= id_at or not literal[id_at] or (ctx_at is not None and not literal[ctx_at]):
            continue  # a variable: nothing to extract, as for xgettext
        found.add((args[ctx_at].value if ctx_at is not None else None, args[id_at].value))
    return found


TEMPLATIZED_CALL = re.compile(r"\b(n?p?gettext)\(((?:\s*u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\s*,?)+)")
LITERAL = re.compile(r"u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")


def marked_in_template(source: str, origin: str) -> set[tuple[str | None, str]]:
    """Django turns a template into gettext calls for xgettext (templatize); read those calls."""
    found = set()
    for match in TEMPLATIZED_CALL.finditer(templatize(source, origin=origin)):
        literals = [ast.literal_eval(s) for s in LITERAL.findall(match.group(2))]
        if match.group(1).startswith(("pgettext", "npgettext")):
            found.add((literals[0], literals[1]))
        else:
            found.add((None, literals[0]))
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_marked_string_is_in_the_catalogue(lang):
    """Pure Python, no gettext tools needed: literals in gettext calls and translate tags."""
    catalogue = {e.key for e in messages(lang)}
    missing = {}
    for path in source_files():
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            marked = marked_in_python(source)
        else:
            marked = marked_in_template(source, str(path))
        for key in marked - catalogue:
            missing.setdefault(key, []).append(str(path.relative_to(ROOT)))
    assert not missing, (
        f"{len(missing)} string(s) missing from locale/{lang}/LC_MESSAGES/django.po: {missing}. "
        "Run make messages, translate, compilemessages (see this module's docstring)."
    )


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools (xgettext) are not installed")
def test_makemessages_finds_nothing_new(tmp_path):
    """The real extraction, into a copy of the project: the committed catalogue is never touched."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=lambda d, names: [n for n in names if n.startswith(".") or n in SKIPPED_DIRS or n.endswith((".pyc", ".mo"))],
    )
    env = {**os.environ, "SECRET_KEY": "i18n-test", "CODEV_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "codev.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "-l", "en", "--no-obsolete", "--ignore", ".venv/*", "--ignore", "tests/*"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for lang in LANGS:
        extracted = {e.key for e in read_po(copy / "locale" / lang / "LC_MESSAGES" / "django.po") if e.msgid}
        committed = {e.key for e in messages(lang)}
        assert extracted, "makemessages extracted nothing: is the copy complete?"
        missing = sorted(extracted - committed, key=str)
        assert not missing, (
            f"{len(missing)} string(s) missing from locale/{lang}/LC_MESSAGES/django.po: {missing}. "
            "Run make messages, translate, compilemessages (see this module's docstring)."
        )


# Text a template may show as is: names and formats, the same in both languages.
UNTRANSLATED_WORDS = {"Codev", "PDF", "Markdown", "ics", "min", "CSV", "JSON"}
# The 500 page is rendered without the translation machinery (it may be what failed): it is bilingual.
BILINGUAL_TEMPLATES = {"500.html"}
VISIBLE_ATTRIBUTES = {"placeholder", "title", "alt", "aria-label", "aria-description"}
TEMPLATE_SYNTAX = re.compile(r"{%.*?%}|{{.*?}}", re.S)
TRANSLATED_OR_HIDDEN = re.compile(
    r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}|{%\s*trans(?:late)?\s.*?%}"
    r"|{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}",
    re.S,
)


class _TextFinder(HTMLParser):
    """The words a reader would see in a template once its tags are gone: text and visible attributes."""

    def __init__(self):
        super().__init__()
        self.words: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")
        buttonish = dict(attrs).get("type") in ("submit", "button")
        for name, value in attrs:
            if value and (name in VISIBLE_ATTRIBUTES or (name == "value" and tag == "input" and buttonish)):
                self.handle_data(value)

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.hidden:
            text = TEMPLATE_SYNTAX.sub(" ", data)
            self.words += [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in UNTRANSLATED_WORDS]


def test_templates_show_no_text_outside_translate_tags():
    """A string typed straight into a template is in neither catalogue: the other language never sees it."""
    found = {}
    for path in source_files():
        if path.suffix != ".html" or path.name in BILINGUAL_TEMPLATES:
            continue
        finder = _TextFinder()
        finder.feed(TRANSLATED_OR_HIDDEN.sub(" ", path.read_text(encoding="utf-8")))
        if finder.words:
            found[str(path.relative_to(ROOT))] = finder.words[:8]
    assert not found, f"text outside {{% translate %}} in templates: {found}"


# --- (d) Pages speak French by default, English on request --------------------------------------


def switch_to_english(client, next_url: str):
    response = client.post("/i18n/setlang/", {"language": "en", "next": next_url})
    assert response.status_code == 302
    assert response.headers["Location"] == next_url


def test_login_page_is_french_by_default_and_english_on_request(client):
    page = client.get("/login/").content.decode()
    assert '<html lang="fr">' in page
    assert "Connexion" in page and "Mot de passe" in page
    assert "Sign in" not in page

    switch_to_english(client, "/login/")
    page = client.get("/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Sign in" in page and "Password" in page
    assert "Connexion" not in page


def test_room_page_is_french_by_default_and_english_on_request(client, cast):
    client.force_login(cast.sophie)
    url = f"/workshops/{cast.workshop.pk}/"

    page = client.get(url).content.decode()
    assert '<html lang="fr">' in page
    assert "L’atelier n’a pas encore commencé" in page
    assert "Les six étapes" in page and "Plan d’action" in page and "Apprentissage" in page
    assert "Mes notes privées" in page

    switch_to_english(client, url)
    page = client.get(url).content.decode()
    assert '<html lang="en">' in page
    assert "The workshop has not started yet" in page
    assert "The six steps" in page and "Action plan" in page and "Learning" in page
    assert "Mes notes privées" not in page


def test_live_room_names_the_steps_rules_and_roles_in_french(client, cast):
    cast.at_step(Step.CONTRAT)
    client.force_login(cast.sophie)
    page = client.get(f"/workshops/{cast.workshop.pk}/").content.decode()
    assert "3. Contrat" in page
    assert "Confidentialité" in page and "Bienveillance" in page and "Structure" in page
    assert "J’accepte les règles" in page
    assert ">consultant<" in page  # "Vous êtes consultant"
    assert "Contract" not in page and "Benevolence" not in page


def test_french_plural_of_evaluations():
    with translation.override("fr"):
        one = translation.ngettext("%(counter)s evaluation received", "%(counter)s evaluations received", 1)
        zero = translation.ngettext("%(counter)s evaluation received", "%(counter)s evaluations received", 0)
        two = translation.ngettext("%(counter)s evaluation received", "%(counter)s evaluations received", 2)
    assert one % {"counter": 1} == "1 évaluation reçue"
    assert zero % {"counter": 0} == "0 évaluation reçue"
    assert two % {"counter": 2} == "2 évaluations reçues"
