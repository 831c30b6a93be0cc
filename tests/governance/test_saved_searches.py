import datetime as dt
import re
import smtplib
import time

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from crm import tasks as crm_tasks
from crm.models import Notification
from governance import services, tasks, tokens
from governance.models import DigestDelivery, GovernanceMail, SavedSearch
from offers.models import Offer
from tests.offers.factories import make_offer, regional_in

pytestmark = pytest.mark.django_db

WEEK = "2026-W10"


def _links(body: object) -> list[str]:
    return re.findall(r"http://[^\s]+", str(body))


def _path_of(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[1]


def save(client, email="anne@firma.dk", query="q=eksport&theme=export", **extra):
    return client.post("/gemte-soegninger/", {"email": email, "query": query, **extra})


def confirmed(email="anne@firma.dk", query="theme=export", hours_ago=1):
    return SavedSearch.objects.create(
        email=email,
        query_string=query,
        status="active",
        confirmed_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )


# --- Saving and confirming ---------------------------------------------------------------------


def test_the_search_page_offers_to_save_exactly_the_search_shown(client):
    make_offer(title="Eksportrådgivning", themes=["export"])

    body = client.get("/tilbud/?theme=export&q=eksport&page=1&theme=ukendt").content.decode()

    assert "Gem søgning" in body
    assert 'name="query" value="q=eksport&amp;theme=export"' in body


def test_it_saves_a_search_pending_and_sends_a_danish_confirmation_after_commit(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = save(client, query="theme=export&q=eksport&page=3")

    assert len(callbacks) == 1
    assert response.status_code == 303
    assert response["Location"] == "/gemte-soegninger/sendt/"
    assert "Tjek din e-mail" in client.get(response["Location"]).content.decode()
    saved = SavedSearch.objects.get()
    assert (saved.email, saved.query_string, saved.status) == (
        "anne@firma.dk",
        "q=eksport&theme=export",
        "pending",
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anne@firma.dk"]
    assert message.subject == "Bekræft din gemte søgning på Erhvervsfremmeportalen"
    assert "“eksport”, Eksport" in message.body
    assert "Linket virker i 3 dage." in message.body
    assert any("/gemte-soegninger/bekraeft/" in link for link in _links(message.body))


def test_it_refuses_an_invalid_email_in_danish_and_stores_nothing(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = save(client, email="anne@firma")

    assert response.status_code == 400
    assert "Skriv en gyldig e-mailadresse, fx navn@firma.dk." in response.content.decode()
    assert not SavedSearch.objects.exists()
    assert mail.outbox == []


def test_it_stores_the_same_search_once_and_does_not_flood_the_inbox(
    client, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        save(client, email="anne@firma.dk", query="theme=export&theme=capital")
        save(client, email="Anne@Firma.dk", query="theme=capital&theme=export&page=2")

    assert SavedSearch.objects.count() == 1
    assert len(mail.outbox) == 1

    SavedSearch.objects.update(confirmation_sent_at=timezone.now() - dt.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        save(client, email="anne@firma.dk", query="theme=export&theme=capital")
    assert SavedSearch.objects.count() == 1
    assert len(mail.outbox) == 2


def test_it_quietly_drops_a_save_whose_honeypot_was_filled(client):
    response = save(client, website="http://spam.example")
    assert response.status_code == 303
    assert not SavedSearch.objects.exists()


def test_the_page_still_succeeds_when_the_broker_is_down(
    client, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def unreachable(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(crm_tasks.notification_send, "delay", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        response = save(client)

    assert response.status_code == 303
    # The confirmation waits in the outbox, not yet on its way: the sweep sends it.
    waiting = Notification.objects.get(kind=GovernanceMail.SAVED_SEARCH_CONFIRMATION)
    assert (waiting.status, waiting.enqueued_at) == (Notification.Status.PENDING, None)
    assert waiting.recipient == "anne@firma.dk"
    assert mail.outbox == []
    assert "broker unavailable" in caplog.text
    assert "anne@firma.dk" not in caplog.text


def test_it_confirms_only_when_the_button_is_pressed_and_only_once(client):
    saved = SavedSearch.objects.create(email="anne@firma.dk", query_string="theme=export")
    url = f"/gemte-soegninger/bekraeft/{tokens.confirmation_token(saved.pk)}/"

    page = client.get(url)
    assert page.status_code == 200
    assert "Bekræft søgningen" in page.content.decode()
    saved.refresh_from_db()
    assert saved.status == "pending"  # a mail scanner opening the link confirms nothing

    first = client.post(url)
    assert "Du får en e-mail hver mandag" in first.content.decode()
    again = client.post(url)
    assert "Søgningen var allerede bekræftet." in again.content.decode()
    saved.refresh_from_db()
    assert saved.status == "active"
    assert SavedSearch.objects.count() == 1


def test_it_explains_an_expired_confirmation_link_in_danish(client, monkeypatch):
    saved = SavedSearch.objects.create(email="anne@firma.dk", query_string="theme=export")
    four_days_ago = time.time() - 4 * 24 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: four_days_ago)
    token = tokens.confirmation_token(saved.pk)
    monkeypatch.undo()

    response = client.post(f"/gemte-soegninger/bekraeft/{token}/")

    assert response.status_code == 400
    assert "Linket er udløbet." in response.content.decode()
    saved.refresh_from_db()
    assert saved.status == "pending"


def test_it_refuses_a_tampered_link(client):
    saved = SavedSearch.objects.create(email="anne@firma.dk", query_string="theme=export")
    token = tokens.confirmation_token(saved.pk)
    forged = token.replace(f"{saved.pk}:", f"{saved.pk + 1}:", 1)
    response = client.post(f"/gemte-soegninger/bekraeft/{forged}/")
    assert response.status_code == 400
    assert "Linket er ikke gyldigt." in response.content.decode()
    # A confirmation link is no unsubscribe link.
    response = client.post(f"/gemte-soegninger/afmeld/{token}/")
    assert response.status_code == 400
    assert SavedSearch.objects.exists()


def test_it_unsubscribes_with_one_post_from_the_mail_program_and_forgets_the_address(db):
    saved = confirmed()
    url = f"/gemte-soegninger/afmeld/{tokens.unsubscribe_token(saved.pk)}/"
    mail_program = Client(enforce_csrf_checks=True)

    assert mail_program.get(url).status_code == 200
    assert SavedSearch.objects.exists()  # opening the link alone changes nothing

    response = mail_program.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Du er afmeldt" in response.content.decode()
    assert not SavedSearch.objects.filter(email="anne@firma.dk").exists()

    again = mail_program.post(url)
    assert "Du er allerede afmeldt." in again.content.decode()


def test_it_deletes_unconfirmed_searches_when_their_link_has_expired(db):
    old = SavedSearch.objects.create(
        email="old@firma.dk",
        query_string="theme=export",
        created_at=timezone.now() - dt.timedelta(days=3, minutes=1),
    )
    fresh = SavedSearch.objects.create(email="new@firma.dk", query_string="theme=export")
    active = confirmed(email="active@firma.dk")
    active.created_at = timezone.now() - dt.timedelta(days=30)
    active.save()

    assert tasks.expire_unconfirmed_saved_searches() == 1
    assert set(SavedSearch.objects.values_list("pk", flat=True)) == {fresh.pk, active.pk}
    assert not SavedSearch.objects.filter(pk=old.pk).exists()


# --- The weekly digest ---------------------------------------------------------------------------

QUERY = "q=eksport&theme=export&theme=capital&region=1082"


def _search_page_offers(client, query: str) -> set[str]:
    shown: set[str] = set()
    page = 1
    while True:
        response = client.get(f"/tilbud/?{query}&page={page}")
        result = response.context["result"]
        shown |= {offer.external_id for offer in result.offers}
        if not result.has_next:
            return shown
        page += 1


@pytest.fixture
def catalogue(db):
    """Offers on both sides of every rule of the saved search (OR within, AND across)."""
    today = timezone.localdate()
    for index in range(22):
        make_offer(
            external_id=f"match-{index}",
            title=f"Eksportforløb {index}",
            themes=["export"] if index % 2 else ["capital"],
        )
    make_offer(
        external_id="match-midt",
        title="Eksportkapital i Midtjylland",
        themes=["capital"],
        **regional_in(1082),
    )
    make_offer(external_id="wrong-theme", title="Eksport og digitalisering", themes=["growth"])
    make_offer(external_id="no-text", title="Byggetilladelse", themes=["capital"])
    make_offer(
        external_id="wrong-region",
        title="Eksportstøtte i Nordjylland",
        themes=["export"],
        **regional_in(1081),
    )
    make_offer(external_id="draft", title="Eksportkladde", themes=["export"], status="draft")
    make_offer(
        external_id="closed",
        title="Eksportprogram der er lukket",
        themes=["export"],
        valid_from=today - dt.timedelta(days=100),
        valid_to=today - dt.timedelta(days=1),
    )


def test_an_alert_holds_exactly_the_offers_the_same_search_shows(client, catalogue):
    saved = confirmed(query=QUERY)

    shown = _search_page_offers(client, QUERY)
    assert tasks.send_saved_search_digest(saved.pk, WEEK) is True

    assert len(shown) == 23  # two pages on the search page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    in_alert = {
        _path_of(link).strip("/").split("/")[-1]
        for link in _links(message.body)
        if re.search(r"/tilbud/[^/?]+/$", link)
    }
    assert in_alert == shown
    assert message.subject == "Nye og ændrede tilbud i din gemte søgning (uge 10)"
    assert "Her er 23 tilbud, der er nye eller ændret siden sidst" in message.body
    assert "Eksportforløb 1 (nyt)" in message.body


def test_the_digest_carries_a_one_click_unsubscribe_link(client, catalogue):
    saved = confirmed(query=QUERY)
    tasks.send_saved_search_digest(saved.pk, WEEK)

    message = mail.outbox[0]
    header = message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header.strip("<>")
    assert link in message.body
    response = Client(enforce_csrf_checks=True).post(_path_of(link))
    assert "Du er afmeldt" in response.content.decode()
    assert not SavedSearch.objects.exists()


def test_the_digest_goes_out_once_per_search_and_week(client, catalogue):
    saved = confirmed(query=QUERY)

    assert tasks.send_saved_search_digest(saved.pk, WEEK) is True
    assert tasks.send_saved_search_digest(saved.pk, WEEK) is False

    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.get().sent_at is not None


def test_the_next_digest_has_only_what_changed_since_the_last(client, catalogue):
    saved = confirmed(query=QUERY)
    tasks.send_saved_search_digest(saved.pk, "2026-W10")

    assert tasks.send_saved_search_digest(saved.pk, "2026-W11") is False  # nothing changed
    changed = Offer.objects.get(external_id="match-3")
    changed.summary = "Nu også rådgivning om told."
    changed.save()
    Offer.objects.filter(external_id="wrong-theme").update(summary="ændret, men uden for søgningen")
    assert tasks.send_saved_search_digest(saved.pk, "2026-W12") is True

    body = mail.outbox[-1].body
    assert "Her er 1 tilbud, der er nyt eller ændret siden sidst" in body
    assert "Eksportforløb 3 (ændret)" in body
    windows = list(DigestDelivery.objects.order_by("window_end"))
    assert [d.week for d in windows] == ["2026-W10", "2026-W11", "2026-W12"]
    assert windows[1].window_start == windows[0].window_end
    assert windows[2].window_start == windows[1].window_end


def test_the_digest_is_retried_after_a_transient_mail_error_and_sent_once(
    client, catalogue, monkeypatch, eager_tasks, time_machine
):
    from django.core.mail.backends.locmem import EmailBackend

    saved = confirmed(query=QUERY)
    real_send = EmailBackend.send_messages
    calls: list[str] = []

    def flaky_send(self, email_messages):
        calls.extend(message.subject for message in email_messages)
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("lost the connection")
        return real_send(self, email_messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky_send)
    # Run as a worker would: the first try fails and the outbox keeps the digest for later.
    result = tasks.send_saved_search_digest.apply(args=(saved.pk, WEEK), throw=False)
    assert result.successful() and result.get() is False
    assert DigestDelivery.objects.get().sent_at is None
    # The weekly job running again does not queue the week's digest a second time.
    assert tasks.send_saved_search_digest(saved.pk, WEEK) is False

    # After the backoff the outbox's sweep hands it to a worker (eager here), which sends it.
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=31), tick=False)
    assert crm_tasks.notifications_sweep.apply().get() == 1

    assert len(calls) == 2
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    delivery = DigestDelivery.objects.get()
    assert delivery.sent_at is not None
    assert Notification.objects.get().attempts == 2


def test_the_weekly_job_sends_to_confirmed_searches_only(client, catalogue, eager_tasks):
    confirmed(email="a@firma.dk", query=QUERY)
    confirmed(email="b@firma.dk", query="theme=capital")
    SavedSearch.objects.create(email="pending@firma.dk", query_string=QUERY)

    assert tasks.send_weekly_digests.apply().get() == 2

    assert sorted(message.to[0] for message in mail.outbox) == ["a@firma.dk", "b@firma.dk"]
    week = services.iso_week(timezone.localdate())
    assert set(DigestDelivery.objects.values_list("week", flat=True)) == {week}


def test_the_beat_schedule_runs_the_digest_on_monday_morning_and_cleans_up_daily(settings):
    from portal.celery import app

    digest = settings.CELERY_BEAT_SCHEDULE["governance-weekly-digests"]
    expire = settings.CELERY_BEAT_SCHEDULE["governance-expire-saved-searches"]
    assert digest["task"] in app.tasks
    assert expire["task"] in app.tasks
    assert digest["schedule"].day_of_week == {1}
    assert digest["schedule"].hour == {7}


def test_the_digest_task_delivered_twice_while_the_mail_server_is_down_queues_one_mail(
    client, catalogue, monkeypatch
):
    saved = confirmed(query=QUERY)

    def unreachable(self, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", unreachable)
    assert tasks.send_saved_search_digest(saved.pk, WEEK) is False
    assert tasks.send_saved_search_digest(saved.pk, WEEK) is False

    digest = Notification.objects.get()
    assert (digest.kind, digest.status, digest.attempts) == ("saved_search_digest", "pending", 1)
    assert DigestDelivery.objects.get().notification == digest
    assert DigestDelivery.objects.get().sent_at is None


def test_unsubscribing_takes_the_address_out_of_the_outbox_too(client, catalogue):
    saved = confirmed(query=QUERY)
    other = confirmed(email="bo@firma.dk", query=QUERY)
    tasks.send_saved_search_digest(saved.pk, WEEK)
    tasks.send_saved_search_digest(other.pk, WEEK)

    Client().post(f"/gemte-soegninger/afmeld/{tokens.unsubscribe_token(saved.pk)}/")

    assert set(Notification.objects.values_list("recipient", flat=True)) == {"", "bo@firma.dk"}
    assert not Notification.objects.filter(body__contains="anne@firma.dk").exists()
    assert Notification.objects.get(recipient="").body == "[slettet]"
