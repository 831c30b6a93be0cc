"""/effekter/, /effekter/<id>/, the offer page's effect box and /analyse/effekter/."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext

from evaluation.models import EffectRunOffer
from tests.evaluation.factories import (
    make_estimate,
    make_published_effects,
    make_run,
)
from tests.offers.factories import make_offer


@pytest.fixture
def published(db):
    return make_published_effects(too_few_theme_treated=12)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.django_db
class TestEffectsPage:
    def test_it_shows_charts_with_tables_and_says_where_there_are_too_few(self, client, published):
        response = client.get("/effekter/")

        assert response.status_code == 200
        page = text(response)
        # Three charts, each an SVG image with a title, and three tables with captions.
        assert page.count('<svg class="effect-chart"') == 3
        assert page.count('role="img"') >= 3
        assert '<title id="chart-themes-title">Beskæftigelse efter tema</title>' in page
        assert page.count("<caption") == 3
        assert (
            '<th scope="row"><a href="/effekter/vaekst-forloeb/" lang="da">'
            "Vækstforløb for små virksomheder</a></th>" in page
        )
        assert "+1,8" in page and "+1,0 til +2,6" in page
        assert "For få deltagere til at måle" in page
        assert "for få deltagere til at måle" in page  # in the chart as well
        # The too-small theme's count (12) is never shown, only that it is below the threshold.
        theme = re.search(r'<th scope="row">Vækst</th>(.*?)</tr>', page)
        assert theme is not None
        assert "færre end 20" in theme.group(1) and "12" not in theme.group(1)
        # The method section says what the numbers can and cannot claim.
        assert "Det er ikke et lodtrækningsforsøg" in page
        assert "Ekstra job i alt er effekten pr. deltager gange antallet af deltagere" in page
        assert "95 %-konfidensintervallet" in page

    def test_svg_numbers_are_not_localised_and_there_are_no_inline_styles(self, client, published):
        page = client.get("/effekter/").content.decode()

        svg = page[page.index('<svg class="effect-chart"') :]
        assert re.search(r'cx="\d+(\.\d+)?"', svg)
        assert not re.search(r'(cx|x1|x2|y)="\d+,\d+"', svg)
        assert not re.search(r"\sstyle=", page)
        assert "<script>" not in page

    def test_another_indicator_is_chosen_with_a_plain_form(self, client, published):
        page = text(client.get("/effekter/", {"indikator": "revenue"}))

        assert "Omsætning efter tilbud" in page
        assert "+1.540.000 kr." in page
        assert '<option value="revenue" selected>' in page

    def test_without_results_it_says_so(self, client, db):
        page = text(client.get("/effekter/"))

        assert "Der er endnu ingen målte effekter." in page
        assert '<svg class="effect-chart"' not in page

    def test_it_costs_a_fixed_number_of_queries(
        self, client, published, django_assert_max_num_queries
    ):
        run = published["run"]
        for number in range(20):
            make_estimate(run=run, offer=make_offer(external_id=f"tilbud-{number}"))

        # Roll-ups, the offers' count and their page; three more are the site's page-view
        # counter (a savepoint around one upsert).
        with django_assert_max_num_queries(6):
            response = client.get("/effekter/")

        assert response.status_code == 200
        page = text(response)
        # Measured offers in the table, the rest in the list of offers without a measured effect.
        in_table = page.count('<th scope="row"><a href="/effekter/')
        apart = page.split('class="effect-unmeasured"')
        listed_apart = apart[1].split("</details>")[0].count("<li>") if len(apart) > 1 else 0
        assert in_table >= 20 and in_table + listed_apart == 22

    @pytest.mark.parametrize(
        ("language", "names"),
        [
            ("da", ["Diagram: Beskæftigelse efter niveau", "Diagram: Beskæftigelse efter tema"]),
            ("en", ["Chart: Employment by level", "Chart: Employment by theme"]),
        ],
    )
    def test_each_chart_scrolls_in_its_own_named_region_with_a_hint(
        self, client, published, language, names
    ):
        page = text(client.get("/effekter/", headers={"accept-language": language}))

        # On a phone the chart is wider than the screen: its scroll region takes the keyboard
        # focus (arrow keys scroll it) and has a name of its own (axe: landmark-unique).
        regions = re.findall(
            r'<div class="effect-chart-scroll" tabindex="0" role="region" aria-label="([^"]+)">',
            page,
        )
        assert len(regions) == page.count('<svg class="effect-chart"') == 3
        assert len(set(regions)) == 3
        assert regions[:2] == names
        # A visible hint right above each region (effects.css shows it where the chart scrolls).
        with translation.override(language):
            hint = gettext("Rul vandret for at se hele diagrammet.")
        assert page.count(f'<p class="effect-scroll-hint">{hint}<svg') == 3
        assert re.search(
            rf'<p class="effect-scroll-hint">{re.escape(hint)}<svg[^>]*aria-hidden="true">.*?'
            r'</svg></p> <div class="effect-chart-scroll"',
            page,
        )

    def test_a_draft_offer_is_not_shown(self, client, published):
        draft = make_offer(external_id="kladde", title="Hemmelig kladde", status="draft")
        make_estimate(run=published["run"], offer=draft)

        assert "Hemmelig kladde" not in text(client.get("/effekter/"))
        assert client.get("/effekter/kladde/").status_code == 404


@pytest.mark.django_db
class TestOfferEffectsPage:
    def test_it_shows_every_indicator_and_each_cohort(self, client, published):
        page = text(client.get("/effekter/vaekst-forloeb/"))

        assert "Effekt af Vækstforløb for små virksomheder" in page
        assert "Deltog i 2020" in page and "Alle år samlet" in page
        assert page.count('<svg class="effect-chart"') == 1
        assert "+1.540.000 kr." in page
        # The cohort chart scrolls in a named, focusable region with the hint above it.
        assert '<p class="effect-scroll-hint">Rul vandret for at se hele diagrammet.<svg' in page
        assert (
            '<div class="effect-chart-scroll" tabindex="0" role="region" '
            'aria-label="Diagram: Beskæftigelse efter deltagelsesår">' in page
        )

    def test_an_offer_that_was_not_measured_says_so(self, client, published):
        make_offer(external_id="ikke-maalt")

        assert "Tilbuddets effekt er ikke målt endnu." in text(client.get("/effekter/ikke-maalt/"))

    def test_an_unknown_offer_is_404(self, client, db):
        assert client.get("/effekter/findes-ikke/").status_code == 404


def render_offer_box(offer) -> str:
    return re.sub(
        r"\s+",
        " ",
        Template("{% load effects %}{% offer_effects offer %}").render(Context({"offer": offer})),
    )


@pytest.mark.django_db
class TestOfferBox:
    def test_it_shows_the_measured_effect_in_one_query(self, published, django_assert_num_queries):
        with django_assert_num_queries(1):
            html = render_offer_box(published["growth"])

        assert "Målt effekt" in html
        assert "To år efter var effekten i gennemsnit +1,8 fuldtidsansatte pr. deltager" in html
        assert "Målt på 212 deltagere." in html
        assert 'href="/effekter/vaekst-forloeb/"' in html

    def test_too_few_participants_are_said_plainly(self, published):
        assert "For få deltagere til at måle effekten endnu." in render_offer_box(
            published["small"]
        )

    def test_an_unmeasured_offer_shows_nothing(self, published):
        assert render_offer_box(make_offer(external_id="ny")).strip() == ""


@pytest.mark.django_db
class TestAnalysis:
    def test_anonymous_visitors_are_sent_to_the_login(self, client):
        response = client.get("/analyse/effekter/")

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    @pytest.mark.parametrize("role", ["Rådgiver", "Redaktør"])
    def test_other_roles_are_refused(self, client, make_user, published, role):
        client.force_login(make_user("anden", organisation="vaeksthus-midtjylland", role=role))

        response = client.get("/analyse/effekter/")

        assert response.status_code == 403
        assert "Vækstforløb" not in response.content.decode()

    def test_an_analyst_sees_runs_and_balance_diagnostics(
        self, client, make_user, published, django_assert_max_num_queries
    ):
        run = published["run"]
        for offer, participants, with_panel in [("growth", 230, 215), ("small", 9, 7)]:
            EffectRunOffer.objects.create(
                run=run,
                offer=published[offer],
                status="done",
                participants=participants,
                participants_with_panel=with_panel,
            )
        client.force_login(make_user("karen", organisation="erhvervsstyrelsen", role="Analytiker"))

        with django_assert_max_num_queries(10):
            response = client.get("/analyse/effekter/")

        assert response.status_code == 200
        page = text(response)
        assert f"Diagnostik for kørsel {run.pk}" in page
        assert "230 / 215 / 212" in page
        # The small offer's counts (9, 7) are below the threshold: not shown, even to analysts.
        assert "færre end 20 / færre end 20 / færre end 20" in page
        assert "Fuldtidsansatte året før" in page
        # SMD before and after matching, from the estimate's balance.
        assert "0,42" in page and "0,03" in page
        assert "Gennemført" in page

    def test_on_the_english_page_the_offer_and_the_runs_danish_remark_are_marked_danish(
        self, client, make_user, published
    ):
        EffectRunOffer.objects.create(
            run=published["run"],
            offer=published["small"],
            status="done",
            reason="Der er ingen registrerede deltagere i tilbuddet.",
        )
        client.force_login(make_user("karen", organisation="erhvervsstyrelsen", role="Analytiker"))

        html = client.get("/analyse/effekter/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

        assert '<span lang="da">Der er ingen registrerede deltagere i tilbuddet.</span>' in html
        assert f'lang="da">{published["small"].title}</a>' in html

    def test_a_superuser_may_look(self, client, published, django_user_model):
        admin = django_user_model.objects.create_superuser("root", password="a-long-test-password")
        client.force_login(admin)

        assert client.get("/analyse/effekter/").status_code == 200


@pytest.mark.django_db
def test_the_offer_page_shows_its_own_effect(client, published):
    page = text(client.get("/tilbud/vaekst-forloeb/"))

    assert "Målt effekt" in page
    assert "+1,8 fuldtidsansatte pr. deltager" in page


def test_in_english_the_offers_danish_titles_are_marked_danish(client, published):
    english = {"accept-language": "en"}

    effects = client.get("/effekter/", headers=english).text
    offer = client.get("/effekter/vaekst-forloeb/", headers=english).text

    title = "Vækstforløb for små virksomheder"
    assert "had on average" in effects
    assert f'Companies that used <span lang="da">{title}</span>' in effects
    assert re.search(rf'<th scope="row"><a href="[^"]+" lang="da">{title}</a></th>', effects)
    assert re.search(rf'<text [^>]*lang="da">{title}</text>', effects)
    # Levels and themes are named in English, not marked.
    assert '<th scope="row">State</th>' in effects
    assert f'<h1>Effect of <span lang="da">{title}</span></h1>' in offer
    # The chart keeps its size on a phone and scrolls inside its own region.
    assert 'class="effect-chart-scroll" tabindex="0" role="region"' in offer


def test_an_offers_page_rounds_an_amount_to_what_its_interval_supports(client, db):
    offer = make_offer(external_id="usikker-omsaetning", title="Et lille forløb")
    make_estimate(
        run=make_run(),
        offer=offer,
        indicator="revenue",
        estimate=1_233_004.0,
        ci_low=-632_144.0,
        ci_high=3_098_152.0,
    )

    page = client.get("/effekter/usikker-omsaetning/").content.decode()

    # An interval almost four million kroner wide does not know the effect to the thousand.
    assert "+1.200.000 kr." in page and "−600.000 kr. til +3.100.000 kr." in page
    assert "1.233.000" not in page and "632.000" not in page
