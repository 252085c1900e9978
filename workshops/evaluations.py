"""How the sessions went, for the group's facilitator: per session the number of answers, the
average score and the comments, never who wrote what, and the trend over each cycle.

Anonymity is the point: nothing here reads an evaluation's author, and comments are sorted
alphabetically so their order tells neither who nor when."""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch
from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from workshops.errors import Forbidden
from workshops.models import Cycle, Evaluation, Group, Membership, Workshop

SCORES = range(1, 6)


@dataclass
class Row:
    """One workshop: a session, or one case of a session that treated two."""

    label: str  # the session number, as the chart shows it
    workshop: Workshop
    at: datetime | None
    answers: int
    average: Decimal | None
    comments: list[str]


@dataclass
class Period:
    cycle: Cycle | None
    rows: list[Row] = field(default_factory=list)

    @property
    def series(self) -> list[tuple[str, Decimal | None]]:
        return [(row.label, row.average) for row in self.rows]

    @property
    def chart(self) -> SafeString:
        title = self.cycle.title if self.cycle else _("Sessions outside a cycle")
        return svg_chart(self.series, title=_("Average score per session — %(title)s") % {"title": title})


def average(scores: list[int]) -> Decimal | None:
    """To one decimal, halves rounded up (as people do by hand, unlike Python's round)."""
    if not scores:
        return None
    return (Decimal(sum(scores)) / Decimal(len(scores))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def is_facilitator(group: Group, user) -> bool:
    return Membership.objects.filter(group=group, user_id=user.pk, role=Membership.FACILITATOR).exists()


def _labels(workshops: list[Workshop]) -> dict[int, str]:
    """The session number; the second case of a session gets a letter (3, 3b)."""
    labels, seen = {}, {}
    for position, w in enumerate(workshops, start=1):
        number = str(w.session.number) if w.session_id else str(position)
        seen[number] = seen.get(number, 0) + 1
        labels[w.pk] = number if seen[number] == 1 else number + "abcdefgh"[min(seen[number], 8) - 1]
    return labels


def summary(group: Group, user) -> list[Period]:
    """The group's started workshops by cycle, in date order. For the facilitator only."""
    if not is_facilitator(group, user):
        raise Forbidden(_("Only the group's facilitator sees the evaluations."))
    scores_only = Evaluation.objects.only("workshop_id", "score", "comment")  # never the author
    workshops = list(
        Workshop.objects.filter(group=group)
        .exclude(status=Workshop.PLANNED)
        .select_related("session__cycle")
        .prefetch_related(Prefetch("evaluations", queryset=scores_only))
        .order_by("started_at", "id")
    )
    labels = _labels(workshops)
    periods: dict[int | None, Period] = {}
    for w in workshops:
        cycle = w.session.cycle if w.session_id else None
        period = periods.setdefault(cycle.pk if cycle else None, Period(cycle))
        evaluations = list(w.evaluations.all())
        comments = sorted((e.comment for e in evaluations if e.comment.strip()), key=lambda c: (c.casefold(), c))
        period.rows.append(
            Row(labels[w.pk], w, w.started_at, len(evaluations), average([e.score for e in evaluations]), comments)
        )
    return list(periods.values())


# --- the chart ---------------------------------------------------------------------------

WIDTH, HEIGHT = 360, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 12, 14, 30


def _y(score) -> float:
    return TOP + (5 - float(score)) / 4 * (HEIGHT - TOP - BOTTOM)


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span / 2 if count == 1 else index * span / (count - 1))


def svg_chart(series: list[tuple[str, Decimal | None]], *, title: str = "") -> SafeString:
    """A small line chart of averages (1 to 5) per session, drawn on the server: no script, and
    presentation attributes only, which a strict CSP allows. A session without answers breaks the line."""
    title = title or _("Average score per session")
    grid, lines, dots = [], [], []
    for score in SCORES:
        y = _y(score)
        grid.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dee7" stroke-width="1"/>')
        grid.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#5b6475">{score}</text>')
    run: list[str] = []  # consecutive points joined by one line
    for index, (label, value) in enumerate([*series, ("", None)]):
        if value is None:
            if len(run) > 1:
                lines.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="#2f5bd3" stroke-width="2"/>')
            run = []
        if index == len(series):
            break
        x = _x(index, len(series))
        grid.append(f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#5b6475">{escape(label)}</text>')
        if value is not None:
            y = _y(value)
            run.append(f"{x:.1f},{y:.1f}")
            tip = _("Session %(label)s: %(average)s") % {"label": label, "average": formats.number_format(value, 1)}
            dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#2f5bd3"><title>{escape(tip)}</title></circle>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>{''.join(grid)}{''.join(lines)}{''.join(dots)}</svg>"
    )
    return mark_safe(svg)  # noqa: S308 (every text above went through escape)
