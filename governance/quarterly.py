"""The quarterly report's figures, comparisons and suppression, on plain rows (no Django).

A report covers one *scope* for one quarter (Danish dates):

- a **hub** (Væksthus): the cases it holds, the referrals made from them, their survey answers;
- an **operator** organisation: the cases with a referral to it (to the organisation or to an
  offer it runs), the referrals to it, and the survey answers of those cases;
- the **ministry**: every case in the country.

Figures (docs/interfaces.md, "Quarterly reports"):

- requests: cases created in the quarter, in all and by source, by theme (a case with two
  themes counts for both, so themes do not add up to the total), and by the company's
  municipality (``unknown`` when none);
- response: of those cases, how many have had a first response, the median hours to it, and the
  share answered within the promise (of those answered or past their deadline), as
  ``crm``'s service standards define them;
- referrals: referrals created in the quarter, in all and by their status as it is now;
- satisfaction: survey answers given in the quarter, the mean usefulness (1–5) and the share
  that found support or started something.

Each figure stands for this quarter, the previous quarter, the same quarter last year and the
*national median*: the median of the figure over every scope of the same kind (every hub for a
hub and for the ministry, every operator for an operator) in this quarter; then the changes from
the previous quarter and from last year.

Small numbers (``evaluation.disclosure``, threshold ``min_count``): a count from 1 to
``min_count - 1`` is withheld, and so are other counts of a table when the withheld ones could be
worked out from the total (``suppress_breakdown``); a median or share is shown only when it
rests on at least ``min_count`` cases; a national median of counts is shown only when it is 0 or
at least ``min_count``, and a median of medians or shares only takes the scopes that show theirs.
A change is shown only when both its figures are; the quarters hold different cases, so a change
is never a group of cases.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from evaluation.disclosure import shown_small_count, suppress_breakdown

HUB = "hub"
OPERATOR = "operator"
MINISTRY = "ministry"
UNKNOWN = "unknown"


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1–4

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``2026-Q3`` (or ``2026-K3``, ``2026Q3``)."""
        cleaned = text.strip().upper().replace("K", "Q").replace("-", "")
        year, _q, number = cleaned.partition("Q")
        if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 4):
            raise ValueError(f"not a quarter: {text!r} (write e.g. 2026-Q3)")
        return cls(int(year), int(number))

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * (self.number - 1) + 1, 1)

    @property
    def end(self) -> dt.date:
        """The first day after the quarter."""
        return self.next.start

    @property
    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @property
    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    @property
    def last_year(self) -> Quarter:
        return Quarter(self.year - 1, self.number)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def danish(self) -> str:
        """As the reports write it: ``2026-K2`` (kvartal)."""
        return f"{self.year}-K{self.number}"


@dataclass(frozen=True)
class Scope:
    kind: str  # HUB, OPERATOR or MINISTRY
    organisation_id: int | None = None


@dataclass(frozen=True)
class CaseFact:
    hub: int
    source: str
    municipality: int | None
    themes: tuple[str, ...]
    created: dt.date
    response_hours: float | None
    # True/False once answered or past the deadline; None while still within it.
    within_promise: bool | None
    operators: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ReferralFact:
    hub: int
    operator: int | None
    status: str
    created: dt.date


@dataclass(frozen=True)
class SurveyFact:
    hub: int
    operators: frozenset[int]
    usefulness: int
    came_to_something: bool
    answered: dt.date


@dataclass
class Facts:
    cases: list[CaseFact] = field(default_factory=list)
    referrals: list[ReferralFact] = field(default_factory=list)
    surveys: list[SurveyFact] = field(default_factory=list)


@dataclass(frozen=True)
class Vocabulary:
    """The keys every report lists, so reports of a kind have the same rows (with labels)."""

    sources: Sequence[tuple[str, str]]
    themes: Sequence[tuple[str, str]]
    municipalities: Sequence[tuple[int, str]]
    referral_statuses: Sequence[tuple[str, str]]


# A figure's key: (section, key). Sections in the order the report shows them.
type Key = tuple[str, str]
COUNT = "count"
MEASURE = "measure"


@dataclass(frozen=True)
class Figure:
    value: float | None
    n: int  # the cases a measure rests on (a count: the count itself)
    kind: str = COUNT


type Figures = dict[Key, Figure]
type Shown = dict[Key, float | None]


def _in_scope_case(scope: Scope, fact: CaseFact | SurveyFact) -> bool:
    if scope.kind == HUB:
        return fact.hub == scope.organisation_id
    if scope.kind == OPERATOR:
        return scope.organisation_id in fact.operators
    return True


def _in_scope_referral(scope: Scope, fact: ReferralFact) -> bool:
    if scope.kind == HUB:
        return fact.hub == scope.organisation_id
    if scope.kind == OPERATOR:
        return fact.operator == scope.organisation_id
    return True


