"""/analyse/henvisninger/: declines and silence per operator and theme; a hub sees its own
referrals, the ministry's analysts all; small numbers are suppressed
(governance.referral_report)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from crm import services
from crm.models import Case, Referral
from governance.referral_report import referral_report
from offers.models import Organisation, Theme
from tests.crm.factories import CompanyFactory, ContactFactory

CPH = ZoneInfo("Europe/Copenhagen")
URL = "/analyse/henvisninger/"


@pytest.fixture
def midt_adviser(make_user):
    return make_user(
        "mette", organisation="vaeksthus-midtjylland", role="Rådgiver", email="m@vh.dk"
    )


@pytest.fixture
def nord_adviser(make_user):
    return make_user("ole", organisation="vaeksthus-nordjylland", role="Rådgiver", email="o@vh.dk")


@pytest.fixture
def staff(make_user):
    return make_user("anna", organisation="eksportraadet", role="Operatør")


def referred(adviser, *, theme: str = "export", operator: str = "eksportraadet") -> Referral:
    company = CompanyFactory.create()
    case = services.case_create(
        company=company,
        contact=ContactFactory.create(company=company),
        hub=adviser.organisation,
        needs="Behov",
        themes=Theme.objects.filter(slug=theme),
        source=Case.Source.WEB,
    )
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    return services.referral_create(
        case=case, operator=Organisation.objects.get(slug=operator), actor=adviser
    )


@pytest.fixture
def referrals(time_machine, midt_adviser, nord_adviser, staff):
    """At Vækst Midt: 6 export referrals to Eksportrådet (5 declined for capacity, 1 silent)
    and 2 to Innovationsfonden; at Nord: 5 export referrals to Eksportrådet, all declined as
    not in the area."""
    time_machine.move_to(dt.datetime(2026, 11, 2, 10, 0, tzinfo=CPH), tick=False)
    midt = [referred(midt_adviser) for _ in range(6)]
    for referral in midt[:5]:
        services.referral_decline(referral=referral, reason="no_capacity", outcome="", actor=staff)
    innovation = [referred(midt_adviser, operator="innovationsfonden") for _ in range(2)]
    nord = [referred(nord_adviser) for _ in range(5)]
    for referral in nord:
        services.referral_decline(referral=referral, reason="not_in_area", outcome="", actor=staff)
    time_machine.move_to(dt.datetime(2026, 11, 20, 10, 0, tzinfo=CPH), tick=False)
    return {"midt": midt, "innovation": innovation, "nord": nord}


def test_a_hub_sees_its_own_referrals_with_small_numbers_suppressed(
    client: Client, midt_adviser, referrals
) -> None:
    rows = referral_report(
        first=dt.date(2026, 11, 1),
        last=dt.date(2026, 11, 30),
        today=dt.date(2026, 11, 20),
        hub_id=midt_adviser.organisation_id,
        min_count=5,
    )

    by_operator = {row.operator: row for row in rows}
    assert set(by_operator) == {"Eksportrådet", "Innovationsfonden"}
    export = by_operator["Eksportrådet"]
    assert export.referrals.value == 6
    assert export.declined.value == 5
    # One silent referral: below the threshold, so shown as "fewer than".
    assert export.silent.value is None
    assert [(label, figure.value) for label, figure in export.reasons] == [
        (str(Referral.DeclineReason.NO_CAPACITY.label), 5)
    ]
    # Two referrals in all: nothing about them is shown.
    innovation = by_operator["Innovationsfonden"]
    assert not innovation.shown
    assert innovation.declined.value is None and innovation.silent.value is None


def test_the_ministry_sees_every_hubs_referrals(referrals) -> None:
    rows = referral_report(
        first=dt.date(2026, 11, 1),
        last=dt.date(2026, 11, 30),
        today=dt.date(2026, 11, 20),
        hub_id=None,
        min_count=5,
    )

    export = next(row for row in rows if row.operator == "Eksportrådet")
    assert export.referrals.value == 11
    assert export.declined.value == 10
    assert {label: figure.value for label, figure in export.reasons} == {
        str(Referral.DeclineReason.NO_CAPACITY.label): 5,
        str(Referral.DeclineReason.NOT_IN_AREA.label): 5,
    }


def test_reasons_are_withheld_when_one_would_be_small(referrals, staff, midt_adviser) -> None:
    # A sixth Midt decline for another reason: showing 5 capacity of 6 declines would reveal it.
    services.referral_decline(
        referral=referrals["midt"][5], reason="not_eligible", outcome="", actor=staff
    )

    rows = referral_report(
        first=dt.date(2026, 11, 1),
        last=dt.date(2026, 11, 30),
        today=dt.date(2026, 11, 20),
        hub_id=midt_adviser.organisation_id,
        min_count=5,
    )

    export = next(row for row in rows if row.operator == "Eksportrådet")
    assert export.declined.value == 6
    assert export.reasons_withheld and export.reasons == ()


def test_the_page_shows_the_hub_its_own_figures_only(
    client: Client, midt_adviser, nord_adviser, referrals
) -> None:
    client.force_login(nord_adviser)

    response = client.get(URL, {"fra": "2026-11-01", "til": "2026-11-30"})

    assert response.status_code == 200
    html = response.text
    assert "Virksomheden ligger uden for vores område: 5" in html
    assert "Vi har ikke kapacitet lige nu" not in html
    assert "Innovationsfonden" not in html


def test_analysts_see_all_and_operators_editors_and_visitors_nothing(
    client: Client, analyst, editor, staff, referrals
) -> None:
    client.force_login(analyst)
    html = client.get(URL, {"fra": "2026-11-01", "til": "2026-11-30"}).text
    assert "Vi har ikke kapacitet lige nu: 5" in html
    assert "Virksomheden ligger uden for vores område: 5" in html

    for user in (staff, editor):
        client.force_login(user)
        assert client.get(URL).status_code == 403
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_bad_period_is_a_form_error_not_a_failure(client: Client, analyst) -> None:
    client.force_login(analyst)

    response = client.get(URL, {"fra": "2026-12-01", "til": "2026-11-01"})

    assert response.status_code == 200
    assert "Startdatoen skal ligge før" in response.text
