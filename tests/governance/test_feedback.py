import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.masking import EMAIL_MASK, PHONE_MASK
from governance.models import PageFeedback, PageView


def test_it_shows_the_feedback_question_on_public_pages(client, db):
    body = client.get("/om/").content.decode()
    assert "Fandt du det, du ledte efter?" in body
    assert 'action="/feedback/"' in body
    assert 'name="path" value="/om/"' in body


def _feedback_section(body: str) -> str:
    start = body.index('id="feedback"')
    return body[start : body.index("</section>", start)]


def test_the_answer_goes_to_one_message_that_takes_the_focus_and_is_read_once(client, db):
    # feedback.js writes the answer here and moves the focus to it (the form it came from is
    # hidden): tabindex="-1" makes it focusable, and the focus is what a screen reader reads. A
    # live region as well would have some screen readers read the answer twice.
    section = _feedback_section(client.get("/om/").content.decode())
    assert '<div class="js-page-feedback-status" tabindex="-1"' in section
    assert section.count('role="status"') + section.count("aria-live") == 0

    # Without JavaScript the thank-you page has its own status message, and no second, empty one.
    thanks = _feedback_section(client.get("/om/?tilbagemelding=tak").content.decode())
    assert "Tak for din tilbagemelding" in thanks
    assert thanks.count('role="status"') + thanks.count("aria-live") == 1


@pytest.mark.parametrize(
    ("language", "question", "failed", "success", "error"),
    [
        (
            "da",
            "Fandt du det, du ledte efter?",
            "Tilbagemeldingen blev ikke sendt. Prøv igen om lidt.",
            "Udført",
            "Fejl",
        ),
        (
            "en",
            "Did you find what you were looking for?",
            "Your feedback was not sent. Please try again in a moment.",
            "Done",
            "Error",
        ),
    ],
)
def test_the_question_names_the_answers_and_the_server_checks_them(
    client, db, language, question, failed, success, error
):
    # The question is the radio group's legend; the browser's own check is off (its bubble
    # speaks the browser's language, not the page's, and covers an answer): the server says
    # "Vælg ja eller nej." in the page's language. The words feedback.js needs for an answer
    # that did not come, and for the alert's icon, are the page's too.
    client.cookies["django_language"] = language
    section = _feedback_section(client.get("/om/").content.decode())
    form = section[section.index("<form") : section.index(">", section.index("<form"))]
    assert "novalidate" in form
    legend = section[section.index("<legend") : section.index("</legend>")]
    assert f'<h2 id="feedback-heading" class="h3">{question}</h2>' in legend
    assert f'data-failed="{failed}"' in section
    assert f'data-label-success="{success}"' in section
    assert f'data-label-error="{error}"' in section


def test_it_sets_no_cookie_on_a_public_page(client, db):
    response = client.get("/om/")
    assert not response.cookies


def test_it_stores_an_anonymous_answer_and_sends_the_visitor_back_with_thanks(client, db):
    response = client.post(
        "/feedback/",
        {"path": "/tilbud/?q=eksport&theme=export", "answer": "no", "comment": "Manglede noget"},
    )

    assert response.status_code == 303
    assert response["Location"] == "/tilbud/?q=eksport&theme=export&tilbagemelding=tak#feedback"
    stored = PageFeedback.objects.get()
    assert stored.path == "/tilbud/"  # no query string: it could carry what the visitor typed
    assert stored.answer == "no"
    assert stored.comment == "Manglede noget"
    assert stored.day == timezone.localdate()
    thanks = client.get(response["Location"]).content.decode()
    assert "Tak for din tilbagemelding" in thanks
    assert 'action="/feedback/"' not in thanks


def test_it_masks_contact_details_in_the_comment_before_storing_it(client, db):
    client.post(
        "/feedback/",
        {"path": "/om/", "answer": "yes", "comment": "Ring +45 12 34 56 78 eller skriv a.b@c.dk"},
    )
    stored = PageFeedback.objects.get()
    assert stored.comment == f"Ring {PHONE_MASK} eller skriv {EMAIL_MASK}"
    assert "12" not in stored.comment