def figures(scope: Scope, quarter: Quarter, facts: Facts, vocabulary: Vocabulary) -> Figures:
    """Every figure of one scope and quarter, before suppression."""
    cases = [c for c in facts.cases if quarter.contains(c.created) and _in_scope_case(scope, c)]
    out: Figures = {("requests", "total"): Figure(len(cases), len(cases))}
    sources = Counter(c.source for c in cases)
    for key, _label in vocabulary.sources:
        out[("source", key)] = Figure(sources[key], sources[key])
    themes = Counter(theme for c in cases for theme in c.themes)
    for key, _label in vocabulary.themes:
        out[("theme", key)] = Figure(themes[key], themes[key])
    places = Counter(str(c.municipality) if c.municipality else UNKNOWN for c in cases)
    for code, _label in vocabulary.municipalities:
        out[("municipality", str(code))] = Figure(places[str(code)], places[str(code)])
    out[("municipality", UNKNOWN)] = Figure(places[UNKNOWN], places[UNKNOWN])

    hours = [c.response_hours for c in cases if c.response_hours is not None]
    decided = [c.within_promise for c in cases if c.within_promise is not None]
    out[("response", "responded")] = Figure(len(hours), len(hours))
    out[("response", "median_hours")] = Figure(
        round(statistics.median(hours), 1) if hours else None, len(hours), MEASURE
    )
    out[("response", "within_promise_percent")] = Figure(
        round(100 * sum(decided) / len(decided), 1) if decided else None, len(decided), MEASURE
    )

    referrals = [
        r for r in facts.referrals if quarter.contains(r.created) and _in_scope_referral(scope, r)
    ]
    out[("referrals", "total")] = Figure(len(referrals), len(referrals))
    statuses = Counter(r.status for r in referrals)
    for key, _label in vocabulary.referral_statuses:
        out[("referral_status", key)] = Figure(statuses[key], statuses[key])

    answers = [
        s for s in facts.surveys if quarter.contains(s.answered) and _in_scope_case(scope, s)
    ]
    out[("satisfaction", "answers")] = Figure(len(answers), len(answers))
    out[("satisfaction", "mean_usefulness")] = Figure(
        round(statistics.fmean(s.usefulness for s in answers), 2) if answers else None,
        len(answers),
        MEASURE,
    )
    out[("satisfaction", "came_to_something_percent")] = Figure(
        round(100 * sum(s.came_to_something for s in answers) / len(answers), 1)
        if answers
        else None,
        len(answers),
        MEASURE,
    )
    return out


# Tables whose cells add up to a published total: (section of the cells, the total's key).
_BREAKDOWNS: tuple[tuple[str, Key], ...] = (
    ("source", ("requests", "total")),
    ("municipality", ("requests", "total")),
    ("referral_status", ("referrals", "total")),
)


def publish(found: Figures, *, min_count: int) -> Shown:
    """The figures as they may be published (module docstring); None is withheld."""
    shown: Shown = {}
    totals: dict[Key, int | None] = {}
    for section, total_key in _BREAKDOWNS:
        cells = {key[1]: int(f.value or 0) for key, f in found.items() if key[0] == section}
        total = int(found[total_key].value or 0)
        cells_shown, total_shown = suppress_breakdown(cells, total=total, min_count=min_count)
        for name, value in cells_shown.items():
            shown[(section, name)] = value
        # A total in two tables is shown only if both allow it.
        if total_key in totals and totals[total_key] is None:
            continue
        totals[total_key] = total_shown
    shown.update(totals)
    requests = int(found[("requests", "total")].value or 0)
    responded = int(found[("response", "responded")].value or 0)
    # Answered and not (yet) answered split the requests: one cannot be shown without the other
    # being worked out, so both must pass.
    answered_shown, requests_shown = suppress_breakdown(
        {"responded": responded, "not_yet": requests - responded},
        total=requests,
        min_count=min_count,
        hidden=("not_yet",),
    )
    shown[("response", "responded")] = answered_shown["responded"]
    if requests_shown is None:
        shown[("requests", "total")] = None
    for key, figure in found.items():
        if key in shown:
            continue
        if figure.kind == MEASURE:
            shown[key] = figure.value if figure.n >= min_count else None
        else:
            shown[key] = shown_small_count(int(figure.value or 0), min_count=min_count)
    return shown


def national_median(
    key: Key, peers: Iterable[Figures], *, min_count: int, kind: str
) -> float | None:
    """The median of one figure over the scopes of a kind, as it may be published."""
    if kind == MEASURE:
        values = [
            f.value for f in (p[key] for p in peers) if f.value is not None and f.n >= min_count
        ]
        return round(statistics.median(values), 2) if values else None
    counts = [float(p[key].value or 0) for p in peers]
    if not counts:
        return None
    middle = statistics.median(counts)
    return middle if middle == 0 or middle >= min_count else None


@dataclass(frozen=True)
class Row:
    section: str
    key: str
    label: str
    this: float | None
    previous: float | None
    last_year: float | None
    median: float | None

    @property
    def change_previous(self) -> float | None:
        return _change(self.this, self.previous)

    @property
    def change_last_year(self) -> float | None:
        return _change(self.this, self.last_year)


def _change(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return round(a - b, 2)


def report_rows(
    *,
    scope: Scope,
    quarter: Quarter,
    facts: Facts,
    vocabulary: Vocabulary,
    peers: Mapping[Scope, Figures],
    labels: Mapping[Key, str],
    min_count: int,
) -> list[Row]:
    """The report of one scope: every figure in four columns, suppressed (module docstring).

    ``peers``: this quarter's figures of every scope in the comparison set (for the median).
    """
    this = figures(scope, quarter, facts, vocabulary)
    shown = {
        "this": publish(this, min_count=min_count),
        "previous": publish(
            figures(scope, quarter.previous, facts, vocabulary), min_count=min_count
        ),
        "last_year": publish(
            figures(scope, quarter.last_year, facts, vocabulary), min_count=min_count
        ),
    }
    return [
        Row(
            section=key[0],
            key=key[1],
            label=labels.get(key, key[1]),
            this=shown["this"][key],
            previous=shown["previous"][key],
            last_year=shown["last_year"][key],
            median=national_median(key, peers.values(), min_count=min_count, kind=figure.kind),
        )
        for key, figure in this.items()
    ]
