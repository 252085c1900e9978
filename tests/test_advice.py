"""The disguised-advice detector: measured on a labelled set, and robust to how people type.

Figures: `.venv/bin/pytest -q -s tests/test_advice.py` prints precision and recall (advice is the
positive class) overall, per language, on the development part and on the held-out part.
The held-out part (every 4th data row) was fixed before any rule was written; rules are tuned
on the development part only.
"""
import csv
import select
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from workshops.advice import HINT, HINTS, MAX_CHARS, RULES, Verdict, classify, hint_text, is_advice

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "advice_questions.tsv"


@dataclass(frozen=True)
class Row:
    label: str
    lang: str
    text: str
    held_out: bool


def load_rows() -> list[Row]:
    with DATA.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Row(r["label"], r["lang"], r["text"], i % 4 == 3) for i, r in enumerate(reader)]


ROWS = load_rows()


@dataclass(frozen=True)
class Score:
    name: str
    rows: int
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self) -> str:
        return (
            f"{self.name:<22} {self.rows:>4} rows  precision {self.precision:.3f}  recall {self.recall:.3f}"
            f"  (tp {self.tp}, fp {self.fp}, fn {self.fn})"
        )


def score(name: str, rows: list[Row]) -> Score:
    flagged = [(row.label == "advice", is_advice(row.text)) for row in rows]
    return Score(
        name,
        len(rows),
        tp=sum(gold and got for gold, got in flagged),
        fp=sum(got and not gold for gold, got in flagged),
        fn=sum(gold and not got for gold, got in flagged),
    )


# --- The labelled set ------------------------------------------------------------------------------


def test_the_labelled_set_is_large_bilingual_and_balanced():
    assert len(ROWS) >= 340
    assert {row.label for row in ROWS} == {"advice", "question"}
    assert {row.lang for row in ROWS} == {"fr", "en"}
    assert len({row.text for row in ROWS}) == len(ROWS), "duplicate questions"
    for lang in ("fr", "en"):
        rows = [row for row in ROWS if row.lang == lang]
        assert 0.45 <= len(rows) / len(ROWS) <= 0.55
        assert 0.38 <= sum(row.label == "advice" for row in rows) / len(rows) <= 0.52


def test_it_tells_advice_from_questions_on_the_labelled_set():
    held = [row for row in ROWS if row.held_out]
    parts = {
        "overall": score("overall", ROWS),
        "fr": score("fr", [row for row in ROWS if row.lang == "fr"]),
        "en": score("en", [row for row in ROWS if row.lang == "en"]),
        "development": score("development", [row for row in ROWS if not row.held_out]),
        "held-out": score("held-out", held),
        "held-out fr": score("held-out fr", [row for row in held if row.lang == "fr"]),
        "held-out en": score("held-out en", [row for row in held if row.lang == "en"]),
    }
    print("\nDisguised-advice detector, advice = positive class")
    for part in parts.values():
        print("  " + part.line())
    misses = [row for row in ROWS if is_advice(row.text) != (row.label == "advice")]
    for row in misses:
        print(f"  miss ({'held-out' if row.held_out else 'dev'}, labelled {row.label}): {row.text}")

    for name in ("overall", "held-out"):
        assert parts[name].precision >= 0.9, parts[name].line()
        assert parts[name].recall >= 0.8, parts[name].line()
    for name in ("fr", "en"):
        assert parts[name].precision >= 0.85, parts[name].line()
        assert parts[name].recall >= 0.75, parts[name].line()


def test_it_tells_the_language_of_nearly_every_question():
    wrong = [row.text for row in ROWS if classify(row.text).language != row.lang]
    assert len(wrong) <= len(ROWS) // 50, wrong


# --- Cases from the issue, and look-alikes a facilitator would let through ------------------------


@pytest.mark.parametrize(
    ("text", "language", "reason"),
    [
        ("Avez-vous pensé à déléguer ?", "fr", "have_you_thought"),
        ("Pourquoi ne pas en parler à votre N+1 ?", "fr", "why_not"),
        ("Have you tried asking her directly?", "en", "did_you_try"),
        ("Wouldn't it be better to wait?", "en", "wouldnt_it_be_better"),
        ("Et si tu demandais à Karine ?", "fr", "what_if"),
        ("What if you simply said no?", "en", "what_if"),
        ("Ne devriez-vous pas le recadrer ?", "fr", "should_you"),
        ("Could you not just ask for help?", "en", "could_you"),
        ("Que se passerait-il si tu refusais ?", "fr", "conditional_suggestion"),
        ("Que dirais-tu d'un entretien à trois ?", "fr", "how_about"),
        ("What would you think of a three-way meeting?", "en", "how_about"),
        ("Pourquoi tu lui demandes pas directement ?", "fr", "why_not"),
        ("Why can't you just tell him?", "en", "could_you"),
        ("N'est-il pas temps de passer la main ?", "fr", "time_to"),
    ],
)
def test_it_flags_advice_in_disguise_and_names_the_rule(text, language, reason):
    assert classify(text) == Verdict(True, language, reason)


