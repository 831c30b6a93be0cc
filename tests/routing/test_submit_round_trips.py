"""A guidance request's round trips to PostgreSQL are few: under load each one waits for the
processor again (benchmarks/load.py), so a request's time grows with their number."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import CaseOffer, Notification
from routing import vocabulary_store
from routing.services import guidance_request_submit
from tests.routing.factories import OfferFactory, index_offers, next_cvr, submission

pytestmark = pytest.mark.django_db

#: The statements of a request from a new company: 36 before the e-mails went without savepoints
#: and the new rows' themes without a read first (30). Inside a test's transaction the request's
#: own transaction is a savepoint (2) and the catalogue copy is read afresh (2: see
#: routing.catalogue), so a request in production makes four fewer plus BEGIN and COMMIT. Since
#: then, seven for what the request now does: the published effects' version (1), the offers'
#: state-aid rules (1; three before they were read in one statement) and the company's open or
#: recent case at the hub and elsewhere (3 and an empty savepoint pair); the date last promised
#: is read for a repeat request only (a new case's is its first-response date); and one more
#: whenever the needs vocabulary's version is due to be read again (at most once a second per
#: process). A company registered by the request itself (a CVR seen for the first time) has no
#: case anywhere, so the company's cases are not looked for: six fewer (38 before). The hub's
#: e-mail lists the themes as given instead of reading the case's back: one fewer (33 before,
#: with the vocabulary's version). The company and the contact are written without savepoints of
#: their own (four fewer: 32 before). The tests below make that version due in the request
#: counted, so the bound holds whenever it falls.
ROUND_TRIPS = 28


def vocabulary_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """The needs vocabulary's version is read again in the next request (as it is at most once a
    second per process), so a count includes it."""
    monkeypatch.setattr(vocabulary_store, "_checked", None)


def test_a_request_from_a_new_company_takes_a_bounded_number_of_statements(
    export_offers: None, django_assert_max_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first request of a process reads the catalogue copy and the postings of its words.
    guidance_request_submit(submission=submission(cvr=next_cvr()), channel="api")
    request_data = submission(cvr=next_cvr(), contact_email="ny@firma.dk")
    vocabulary_due(monkeypatch)

    with django_assert_max_num_queries(ROUND_TRIPS):
        request = guidance_request_submit(submission=request_data, channel="api")

    # Nothing was left out to get there: both e-mails, the offers and the themes are stored.
    assert set(Notification.objects.filter(case=request.case).values_list("kind", flat=True)) == {
        "case_created",
        "request_receipt",
    }
    assert list(
        CaseOffer.objects.filter(case=request.case).values_list("offer__external_id", flat=True)
    ) == ["eksportstart"]
    assert [t.slug for t in request.themes.all()] == ["export"]
    assert [t.slug for t in request.case.themes.all()] == ["export"]


def test_e_mails_without_a_dedupe_key_are_written_without_a_savepoint(
    export_offers: None,
) -> None:
    with CaptureQueriesContext(connection) as captured:
        guidance_request_submit(submission=submission(cvr=next_cvr()), channel="api")

    statements = [q["sql"] for q in captured.captured_queries]
    mails = [
        i for i, sql in enumerate(statements) if sql.startswith('INSERT INTO "crm_notification"')
    ]
    assert len(mails) == 2
    assert not any(statements[i - 1].startswith("SAVEPOINT") for i in mails)


#: A repeat request (the company's open case at the hub takes it, ``routing.repeats``), counted
#: inside a test as ``ROUND_TRIPS`` is: with four offers matched, 41 before the offers' titles were
#: read with their keys (one statement per offer), the answer reused the locked case and its hub
#: (two after the commit) and the company's municipality was compared by its key (one); 34 before
#: the company, the contact and the case's new entries were written without savepoints of their
#: own (six fewer).
REPEAT_ROUND_TRIPS = 27


def test_a_repeat_request_takes_a_bounded_number_of_statements_whatever_the_offers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for number in range(4):
        OfferFactory(
            external_id=f"eksport-{number}",
            title=f"Eksportforløb {number}",
            summary="Rådgivning til virksomheder, der vil eksportere.",
            themes=["export"],
        )
    index_offers()
    cvr = next_cvr()
    first = guidance_request_submit(submission=submission(cvr=cvr), channel="api")
    again = submission(cvr=cvr, needs="Vi vil gerne eksportere til Norge.")
    vocabulary_due(monkeypatch)

    with CaptureQueriesContext(connection) as captured:
        request = guidance_request_submit(submission=again, channel="api")
        # What the answer shows (routing.api.guidance_result) is read already.
        assert request.case.reference == first.case.reference
        assert request.hub.slug == first.hub.slug

    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) <= REPEAT_ROUND_TRIPS, "\n".join(statements)
    # The offers come in one statement, not one each.
    assert not [s for s in statements if 'FROM "offers_offer" WHERE "offers_offer"."id" =' in s]
    offers = CaseOffer.objects.filter(case=request.case)
    assert offers.count() == 4
    mail = Notification.objects.get(case=request.case, kind="repeat_request")
    assert all(f"- Eksportforløb {number}" in mail.body for number in range(4))
