"""De minimis headroom over rolling three-year windows, and the register extract import."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from crm.state_aid import Aid, headroom, window_start

CEILING = 300_000
RATE = Decimal("7.46")
CEILING_DKK = 2_238_000


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_the_window_is_the_three_years_up_to_and_including_the_day():
    assert window_start(d("2026-12-31")) == d("2024-01-01")
    assert window_start(d("2027-01-01")) == d("2024-01-02")
    # 29 February three years earlier does not exist: the window starts on 1 March.
    assert window_start(d("2028-02-29")) == d("2025-03-01")


def test_aid_granted_on_new_years_eve_counts_until_the_same_day_three_years_later():
    aids = [Aid(granted_on=d("2023-12-31"), amount_dkk=1_000_000)]

    on_the_30th = headroom(aids, day=d("2026-12-30"), ceiling_eur=CEILING, dkk_per_eur=RATE)
    on_the_31st = headroom(aids, day=d("2026-12-31"), ceiling_eur=CEILING, dkk_per_eur=RATE)

    assert on_the_30th.ceiling_dkk == CEILING_DKK
    assert on_the_30th.used_dkk == 1_000_000
    assert on_the_30th.remaining_dkk == CEILING_DKK - 1_000_000
    assert on_the_31st.used_dkk == 0
    assert on_the_31st.remaining_dkk == CEILING_DKK


def test_the_window_rolls_grant_by_grant_not_by_calendar_year():
    aids = [
        Aid(granted_on=d("2024-03-15"), amount_dkk=900_000),
        Aid(granted_on=d("2025-06-01"), amount_dkk=900_000),
        Aid(granted_on=d("2026-11-20"), amount_dkk=400_000),
        Aid(granted_on=d("2027-01-10"), amount_dkk=10),  # after the day: not yet granted
    ]
    day = d("2027-01-05")
    position = headroom(aids, day=day, ceiling_eur=CEILING, dkk_per_eur=RATE)
    assert position.used_dkk == 2_200_000
    assert position.allows(38_000)
    assert not position.allows(38_001)
    # Once the March 2024 grant leaves the window, 900,000 more fits.
    later = headroom(aids, day=d("2027-03-16"), ceiling_eur=CEILING, dkk_per_eur=RATE)
    assert later.used_dkk == 1_300_010
    assert later.allows(900_000)


def test_a_company_over_the_ceiling_has_no_headroom_left():
    aids = [Aid(granted_on=d("2026-01-01"), amount_dkk=CEILING_DKK + 5)]
    position = headroom(aids, day=d("2026-06-01"), ceiling_eur=CEILING, dkk_per_eur=RATE)
    assert position.exceeded and position.remaining_dkk == 0 and not position.allows(0)


# --- the register extract ---------------------------------------------------------------------


def extract(*lines: str) -> io.BytesIO:
    return io.BytesIO(("cvr,granted_on,amount_dkk,grantor\n" + "\n".join(lines)).encode())


NOW = dt.datetime(2026, 12, 31, 12, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_the_extract_and_completed_participations_make_the_headroom(make_case, offer):
    from crm import services
    from crm.models import DeMinimisAid, Referral

    case = make_case()
    cvr = case.company.cvr
    offer.state_aid_basis = "de_minimis"
    offer.aid_value_dkk = 50_000
    offer.save()
    # Completed late on 31 December UTC: 1 January in Copenhagen, the day that counts.
    Referral.objects.create(
        case=case,
        offer=offer,
        status=Referral.Status.COMPLETED,
        completed_at=dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC),
    )
    Referral.objects.create(
        case=case,
        offer=offer,
        status=Referral.Status.DECLINED,
        completed_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )

    count = services.de_minimis_import(
        source=extract(f"{cvr},2024-05-01,700000,Region", "12345674,2025-01-01,9,Kommune"),
        now=NOW,
    )
    assert count == 2 and DeMinimisAid.objects.count() == 2
    assert services.de_minimis_headroom(cvr=cvr, day=d("2026-06-01")).used_dkk == 750_000
    # The register grant leaves the window on 1 May 2027, the participation on 1 January 2028.
    assert services.de_minimis_headroom(cvr=cvr, day=d("2027-04-30")).used_dkk == 750_000
    assert services.de_minimis_headroom(cvr=cvr, day=d("2027-05-01")).used_dkk == 50_000
    assert services.de_minimis_headroom(cvr=cvr, day=d("2027-12-31")).used_dkk == 50_000
    assert services.de_minimis_headroom(cvr=cvr, day=d("2028-01-01")).used_dkk == 0


@pytest.mark.django_db
def test_a_bad_line_rejects_the_whole_extract_and_is_named():
    from crm import services
    from crm.models import DeMinimisAid

    services.de_minimis_import(source=extract("12345674,2025-01-01,1000,Kommune"), now=NOW)
    with pytest.raises(services.CrmError) as raised:
        services.de_minimis_import(
            source=extract(
                "12345674,2025-01-01,2000,Kommune",
                "12345674,2025-13-01,2000,Kommune",
                "1234567,2025-01-01,2000,Kommune",
                "12345674,2025-01-01,-5,Kommune",
            ),
            now=NOW,
        )
    message = raised.value.message
    assert "linje 3, felt granted_on" in message
    assert "linje 4, felt cvr" in message
    assert "linje 5, felt amount_dkk" in message
    assert "linje 2" not in message
    # Nothing of the bad file was written; the earlier extract stands.
    assert list(DeMinimisAid.objects.values_list("amount_dkk", flat=True)) == [1000]


@pytest.mark.django_db
def test_the_import_command_says_how_many_lines_it_read(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    good = tmp_path / "udtraek.csv"
    good.write_bytes(extract("12345674,2025-01-01,1000,Kommune").getvalue())
    out = io.StringIO()
    call_command("import_de_minimis", str(good), stdout=out)
    assert "1 linjer indlæst." in out.getvalue()
    bad = tmp_path / "forkert.csv"
    bad.write_bytes(b"cvr;dato\n")
    with pytest.raises(CommandError, match="Linje 1"):
        call_command("import_de_minimis", str(bad))


# --- what the adviser sees ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_adviser_sees_the_headroom_on_the_company_page(logged_in, adviser, make_case):
    import re

    import time_machine
    from django.urls import reverse

    from crm.models import DeMinimisAid

    case = make_case()
    DeMinimisAid.objects.create(
        cvr=case.company.cvr, granted_on=d("2024-02-01"), amount_dkk=1_238_000
    )
    DeMinimisAid.objects.create(
        cvr=case.company.cvr, granted_on=d("2023-06-30"), amount_dkk=999_999
    )
    with time_machine.travel(dt.datetime(2026, 6, 30, 10, tzinfo=dt.UTC), tick=False):
        html = (
            logged_in(adviser)
            .get(reverse("admin:crm_company_change", args=[case.company_id]))
            .content.decode()
        )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "De minimis-støtte" in text
    # 2,238,000 kr. ceiling; the June 2023 grant left the window on 30 June 2026.
    assert "Rådighedsbeløb i dag 1.000.000 kr." in text
    assert "1.238.000 kr. fra 1. jul 2023 til 30. jun 2026" in text


@pytest.mark.django_db
def test_the_offer_picker_flags_an_offer_over_the_headroom(logged_in, adviser, make_case, offer):
    from django.urls import reverse
    from django.utils import timezone

    from crm.models import DeMinimisAid

    case = make_case()
    offer.state_aid_basis = "de_minimis"
    offer.aid_value_dkk = 150_000
    offer.save()
    DeMinimisAid.objects.create(
        cvr=case.company.cvr, granted_on=timezone.localdate(), amount_dkk=2_200_000
    )
    data = logged_in(adviser).get(reverse("admin:crm_case_offers", args=[case.pk])).json()
    texts = [row["text"] for row in data["results"] if row["id"] == str(offer.pk)]
    assert texts == [
        f"{offer.title} (Eksportrådet) — De minimis-støtte på 150.000 kr. overstiger "
        "virksomhedens rådighedsbeløb på 38.000 kr."
    ]
