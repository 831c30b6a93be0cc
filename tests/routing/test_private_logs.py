"""No log line carries a private status token or a contact's e-mail address."""

from __future__ import annotations

import logging

import pytest
from django.db import IntegrityError
from django.test import Client

from routing import services as routing_services
from routing.logfilters import PrivatePathFilter, mask_private_paths
from routing.services import guidance_request_submit
from tests.routing.factories import form_data, submission

pytestmark = pytest.mark.django_db

EMAIL = "anne.secret@example.dk"


def _broken(*args, **kwargs):
    raise RuntimeError("the database had a bad day")


def test_a_server_error_on_the_status_page_logs_the_path_without_the_token(
    export_offers, monkeypatch, caplog
):
    request = guidance_request_submit(submission=submission(), channel="form")
    token = request.token
    monkeypatch.setattr("routing.views.case_public_timeline", _broken)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = Client(raise_request_exception=False).get(f"/vejledning/{token}/")

    assert response.status_code == 500
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged, "the error is still logged"
    assert "/vejledning/<token>/" in logged[0].getMessage()
    assert token not in caplog.text
    assert all(token not in (r.exc_text or "") for r in logged)


def test_the_filter_masks_arguments_messages_and_tracebacks_and_keeps_other_paths():
    token = "AbCdEf0123456789_-xyzXYZ0123456789abcdefghi"
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"GET /vejledning/%s/kvittering/ HTTP/1.1" %s',
        (token, "200"),
        None,
    )
    assert PrivatePathFilter().filter(record)
    assert token not in record.getMessage()
    assert (
        mask_private_paths("/vejledning/vaeksthus/?kommune=101")
        == "/vejledning/vaeksthus/?kommune=101"
    )
    assert mask_private_paths("/en/vejledning/") == "/en/vejledning/"
    assert mask_private_paths("/gemte-soegninger/afmeld/MTIz:1abc:sig/") == (
        "/gemte-soegninger/afmeld/<token>/"
    )
    # The survey link answers the company's survey: a CSRF failure logs its path.
    assert mask_private_paths(
        "Forbidden (CSRF cookie not set.): /tilfredshed/NDI0Mg:1xaF:sig/"
    ) == ("Forbidden (CSRF cookie not set.): /tilfredshed/<token>/")
    assert mask_private_paths("/en/tilfredshed/NDI0Mg:1xaF:sig/") == "/en/tilfredshed/<token>/"
    assert mask_private_paths('"GET /api/guidance-requests/AbC-d_9/ HTTP/1.1" 200') == (
        '"GET /api/guidance-requests/<token>/ HTTP/1.1" 200'
    )
    assert mask_private_paths('"POST /api/guidance-requests/ HTTP/1.1" 201') == (
        '"POST /api/guidance-requests/ HTTP/1.1" 201'
    )


def test_a_request_that_keeps_hitting_a_unique_key_logs_no_e_mail(
    export_offers, monkeypatch, caplog
):
    def conflict(**kwargs):
        raise IntegrityError(
            'duplicate key value violates unique constraint "crm_contact_unique_email_per_company"'
            f"\nDETAIL:  Key (company_id, lower(email::text))=(7, {EMAIL}) already exists."
        )

    monkeypatch.setattr(routing_services, "_submit", conflict)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = Client(raise_request_exception=False).post(
            "/api/guidance-requests/",
            form_data(contact_email=EMAIL),
            content_type="application/json",
        )

    assert response.status_code == 500
    assert caplog.records, "the error is still logged"
    assert EMAIL not in caplog.text
    with pytest.raises(IntegrityError) as raised:
        guidance_request_submit(submission=submission(contact_email=EMAIL), channel="form")
    assert EMAIL not in str(raised.value)
    assert raised.value.__suppress_context__


def test_the_advisers_case_form_re_raises_a_unique_key_conflict_without_the_e_mail():
    from crm.admin.case_add import with_one_retry

    calls = []

    def register():
        calls.append(1)
        raise IntegrityError(f"DETAIL:  Key (company_id, lower(email::text))=(7, {EMAIL}) exists.")

    with pytest.raises(IntegrityError) as raised:
        with_one_retry(register)

    assert len(calls) == 2
    assert EMAIL not in str(raised.value)
    assert raised.value.__suppress_context__