def test_it_answers_the_script_with_json_and_stores_nothing_about_the_visitor(client, db):
    response = client.post(
        "/feedback/",
        {"path": "/om/", "answer": "yes"},
        headers={"Accept": "application/json"},
        REMOTE_ADDR="192.0.2.55",
    )
    assert response.status_code == 200
    assert "Tak for din tilbagemelding" in response.json()["message"]
    row = PageFeedback.objects.values().get()
    assert "192.0.2.55" not in str(row)
    assert set(row) == {"id", "path", "answer", "comment", "day"}


def test_it_refuses_a_comment_over_1000_characters_and_stores_nothing(client, db):
    response = client.post("/feedback/", {"path": "/om/", "answer": "no", "comment": "x" * 1001})
    assert response.status_code == 400
    assert "højst være 1000 tegn" in response.content.decode()
    assert not PageFeedback.objects.exists()

    json_response = client.post(
        "/feedback/",
        {"path": "/om/", "answer": "no", "comment": "x" * 1001},
        headers={"Accept": "application/json"},
    )
    assert json_response.status_code == 400
    assert "højst være 1000 tegn" in json_response.json()["message"]
    assert not PageFeedback.objects.exists()


def test_it_asks_for_an_answer_in_danish_when_none_was_chosen(client, db):
    response = client.post("/feedback/", {"path": "/om/", "comment": "hej"})
    assert response.status_code == 400
    assert "Vælg ja eller nej." in response.content.decode()
    assert not PageFeedback.objects.exists()


def test_it_quietly_drops_an_answer_whose_honeypot_was_filled(client, db):
    response = client.post(
        "/feedback/",
        {"path": "/om/", "answer": "yes", "comment": "køb billige ure", "website": "http://spam"},
    )
    assert response.status_code == 303  # the robot sees success, so it does not try again
    assert not PageFeedback.objects.exists()


def test_it_does_not_redirect_to_another_site(client, db):
    response = client.post("/feedback/", {"path": "//evil.example/x", "answer": "yes"})
    assert response.status_code == 400
    assert not PageFeedback.objects.exists()
    response = client.post("/feedback/", {"path": "https://evil.example/", "answer": "yes"})
    assert response.status_code == 400


