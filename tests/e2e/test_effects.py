"""The effects pages in a real browser: charts, tables, the indicator choice and WCAG checks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.evaluation.factories import make_estimate, make_rollup, make_run
from tests.offers.factories import make_offer

TOO_FEW = {
    "status": "too_few",
    "estimate": None,
    "std_error": None,
    "ci_low": None,
    "ci_high": None,
    "extra": None,
    "extra_ci_low": None,
    "extra_ci_high": None,
    "naive_estimate": None,
    "n_treated": 7,
}


@pytest.fixture
def measured(transactional_db):
    run = make_run()
    growth = make_offer(external_id="vaekst-forloeb", title="Vækstforløb for små virksomheder")
    small = make_offer(external_id="lille-tilbud", title="Et lille tilbud")
    make_estimate(run=run, offer=growth, estimate=1.84, std_error=0.41, n_treated=212)
    make_estimate(
        run=run, offer=growth, indicator="revenue", estimate=1_540_000.0, std_error=300_000.0
    )
    make_estimate(run=run, offer=growth, cohort_year=2020, estimate=2.0)
    make_estimate(run=run, offer=small, **TOO_FEW)
    make_rollup(run=run, dimension="level", key="state", label="Stat", estimate=1.2)
    make_rollup(run=run, dimension="theme", key="export", label="Eksport", estimate=0.8)
    make_rollup(run=run, dimension="theme", key="growth", label="Vækst", **TOO_FEW)
    return growth


def test_the_effects_page_shows_charts_beside_tables_and_passes_the_wcag_checks(
    page, live_url, measured, assert_accessible
):
    page.goto(live_url + "/effekter/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Effekter af erhvervsfremme")
    expect(page.get_by_role("img", name="Beskæftigelse efter tema")).to_be_visible()
    table = page.get_by_role("table", name="Beskæftigelse: effekt pr. deltager efter tilbud")
    expect(table).to_be_visible()
    row = table.get_by_role("row", name="Vækstforløb for små virksomheder")
    expect(row).to_contain_text("+1,8")
    expect(table.get_by_role("row", name="Et lille tilbud")).to_contain_text(
        "For få deltagere til at måle"
    )
    assert_accessible(page)


def test_another_indicator_is_chosen_without_javascript_and_an_offer_opens(
    page, live_url, measured, assert_accessible
):
    page.goto(live_url + "/effekter/")

    page.get_by_label("Vis effekt på").select_option("revenue")
    page.get_by_role("button", name="Vis", exact=True).click()

    expect(page.get_by_role("heading", name="Omsætning efter tilbud")).to_be_visible()
    page.get_by_role("link", name="Vækstforløb for små virksomheder").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Effekt af Vækstforløb for små virksomheder"
    )
    expect(page.get_by_role("img", name="Omsætning efter deltagelsesår")).to_be_visible()
    assert_accessible(page)


def test_the_effects_page_passes_the_wcag_checks_on_a_small_phone(
    page, live_url, measured, assert_accessible
):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_url + "/effekter/")

    assert_accessible(page)
