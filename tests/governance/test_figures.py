"""Every figure on the analysis pages is defined once (governance.figures) and each page shows
the definitions beside its figures, names the hubs by HUB_TERM and shows names, not ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm import services as crm_services
from crm.models import Case
from governance.analysis_index import PAGES
from governance.figures import FIGURES
from offers.models import Municipality, Organisation, Theme
from routing.services import guidance_request_submit
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.evaluation.factories import make_published_effects
from tests.routing.factories import submission

pytestmark = pytest.mark.django_db

ROOT = Path(django_settings.BASE_DIR)
WITH_DEFINITIONS = PAGES


def visible_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.fixture
def analyst(client: Client, make_user) -> Client:
    client.force_login(make_user("analytiker", role="Analytiker"))
    return client


@pytest.fixture
def one_case_two_requests() -> None:
    """A company that asks twice through the portal (one request: the second joins the open
    case) and a company that phoned (a case, no request)."""
    for needs in ("Vi vil eksportere til Tyskland.", "Og til Sverige."):
        guidance_request_submit(
            submission=submission(cvr="35120009", contact_email="mette@example.dk", needs=needs),
            channel="form",
        )
    company = CompanyFactory.create()
    crm_services.case_create(
        company=company,
        contact=ContactFactory.create(company=company),
        hub=Organisation.objects.get(slug="vaeksthus-syddanmark"),
        needs="Ringede om eksport.",
        themes=Theme.objects.filter(slug="export"),
        source=Case.Source.PHONE,
    )


def test_every_figure_a_page_names_is_defined_in_both_languages() -> None:
    templates = [
        *ROOT.glob("governance/templates/**/*.html"),
        *ROOT.glob("evaluation/templates/**/*.html"),
        ROOT / "routing/templates/routing/statistics.html",
    ]
    used: set[str] = set()
    for template in templates:
        text = template.read_text(encoding="utf-8")
        used.update(re.findall(r'{% figure_name "(\w+)"', text))
        for codes in re.findall(r"{% figure_definitions ((?:\"\w+\" ?)+)%}", text):
            used.update(re.findall(r'"(\w+)"', codes))

    assert used, "the pages name their figures by code"
    assert used <= set(FIGURES), used - set(FIGURES)
    for code, figure in FIGURES.items():
        with translation.override("da"):
            danish = (str(figure.name), figure.definition)
        with translation.override("en"):
            english = (str(figure.name), figure.definition)
        assert all(danish) and all(english), code
        assert english[1] != danish[1], f"{code} has no English definition"


def test_requests_and_cases_are_two_figures_with_two_names_and_definitions(
    analyst: Client, one_case_two_requests: None
) -> None:
    statistics = visible_text(analyst.get(reverse("routing:statistics")).text)
    standards = visible_text(analyst.get(reverse("governance:service_standards_report")).text)

    assert "1 henvendelse i alt." in statistics
    assert "Henvendelser Anmodninger om vejledning, som virksomheder sendte" in statistics
    assert "Modtagne sager Sager oprettet i måneden eller perioden" in standards
    assert re.search(r"Hele perioden.*? Væksthus Syddanmark 2 ", standards), "two cases"
    assert "Henvendelser Anmodninger" not in standards


def test_the_public_service_standards_count_cases_under_the_cases_name(client: Client) -> None:
    html = client.get("/servicestandarder/").text

    assert '<dfn id="figure-cases_received">Modtagne sager</dfn>' in html
    assert ">Henvendelser<" not in html


def test_each_analysis_page_shows_the_definitions_of_its_figures(
    analyst: Client, one_case_two_requests: None
) -> None:
    make_published_effects()  # a run, so the effect page shows its diagnostics
    for page in WITH_DEFINITIONS:
        html = analyst.get(reverse(page.url_name)).text

        assert '<details class="figure-definitions" open>' in html, page.url_name
        assert re.search(r"<dt><dfn id=\"figure-\w+\">[^<]+</dfn></dt>\s*<dd>\w", html), (
            page.url_name
        )


def test_the_definitions_are_in_english_on_the_english_pages(
    analyst: Client, one_case_two_requests: None
) -> None:
    analyst.cookies["django_language"] = "en"

    statistics = visible_text(
        analyst.get(reverse("routing:statistics"), HTTP_ACCEPT_LANGUAGE="en").text
    )

    assert "Requests Requests for guidance that companies sent" in statistics
    assert "How the figures are calculated" in statistics
    assert "Anmodninger" not in statistics


def test_the_analysis_pages_name_the_hubs_by_the_setting(
    analyst: Client, settings, one_case_two_requests: None
) -> None:
    settings.HUB_TERM = ["Erhvervshus", "Erhvervshuset", "Erhvervshuse", "Erhvervshusene"]
    for hub in Organisation.objects.hubs():
        hub.name = hub.name.replace("Væksthus", "Erhvervshus")
        hub.save(update_fields=["name"])

    for url in [reverse("governance:analysis_index")] + [
        reverse(page.url_name) for page in WITH_DEFINITIONS
    ]:
        text = visible_text(analyst.get(url).text)
        assert "Væksthus" not in text, (url, text[text.find("Væksthus") - 80 :][:200])
    standards = visible_text(analyst.get(reverse("governance:service_standards_report")).text)
    assert "Servicestandarder pr. Erhvervshus" in standards
    assert "Alle Erhvervshuse" in standards


def test_the_reports_show_names_never_internal_ids(
    analyst: Client, one_case_two_requests: None
) -> None:
    slugs = set(Organisation.objects.values_list("slug", flat=True))
    for page in PAGES:
        text = visible_text(analyst.get(reverse(page.url_name)).text)

        shown = {
            slug for slug in slugs if re.search(rf"(?<![\w/-]){re.escape(slug)}(?![\w-])", text)
        }
        assert not shown, (page.url_name, shown)
        assert not re.search(r"\bkommune-\d+\b", text), page.url_name
    statistics = visible_text(analyst.get(reverse("routing:statistics")).text)
    assert Municipality.objects.get(code=630).region.name in statistics