@pytest.mark.parametrize(
    "text",
    [
        "Avez-vous pensé à ce moment-là que vous aviez raison ?",
        "Vous avez pensé quoi, sur le moment ?",
        "Have you already spoken to her about it?",
        "Have you tried to find out why he refuses — what did you learn?",
        "What have you tried so far?",
        "Have you tried everything?",
        "Pourquoi a-t-il refusé ?",
        "Why did you wait a month?",
        "Pourquoi ne pas avoir prévenu la direction plus tôt ?",
        "Pourquoi tu ne veux pas lui en parler ?",
        "Why don't you want to talk to him?",
        "Why not?",
        "Pourriez-vous préciser ce que vous entendez par là ?",
        "Could you tell us what happened next?",
        "Qu'est-ce que tu pourrais faire différemment ?",
        "Que faudrait-il pour que tu te sentes soutenu ?",
        "Qu'est-ce qui t'aiderait ?",
        "What do you think you should do?",
        "Si tu pouvais changer une seule chose, ce serait quoi ?",
        "What would you do if you were in her shoes?",
        "And looking back, what would you change?",
        "Et votre N+1, qu'en dit-il ?",
        "Que penses-tu de la mère ?",
        "Do you think you could trust her again?",
        "What if she says no?",
        "Qu'est-ce qui vous empêche de déléguer ?",
        "Who else knows?",
    ],
)
def test_it_lets_genuine_questions_through(text):
    assert classify(text).is_advice is False


# --- Robustness ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n", "\u00a0\t ", "?", "…"])
def test_empty_or_blank_input_is_a_question(text):
    verdict = classify(text)
    assert verdict.is_advice is False
    assert verdict.reason == ""
    assert verdict.language in {"fr", "en"}


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


# What people do to the same question: capitals, no accents, curly or straight apostrophes,
# a (narrow) non-breaking space before the question mark, no question mark, stray spaces.
VARIANTS = {
    "upper": str.upper,
    "lower": str.lower,
    "no accents": _strip_accents,
    "curly apostrophes": lambda t: t.replace("'", "’"),
    "straight apostrophes": lambda t: t.replace("’", "'"),
    "nbsp before ?": lambda t: t.replace(" ?", "?").replace("?", "\u00a0?"),
    "narrow nbsp before ?": lambda t: t.replace(" ?", "?").replace("?", "\u202f?"),
    "no question mark": lambda t: t.replace("\u00a0?", "").replace(" ?", "").replace("?", ""),
    "stray spaces": lambda t: f"  {t.replace(' ', '  ')}\n",
    "spaced hyphens": lambda t: t.replace("-", " "),
}


@settings(max_examples=300, deadline=None)
@given(row=st.sampled_from(ROWS), variants=st.lists(st.sampled_from(sorted(VARIANTS)), min_size=1, max_size=3))
def test_the_verdict_does_not_depend_on_typing_habits(row, variants):
    text = row.text
    for name in variants:
        text = VARIANTS[name](text)
    assert classify(text) == classify(row.text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gets_a_verdict(text):
    verdict = classify(text)
    assert isinstance(verdict.is_advice, bool)
    assert verdict.language in {"fr", "en"}
    assert (verdict.reason == "") is (not verdict.is_advice)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=MAX_CHARS), st.text())
def test_only_the_first_characters_are_read(head, tail):
    assert classify(head + tail) == classify(head)


@pytest.mark.parametrize(
    "text",
    ["a" * 1_000_000, "pourquoi ne " * 100_000, "would " * 200_000, ", " * 500_000, "\ufdfa" * 100_000, "si tu serait " * 80_000],
)
def test_very_long_input_takes_bounded_time(text):
    started = time.perf_counter()
    classify(text)
    assert time.perf_counter() - started < 0.5


# --- Hints -----------------------------------------------------------------------------------------


def test_every_rule_has_its_hint():
    assert {reason for reason, _pattern, _unless in RULES} <= set(HINTS)


def test_a_flagged_question_gets_the_hint_and_a_genuine_one_none():
    hint = hint_text(classify("Avez-vous pensé à déléguer ?"), "en")
    with translation.override("en"):
        assert hint.startswith(str(HINT))
    assert "Consultation" in hint and "Rephrase it, or post it anyway." in hint
    assert "Have you thought of" in hint
    assert hint_text(classify("Pourquoi a-t-il refusé ?"), "en") == ""


# --- python manage.py advice_check -----------------------------------------------------------------


def _read_line(process: subprocess.Popen, timeout: float = 30) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "advice_check did not answer a line in time"
    return process.stdout.readline().decode("utf-8")


def test_advice_check_answers_each_line_in_order_as_it_comes():
    process = subprocess.Popen(
        [sys.executable, "manage.py", "advice_check"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # Streaming: each answer arrives before the next question is sent.
        for question, answer in [
            ("Avez-vous pensé à déléguer ?", "advice"),
            ("Pourquoi a-t-il refusé ?", "question"),
        ]:
            process.stdin.write((question + "\n").encode("utf-8"))
            process.stdin.flush()
            assert _read_line(process) == answer + "\n"
        rest = ["", "Why don’t you ask her?", "Have you already spoken to her about it?", "Et si vous lui proposiez de piloter ?"]
        out, err = process.communicate(("\n".join(rest) + "\n").encode("utf-8"), timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err.decode()
    assert out.decode("utf-8").splitlines() == ["question", "advice", "question", "advice"]


def test_advice_check_reads_a_whole_file_and_a_last_line_without_newline():
    lines = [row.text for row in ROWS[:40]]
    result = subprocess.run(
        [sys.executable, "manage.py", "advice_check"],
        cwd=ROOT,
        input="\r\n".join(lines).encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=True,
    )
    expected = ["advice" if is_advice(text) else "question" for text in lines]
    assert result.stdout.decode("utf-8").splitlines() == expected
