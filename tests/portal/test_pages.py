from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django import forms
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import path
from django.utils import timezone

from core.ratelimit import ratelimited
from offers.models import Offer, Organisation, Theme
from portal import views
from portal.urls import urlpatterns as portal_urlpatterns

BASE_DIR = Path(__file__).resolve().parents[2]


# --- A URL configuration with two extra views, for the error pages ---------------------------


def _broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the database fell over")


urlpatterns = [
    path("test-broken/", _broken_view),
    path("test-too-many/", ratelimited),
    *portal_urlpatterns,
]
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"


# --- Helpers ----------------------------------------------------------------------------------


class _Page(HTMLParser):
    """The parts of a page the tests look at: tags with their attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.inline_scripts = 0
        self._in_script_without_src = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        self._in_script_without_src = tag == "script" and "src" not in attributes

    def handle_endtag(self, tag: str) -> None:
        self._in_script_without_src = False

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.inline_scripts += 1
        self.text.append(data)

    def find_all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            attributes
            for name, attributes in self.tags
            if name == tag and all(attributes.get(k) == v for k, v in attrs.items())
        ]


def parse(response: HttpResponse) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def label_text(html: str, field_id: str) -> str:
    match = re.search(rf'<label[^>]*for="{field_id}"[^>]*>(.*?)</label>', html, re.S)
    assert match, f"no label for #{field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def input_tag(html: str, **attrs: str) -> str:
    for tag in re.findall(r"<input[^>]*>", html):
        if all(f'{k}="{v}"' in tag for k, v in attrs.items()):
            return tag
    raise AssertionError(f"no <input> with {attrs}")


def make_offer(external_id: str, **fields: object) -> Offer:
    owner = Organisation.objects.get(slug="erhvervsstyrelsen")
    values: dict[str, object] = {
        "title": external_id.replace("-", " ").capitalize(),
        "summary": "Et tilbud til virksomheder.",
        "level": "state",
        "owner": owner,
        "operator": owner,
        "price": "free",
        "status": "published",
        "phases": ["growth"],
        "company_sizes": ["small"],
    }
    values.update(fields)
    return Offer.objects.create(external_id=external_id, **values)


# --- Front page -------------------------------------------------------------------------------


def test_it_puts_a_labelled_search_box_for_offers_first_on_the_front_page(client, db):
    response = client.get("/")
    html = response.content.decode()
    page = parse(response)

    [form] = [f for f in page.find_all("form") if f.get("role") == "search"]
    assert form["action"] == "/tilbud/"
    assert form["method"] == "get"
    [search] = page.find_all("input", name="q")
    assert search["type"] == "search"
    assert label_text(html, search["id"]) == "Søg i tilbud"
    # Search comes before every other form field in the content.
    main = html[html.index('<main id="main"') :]
    assert main.index('name="q"') < main.index("<h2")


def test_every_theme_is_reachable_from_a_situation_on_the_front_page(client, db):
    page = parse(client.get("/"))
    hrefs = " ".join(a.get("href") or "" for a in page.find_all("a"))

    themes = list(Theme.objects.all())
    assert len(themes) >= 11
    for theme in themes:
        assert f"theme={theme.slug}" in hrefs, f"no situation leads to {theme.slug}"


def test_it_counts_the_offers_a_company_can_use_today(client, db):
    today = timezone.localdate()
    make_offer("eksportraadgivning")
    make_offer("digitaliseringsforloeb", application_deadline=today + dt.timedelta(days=10))
    make_offer("kladde", status="draft")
    make_offer("udloebet", valid_to=today - dt.timedelta(days=1))
    make_offer("fristen-er-gaaet", application_deadline=today - dt.timedelta(days=1))

    body = client.get("/").content.decode()

    assert "Der er 2 tilbud åbne for virksomheder lige nu." in body


def test_it_offers_free_guidance_from_the_regional_vaeksthus(client, db, settings):
    settings.FIRST_RESPONSE_WORKING_DAYS = 3
    page = parse(client.get("/"))
    body = " ".join("".join(page.text).split())

    assert "/vejledning/" in {a.get("href") for a in page.find_all("a")}
    assert "Væksthuset i din region svarer dig inden for 3 arbejdsdage" in body
    assert "uden beregning" in body


def test_it_shows_the_front_page_with_few_queries_however_many_offers(
    client, db, settings, django_assert_max_num_queries
):
    settings.PAGE_VIEW_FLUSH_SECONDS = 3600  # page views are written in batches (test_usage.py)
    for number in range(30):
        make_offer(f"tilbud-{number}")
    # The version the page is kept under (offers/public_cache.py) and the count; the
    # situations are data.
    with django_assert_max_num_queries(2) as captured:
        response = client.get("/")
    assert response.status_code == 200
    page_queries = [q for q in captured.captured_queries if "offers_" in q["sql"]]
    assert len(page_queries) == 2


# --- Base layout ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/om/", "/privatliv/", "/findes-ikke/"])
def test_it_serves_pages_without_inline_scripts_or_styles_so_the_csp_holds(client, db, url):
    page = parse(client.get(url))

    assert page.inline_scripts == 0
    assert not page.find_all("style")
    assert not [attrs for _, attrs in page.tags if "style" in attrs]
    assert not [attrs for _, attrs in page.tags if any(k.startswith("on") for k in attrs)]
    assert page.find_all("script"), "the design system's script is loaded"


def test_it_finds_every_static_file_the_layout_refers_to(client, db, settings):
    page = parse(client.get("/"))
    references = [a["href"] for a in page.find_all("link")] + [
        s["src"] for s in page.find_all("script")
    ]
    references += [attrs["href"].split("#")[0] for attrs in page.find_all("use")]
    static = [ref for ref in references if ref.startswith(settings.STATIC_URL)]

    assert len(static) >= 5
    for ref in static:
        assert finders.find(ref.removeprefix(settings.STATIC_URL)), f"{ref} is missing"


def test_it_ships_every_font_and_icon_the_design_system_stylesheet_refers_to():
    css_dir = BASE_DIR / "static" / "vendor" / "dkfds" / "css"
    stylesheet = (css_dir / "dkfds-virkdk.min.css").read_text()
    urls = set(re.findall(r"url\(([^)]+)\)", stylesheet))

    assert any("IBMPlexSans" in url for url in urls)
    missing = [
        url
        for url in urls
        if not url.startswith("data:") and not (css_dir / url.strip("'\"")).resolve().is_file()
    ]
    # collectstatic's manifest storage fails the deploy on any one of these.
    assert missing == []
    assert "sourceMappingURL" not in stylesheet


def test_it_offers_a_skip_link_as_the_first_link_of_the_page(client, db):
    page = parse(client.get("/"))
    first_link = page.find_all("a")[0]

    assert first_link["href"] == "#main"
    assert page.find_all("main", id="main")


def test_it_marks_the_current_section_in_the_main_menu(client, db):
    page = parse(client.get("/om/"))
    current = page.find_all("a", **{"aria-current": "page"})

    assert {a["href"] for a in current} == {"/om/"}


# --- Languages --------------------------------------------------------------------------------


def test_it_offers_english_through_a_form_that_works_without_javascript(client, db):
    page = parse(client.get("/om/"))

    [form] = page.find_all("form", action="/i18n/setlang/")
    assert form["method"] == "post"
    # No per-visitor token: the page is the same for everyone (portal/csrf.py, test_csrf.py).
    assert not page.find_all("input", name="csrfmiddlewaretoken")
    assert page.find_all("input", name="next", value="/om/")
    assert page.find_all("button", name="language", value="en")


def test_it_switches_the_pages_to_english_and_back_to_the_same_page(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/om/"})
    assert response.status_code == 302
    assert response["Location"] == "/om/"

    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Find help for your business" in html
    assert "Search offers" in html
    # The switch now offers Danish.
    assert 'value="da"' in html

    client.post("/i18n/setlang/", {"language": "da", "next": "/"})
    assert '<html lang="da">' in client.get("/").content.decode()


# --- Content pages ----------------------------------------------------------------------------


def test_it_explains_the_portal_and_states_its_accessibility(client, db):
    response = client.get("/om/")
    page = parse(response)
    body = "".join(page.text)

    assert response.status_code == 200
    assert page.find_all("h2", id="tilgaengelighed")
    assert page.find_all("h2", id="kontakt")
    assert "WCAG 2.1" in body
    for principle in [
        "Én indgang.",
        "Klar arbejdsdeling.",
        "Én stærk national klynge pr. styrkeposition.",
        "Samarbejde om regional vækst.",
        "Alle indsatser bliver effektmålt.",
    ]:
        assert principle in body


def test_it_tells_how_long_personal_data_is_kept(client, db, settings):
    settings.CONTACT_RETENTION_MONTHS = 36
    body = " ".join(parse(client.get("/privatliv/")).text)
    assert "36 måneder efter, at sagen er lukket" in " ".join(body.split())

    settings.CONTACT_RETENTION_MONTHS = 24
    body = " ".join(parse(client.get("/privatliv/")).text)
    assert "24 måneder efter, at sagen er lukket" in " ".join(body.split())
    assert "Datatilsynet" in body


# --- Error pages ------------------------------------------------------------------------------


def test_it_answers_unknown_pages_with_a_helpful_danish_404(client, db):
    response = client.get("/findes-ikke/")
    page = parse(response)

    assert response.status_code == 404
    assert '<html lang="da">' in response.content.decode()
    assert "Siden findes ikke" in "".join(page.text)
    assert page.find_all("input", name="q")
    assert {"/", "/tilbud/", "/vejledning/"} <= {a.get("href") for a in page.find_all("a")}


@pytest.mark.urls("tests.portal.test_pages")
def test_it_answers_a_crash_with_a_standalone_danish_500(client, db):
    client.raise_request_exception = False
    response = client.get("/test-broken/")
    html = response.content.decode()

    assert response.status_code == 500
    assert '<html lang="da">' in html
    assert "Der opstod en fejl" in html
    assert "the database fell over" not in html
    assert "/static/vendor/dkfds/css/dkfds-virkdk.min.css" in html


def test_it_renders_the_500_page_without_any_request_or_context():
    html = render_to_string("500.html")
    assert "Der opstod en fejl" in html


def test_it_answers_maintenance_with_a_danish_503(db):
    response = views.service_unavailable(RequestFactory().get("/"))
    html = response.content.decode()

    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert '<html lang="da">' in html
    assert "Portalen er lukket for vedligeholdelse" in html


@pytest.mark.urls("tests.portal.test_pages")
def test_it_tells_a_visitor_who_sent_too_much_to_wait_in_danish(client, db):
    response = client.get("/test-too-many/")
    body = "".join(parse(response).text)

    assert response.status_code == 429
    assert '<html lang="da">' in response.content.decode()
    assert "Du har sendt for mange forespørgsler på kort tid." in body


def test_it_tells_a_locked_out_user_what_happened(rf, db):
    request = rf.get("/admin/login/")
    html = render_to_string("portal/lockout.html", {"failure_limit": 5}, request=request)

    assert "Log-in er midlertidigt spærret" in html
    assert "5 gange" in html


def test_it_shows_messages_as_design_system_alerts_announcing_errors():
    html = render_to_string(
        "includes/messages.html",
        {
            "messages": [
                Message(constants.SUCCESS, "Tak for din tilbagemelding."),
                Message(constants.ERROR, "Sagen er lukket."),
            ]
        },
    )

    assert re.search(r'<div class="alert alert-success">.*Tak for din tilbagemelding', html, re.S)
    assert re.search(r'<div class="alert alert-error" role="alert">.*Sagen er lukket', html, re.S)
    assert 'aria-label="Fejl"' in html


def test_it_renders_a_page_without_a_request_for_code_that_has_none():
    html = render_to_string("portal/about.html", {"first_response_days": 2})
    assert "Om Erhvervsfremmeportalen" in html
    assert "set_language" not in html and "/i18n/setlang/" not in html


def test_it_brands_the_admin_as_the_workplace(client, db):
    html = client.get("/admin/login/").content.decode()
    assert "Erhvervsfremmeportalen – arbejdsplads" in html


# --- The shared form field fragment -----------------------------------------------------------


class _GuidanceForm(forms.Form):
    email = forms.EmailField(label="E-mail", help_text="Vi skriver kun om din sag.")
    phase = forms.ChoiceField(
        label="Fase", choices=[("idea", "Idé"), ("growth", "Vækst")], widget=forms.RadioSelect
    )
    consent = forms.BooleanField(label="Jeg giver samtykke")
    phone = forms.CharField(label="Telefon", required=False)


def _render_fields(form: forms.Form, **extra: object) -> str:
    return "".join(
        render_to_string("includes/field.html", {"field": form[name], **extra})
        for name in form.fields
    )


def test_it_ties_hints_and_errors_to_their_field_for_screen_readers():
    form = _GuidanceForm(data={"email": "ikke-en-adresse"})
    html = _render_fields(form)

    email = input_tag(html, name="email")
    assert 'class="form-input"' in email
    assert 'aria-invalid="true"' in email
    assert 'aria-describedby="id_email_helptext id_email_error"' in email
    assert 'id="id_email_helptext"' in html
    assert re.search(r'class="form-error-message" id="id_email_error">.*Fejl:', html, re.S)
    assert label_text(html, "id_email") == "E-mail"


def test_it_groups_radio_buttons_in_a_fieldset_with_a_legend():
    html = _render_fields(_GuidanceForm(data={}))

    assert re.search(r'<fieldset aria-describedby="id_phase_error">\s*<legend', html)
    assert label_text(html, "id_phase_0") == "Idé"
    assert 'class="form-radio"' in input_tag(html, id="id_phase_0")
    assert 'class="form-checkbox"' in input_tag(html, name="consent", type="checkbox")


def test_it_marks_optional_fields_only_when_asked():
    form = _GuidanceForm()
    assert "(frivilligt)" not in _render_fields(form)
    assert label_text(_render_fields(form, optional=True), "id_phone") == "Telefon (frivilligt)"
