"""A company's DB07 main group (``industry_group``): optional on the page and in the API,
checked at its field, stored with the request and used by the matching."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from crm.models import Case
from routing.forms import GuidanceRequestForm
from routing.models import GuidanceRequest
from routing.services import company_profile
from tests.routing.factories import form_data

pytestmark = pytest.mark.django_db

URL = "/api/guidance-requests/"


def _form(**changes: Any) -> GuidanceRequestForm:
    return GuidanceRequestForm(data=form_data(**changes))


def test_the_group_is_optional_and_reaches_the_matching() -> None:
    without = _form()
    assert without.is_valid(), without.errors
    assert without.submission().industry_group is None

    given = _form(industry="C", industry_group=" 31 ")
    assert given.is_valid(), given.errors
    submission = given.submission()
    assert submission.industry_group == "31"
    assert company_profile(submission).industry_group == "31"
    # The same request with and without a group is not the same request.
    assert submission.fingerprint() != without.submission().fingerprint()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"industry_group": "3"}, "invalid_industry_group"),
        ({"industry_group": "04"}, "invalid_industry_group"),
        ({"industry_group": "ab"}, "invalid_industry_group"),
        ({"industry_group": "312"}, "max_length"),
        ({"industry": "J", "industry_group": "31"}, "industry_group_mismatch"),
    ],
)
def test_a_bad_group_is_an_error_at_its_field(changes: dict[str, Any], code: str) -> None:
    form = _form(**changes)
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["industry_group"]] == [code]
    assert set(form.errors) == {"industry_group"}


def test_the_api_takes_the_group_stores_it_and_answers_400_on_a_bad_one(
    export_offers: None,
) -> None:
    api = APIClient()
    bad = api.post(URL, form_data(industry="C", industry_group="62"), format="json")
    assert bad.status_code == 400
    assert "industry_group" in bad.json()
    assert not Case.objects.exists()

    good = api.post(URL, form_data(industry="C", industry_group="31"), format="json")
    assert good.status_code == 201, good.content
    (entry,) = GuidanceRequest.objects.get().case.timeline.filter(payload__has_key="industry_group")
    assert entry.payload["industry_group"] == "31"

    null = api.post(URL, form_data(industry_group=None, needs="Eksport igen"), format="json")
    assert null.status_code == 201, null.content


def test_the_page_shows_the_field_with_its_label(client) -> None:
    page = client.get("/vejledning/")
    assert page.status_code == 200
    assert 'name="industry_group"' in page.content.decode()
