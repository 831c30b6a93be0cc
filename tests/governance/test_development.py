import datetime as dt
import re

import pytest

from governance import demo, services, tasks
from governance.models import CatalogueSnapshot, ThemeSnapshot
from offers.models import Theme
from tests.offers.factories import make_offer

MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def catalogue(db):
    """Two export offers that overlap (same phase, size and place, different operators)."""
    make_offer(external_id="eks-a", themes=["export"], owner="eksportraadet")
    make_offer(external_id="eks-b", themes=["export"], owner="eifo")
    make_offer(
        external_id="digi",
        themes=["digitalisation"],
        level="region",
        owner="region-midtjylland",
        phases=["startup"],
    )
    make_offer(external_id="kladde", themes=["export"], status="draft")


def test_it_records_offers_operators_and_overlap_for_the_month(catalogue):
    snapshot = services.catalogue_snapshot_take(month=dt.date(2026, 3, 17))

    assert snapshot.month == MARCH
    assert (snapshot.offers, snapshot.operators) == (3, 3)
    assert (snapshot.overlaps, snapshot.offers_in_overlaps) == (1, 2)
    rows = {
        (row.theme.slug, row.level): (row.offers, row.operators)
        for row in ThemeSnapshot.objects.filter(snapshot=snapshot).select_related("theme")
    }
    assert rows == {("export", "state"): (2, 2), ("digitalisation", "region"): (1, 1)}


def test_it_records_a_month_once_however_often_the_job_runs(catalogue):
    first = services.catalogue_snapshot_take(month=MARCH)
    make_offer(external_id="later", themes=["capital"])
    again = services.catalogue_snapshot_take(month=MARCH)

    assert again.pk == first.pk
    assert again.offers == 3
    assert CatalogueSnapshot.objects.count() == 1
    assert ThemeSnapshot.objects.count() == 2


def test_the_monthly_job_is_scheduled_and_takes_this_months_snapshot(catalogue, settings):
    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["governance-monthly-snapshot"]
    assert entry["task"] in app.tasks
    assert entry["schedule"].day_of_month == {1}
    snapshot = CatalogueSnapshot.objects.get(pk=tasks.snapshot_catalogue())
    assert snapshot.offers == 3


def _snapshot(month, offers, operators, overlaps, in_overlaps, themes=()):
    snapshot = CatalogueSnapshot.objects.create(
        month=month,
        offers=offers,
        operators=operators,
        overlaps=overlaps,
        offers_in_overlaps=in_overlaps,
    )
    for slug, level, count, operator_count in themes:
        ThemeSnapshot.objects.create(
            snapshot=snapshot,
            theme=Theme.objects.get(slug=slug),
            level=level,
            offers=count,
            operators=operator_count,
        )
    return snapshot


@pytest.fixture
def trend(db):
    _snapshot(dt.date(2026, 1, 1), 180, 60, 12, 40, [("export", "state", 30, 9)])
    _snapshot(dt.date(2026, 2, 1), 170, 55, 10, 33, [("export", "state", 27, 8)])
    _snapshot(dt.date(2026, 3, 1), 150, 48, 7, 21, [("export", "state", 22, 5)])


@pytest.mark.parametrize("role", ["Analytiker", "Redaktør"])
def test_it_shows_the_trend_as_a_chart_and_a_table(client, make_user, trend, role):
    client.force_login(make_user("u", organisation="erhvervsstyrelsen", role=role))

    response = client.get("/analyse/udvikling/")

    assert response.status_code == 200
    body = response.content.decode()
    start = body.index('<svg class="trend-chart-wide" viewBox')
    svg = body[start : body.index("</svg>", start)]
    assert 'role="img"' in svg
    assert "style=" not in body.split("<main", 1)[1]
    assert "<script" not in svg
    assert len(re.findall(r"<path d=\"M", svg)) == 4
    # SVG numbers use a decimal point whatever the language of the page.
    assert not re.search(r'(cx|cy|y1|y2)="\d+,\d', svg)
    # A wide chart and a narrow one for phones (CSS shows one), each labelled by its own ids.
    assert re.findall(r'<svg class="trend-chart-(\w+)" viewBox="0 0 (\d+) \d+"', body) == [
        ("wide", "720"),
        ("narrow", "360"),
    ]
    assert 'aria-labelledby="trend-title-narrow trend-desc-narrow"' in body
    assert len(re.findall(r'<text [^>]*font-size="14"', body)) > 10
    table = body[body.index("Tal pr. måned") :]
    assert re.search(r"Marts 2026</th>\s*<td[^>]*>150</td>\s*<td[^>]*>48</td>", table)
    themes = {item["row"].theme.slug: item for item in response.context["themes"]}
    assert themes["export"]["offers_change"] == -8
    assert themes["export"]["operators_change"] == -4


def test_it_refuses_the_trend_to_advisers(client, make_user, trend):
    client.force_login(make_user("r", organisation="vaeksthus-midtjylland", role="Rådgiver"))
    assert client.get("/analyse/udvikling/").status_code == 403


def test_it_shows_the_trend_in_a_fixed_number_of_queries(
    client, make_user, trend, django_assert_max_num_queries
):
    for month in range(4, 13):
        _snapshot(dt.date(2026, month, 1), 150, 48, 7, 21, [("export", "state", 22, 5)])
    client.force_login(make_user("a", organisation="erhvervsstyrelsen", role="Analytiker"))
    with django_assert_max_num_queries(8):
        response = client.get("/analyse/udvikling/")
    assert len(response.context["snapshots"]) == 12


def test_the_demo_gives_the_trend_a_year_ending_with_the_real_month(catalogue):
    today = dt.date(2027, 1, 14)
    demo._snapshots(today=today)
    demo._snapshots(today=today)

    snapshots = list(CatalogueSnapshot.objects.order_by("month"))
    assert len(snapshots) == 12
    assert (snapshots[0].month, snapshots[-1].month) == (dt.date(2026, 2, 1), dt.date(2027, 1, 1))
    assert snapshots[-1].offers == 3  # the real catalogue of this month
    assert snapshots[0].offers > snapshots[-1].offers