def test_it_needs_the_csrf_token(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/feedback/", {"path": "/", "answer": "yes"})
    assert response.status_code == 403
    assert not PageFeedback.objects.exists()


def test_it_limits_feedback_to_ten_an_hour_from_one_address(client, db, settings):
    settings.RATELIMIT_ENABLE = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    for _ in range(10):
        ok = client.post("/feedback/", {"path": "/om/", "answer": "yes"}, REMOTE_ADDR="192.0.2.9")
        assert ok.status_code == 303
    blocked = client.post("/feedback/", {"path": "/om/", "answer": "yes"}, REMOTE_ADDR="192.0.2.9")
    other = client.post("/feedback/", {"path": "/om/", "answer": "no"}, REMOTE_ADDR="192.0.2.10")

    assert blocked.status_code == 429
    assert "for mange" in blocked.content.decode()
    assert other.status_code == 303
    assert PageFeedback.objects.count() == 11


def _feedback(path, answer, day, comment=""):
    return PageFeedback.objects.create(path=path, answer=answer, day=day, comment=comment)


@pytest.fixture
def feedback_rows(db):
    day = dt.date(2026, 3, 10)
    _feedback("/tilbud/", "yes", day)
    _feedback("/tilbud/", "yes", day + dt.timedelta(days=1))
    _feedback("/tilbud/", "no", day, "Jeg fandt ikke eksportstøtte")
    _feedback("/vejledning/", "no", day, '=HYPERLINK("http://x")')
    _feedback("/tilbud/", "no", dt.date(2026, 2, 1), "uden for perioden")
    return day


def test_it_shows_analysts_answers_per_page_in_the_period(client, make_user, feedback_rows):
    client.force_login(make_user("ana", organisation="erhvervsstyrelsen", role="Analytiker"))

    response = client.get("/analyse/feedback/", {"fra": "2026-03-01", "til": "2026-03-31"})

    assert response.status_code == 200
    pages = {row["path"]: row for row in response.context["pages"]}
    assert pages["/tilbud/"]["yes"] == 2
    assert pages["/tilbud/"]["no"] == 1
    assert pages["/tilbud/"]["yes_share"] == 67
    assert pages["/tilbud/"]["comments"] == 1
    assert pages["/vejledning/"]["yes"] == 0
    assert pages["/vejledning/"]["no"] == 1
    assert response.context["totals"] == {"total": 4, "yes": 2}
    body = response.content.decode()
    assert "Jeg fandt ikke eksportstøtte" in body
    assert "uden for perioden" not in body


def test_it_exports_the_period_as_csv_that_spreadsheets_cannot_execute(
    client, make_user, feedback_rows
):
    client.force_login(make_user("ana", organisation="erhvervsstyrelsen", role="Analytiker"))

    response = client.get(
        "/analyse/feedback/eksport.csv", {"fra": "2026-03-01", "til": "2026-03-31"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff").splitlines()
    assert lines[0] == "dag;side;svar;kommentar"
    assert lines[1:] == [
        "2026-03-10;/tilbud/;Ja;",
        "2026-03-10;/tilbud/;Nej;Jeg fandt ikke eksportstøtte",
        '2026-03-10;/vejledning/;Nej;"\'=HYPERLINK(""http://x"")"',
        "2026-03-11;/tilbud/;Ja;",
    ]


def test_it_locks_the_query_count_of_the_feedback_page(
    client, make_user, feedback_rows, django_assert_max_num_queries
):
    for index in range(30):
        _feedback(f"/tilbud/tilbud-{index}/", "no", feedback_rows, f"kommentar {index}")
    client.force_login(make_user("ana", organisation="erhvervsstyrelsen", role="Analytiker"))
    with django_assert_max_num_queries(8):
        response = client.get("/analyse/feedback/", {"fra": "2026-03-01", "til": "2026-03-31"})
    assert len(response.context["pages"]) == 32


@pytest.mark.parametrize("role", ["Rådgiver", "Redaktør"])
def test_it_refuses_the_feedback_pages_to_other_roles(client, make_user, feedback_rows, role):
    client.force_login(make_user("other", organisation="vaeksthus-midtjylland", role=role))
    assert client.get("/analyse/feedback/").status_code == 403
    assert client.get("/analyse/feedback/eksport.csv").status_code == 403


def test_it_sends_anonymous_visitors_to_the_login(client, feedback_rows):
    response = client.get("/analyse/feedback/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_explains_a_period_that_ends_before_it_starts(client, make_user, feedback_rows):
    client.force_login(make_user("ana", organisation="erhvervsstyrelsen", role="Analytiker"))
    response = client.get("/analyse/feedback/", {"fra": "2026-03-31", "til": "2026-03-01"})
    assert response.status_code == 200
    assert "Startdatoen skal ligge før eller på slutdatoen." in response.content.decode()


def test_it_never_stores_a_private_link_from_the_page_the_feedback_came_from(client, db):
    from governance import tokens
    from governance.models import SavedSearch

    saved = SavedSearch.objects.create(email="anne@firma.dk", query_string="theme=export")
    secret = tokens.unsubscribe_token(saved.pk)
    page = client.get(f"/gemte-soegninger/afmeld/{secret}/").content.decode()
    assert "Fandt du det, du ledte efter?" in page

    response = client.post(
        "/feedback/", {"path": f"/gemte-soegninger/afmeld/{secret}/", "answer": "yes"}
    )

    assert response.status_code == 303
    stored = PageFeedback.objects.get()
    assert stored.path == "/gemte-soegninger/afmeld/<token>/"
    assert secret not in stored.path
    assert list(PageView.objects.values_list("path", flat=True)) == [
        "/gemte-soegninger/afmeld/<token>/"
    ]
