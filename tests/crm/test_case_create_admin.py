"""Opret sag: an adviser opens a case for a company that phoned, wrote or was referred."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.urls import reverse

from crm import services
from crm.models import CONSENT_VERSION, Case, Company, Contact, Notification, TimelineEntry
from offers.models import Municipality
from tests.crm.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:crm_case_add")
CHANGELIST = reverse("admin:crm_case_changelist")


def phone_call(**overrides) -> dict[str, object]:
    """What an adviser types after a company phoned: a valid, complete form."""
    data: dict[str, object] = {
        "source": "phone",
        "cvr": "",
        "company_name": "Smedjen i Skive ApS",
        "municipality": "779",
        "industry": "C",
        "employees": "14",
        "contact_name": "Birgitte Østergaard",
        "contact_email": "birgitte@smedjen-skive.dk",
        "contact_phone": "+45 97 52 11 00",
        "consent": "on",
        "needs": "Vil gerne sælge til Norge og har brug for hjælp til at komme i gang.",
        "themes": ["export", "growth"],
        "assign_to_me": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def stored() -> tuple[int, int, int]:
    return Company.objects.count(), Contact.objects.count(), Case.objects.count()


# --- An adviser opens a case ------------------------------------------------------------------


def test_an_adviser_opens_a_phone_case_at_their_hub_and_takes_it(logged_in, adviser, hub):
    client = logged_in(adviser)

    response = client.post(ADD, phone_call())

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:crm_case_change", args=[case.pk])
    assert case.hub == hub
    assert case.source == Case.Source.PHONE
    assert re.fullmatch(r"EF-\d{4}-\d{6}", case.reference)
    assert case.first_response_due is not None
    assert case.adviser == adviser and case.status == Case.Status.ASSIGNED
    # Registered during the company's own call: the call answers it (taking the case alone
    # would not; crm.services.common.is_first_response).
    assert case.first_responded_at == case.created_at
    assert sorted(case.themes.values_list("slug", flat=True)) == ["export", "growth"]
    assert case.company.name == "Smedjen i Skive ApS" and case.company.cvr is None
    assert case.company.municipality_id == 779 and case.company.size_class == "small"
    first = case.timeline.order_by("at", "id")[0]
    assert first.kind == TimelineEntry.Kind.CREATED and first.action == "crm.case.created"
    assert first.actor == adviser
    assert first.payload["consent"] == {"version": CONSENT_VERSION, "confirmed_by": adviser.pk}
    assert case.timeline.filter(action="crm.case.assigned").exists()
    contact = case.contact
    assert contact.email == "birgitte@smedjen-skive.dk" and contact.phone == "+45 97 52 11 00"
    assert contact.consent_at is not None and contact.consent_version == CONSENT_VERSION
    assert Notification.objects.filter(
        kind=Notification.Kind.CASE_CREATED, case=case, recipient=hub.inbox_email
    ).exists()
    log = LogEntry.objects.get(object_id=str(case.pk), action_flag=ADDITION)
    assert log.user_id == adviser.pk
    page = client.get(response["Location"]).content.decode()
    assert f"Sag {case.reference} er oprettet, og du har taget den." in page


def test_a_case_the_adviser_does_not_take_waits_in_the_hub_queue(logged_in, adviser, hub):
    client = logged_in(adviser)

    response = client.post(ADD, phone_call(assign_to_me=None, source="municipal_referral"))

    case = Case.objects.get()
    assert response.status_code == 302
    assert case.adviser is None and case.status == Case.Status.NEW
    assert case.first_responded_at is None
    assert case.source == Case.Source.MUNICIPAL_REFERRAL
    assert f"Sag {case.reference} er oprettet." in client.get(response["Location"]).content.decode()


def test_a_company_already_in_the_crm_is_found_by_its_cvr_and_not_duplicated(logged_in, adviser):
    known = CompanyFactory.create(name="Vestjysk Stål A/S", employees=40, size_class="small")
    contact = ContactFactory.create(company=known, email="indkoeb@vestjyskstaal.dk")
    cvr = str(known.cvr)
    typed_cvr = f"DK {cvr[:2]} {cvr[2:4]} {cvr[4:6]} {cvr[6:]}"

    response = logged_in(adviser).post(
        ADD,
        phone_call(
            source="email",
            cvr=typed_cvr,
            company_name="",
            contact_email="Indkoeb@VestjyskStaal.dk",
        ),
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert Company.objects.count() == 1 and case.company == known
    known.refresh_from_db()
    assert known.name == "Vestjysk Stål A/S" and known.employees == 40
    assert Contact.objects.count() == 1 and case.contact == contact
    assert case.source == Case.Source.EMAIL


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("cvr", {"cvr": "12345678"}, "ikke et gyldigt CVR-nummer"),
        ("needs", {"needs": "   "}, "Beskriv, hvad virksomheden har brug for hjælp til."),
        ("consent", {"consent": None}, "når kontaktpersonen har fået at vide, hvordan"),
        ("municipality", {"municipality": "999"}, "Vælg en af de 98 kommuner på listen."),
        ("company_name", {"company_name": ""}, "Skriv virksomhedens navn"),
        ("contact_email", {"contact_email": ""}, "Skriv kontaktpersonens e-mailadresse."),
        ("source", {"source": "web"}, "Vælg telefon, e-mail eller henvist fra kommune."),
    ],
)
def test_a_form_with_an_error_shows_it_on_the_field_and_stores_nothing(
    logged_in, adviser, field, overrides, message
):
    response = logged_in(adviser).post(ADD, phone_call(**overrides))

    html = response.content.decode()
    assert response.status_code == 400
    error_list = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert error_list is not None and message in error_list.group(1)
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', html)
    assert "Sagen blev ikke oprettet." in html
    assert stored() == (0, 0, 0)
    assert not Notification.objects.exists()


def test_a_new_cvr_number_without_a_name_is_refused_by_the_service_on_the_name_field(
    logged_in, adviser
):
    response = logged_in(adviser).post(ADD, phone_call(cvr="55555559", company_name=""))

    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_company_name_error"><li>Skriv virksomhedens navn\.', html)
    assert stored() == (0, 0, 0)


def test_the_form_labels_every_field_and_offers_no_portal_source(logged_in, adviser, hub):
    response = logged_in(adviser).get(ADD)

    html = response.content.decode()
    assert response.status_code == 200
    for name in ("source", "cvr", "company_name", "municipality", "contact_email", "needs"):
        assert f'<label class="form-label" for="id_{name}">' in html
    assert '<label class="form-check-label" for="id_consent">' in html
    assert '<legend class="form-label">Temaer</legend>' in html
    assert 'value="web"' not in html and 'value="phone"' in html
    assert 'name="hub"' not in html
    assert f"Sagen oprettes hos {hub.name}." in html
    assert re.search(r'<input type="checkbox" name="assign_to_me"[^>]* checked', html)


# --- Who may open a case ----------------------------------------------------------------------


def test_the_case_list_links_an_adviser_to_opret_sag(logged_in, adviser):
    html = logged_in(adviser).get(CHANGELIST).content.decode()

    assert f'href="{ADD}"' in html and "Opret sag" in html


@pytest.mark.parametrize("who", ["editor", "analyst"])
def test_editors_and_analysts_cannot_open_a_case(logged_in, request, who):
    client = logged_in(request.getfixturevalue(who))

    assert client.get(ADD).status_code == 403
    assert client.post(ADD, phone_call()).status_code == 403
    assert stored() == (0, 0, 0)
    assert ADD not in client.get(reverse("admin:index")).content.decode()
    changelist = client.get(CHANGELIST)
    assert ADD not in changelist.content.decode()
    assert "Opret sag" not in changelist.content.decode()


def test_an_adviser_cannot_open_a_case_for_another_hub_by_posting_a_hub(
    logged_in, adviser, hub, other_hub
):
    response = logged_in(adviser).post(ADD, phone_call(hub=other_hub.slug))

    assert response.status_code == 302
    case = Case.objects.get()
    assert case.hub == hub
    assert not Notification.objects.filter(recipient=other_hub.inbox_email).exists()


def test_a_superuser_chooses_the_hub(logged_in, superuser, other_hub):
    client = logged_in(superuser)
    assert 'name="hub"' in client.get(ADD).content.decode()

    missing = client.post(ADD, phone_call(assign_to_me=None))
    response = client.post(ADD, phone_call(assign_to_me=None, hub=other_hub.slug))

    assert missing.status_code == 400
    assert "Vælg det Væksthus, der skal have sagen." in missing.content.decode()
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.hub == other_hub and case.adviser is None
    assert Notification.objects.filter(case=case, recipient=other_hub.inbox_email).exists()


def test_a_superuser_outside_the_hub_cannot_take_the_case_and_nothing_is_stored(
    logged_in, superuser, other_hub
):
    response = logged_in(superuser).post(ADD, phone_call(hub=other_hub.slug))

    assert response.status_code == 400
    assert re.search(
        r'id="id_assign_to_me_error"><li>Sagen kan kun tildeles en rådgiver i',
        response.content.decode(),
    )
    # Company, contact and case were written before the assignment failed; all are rolled back.
    assert stored() == (0, 0, 0)
    assert not Notification.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_municipalities_are_listed_in_danish_alphabetical_order(logged_in, adviser):
    html = logged_in(adviser).get(ADD).content.decode()

    # Vordingborg (390) before Ærø (492): Æ, Ø and Å come after Z in Danish.
    assert 0 < html.index('value="390"') < html.index('value="492"')


def test_the_service_refuses_a_case_for_another_hub_and_a_web_source(adviser, other_hub, hub):
    values = {
        "actor": adviser,
        "hub": other_hub,
        "source": "phone",
        "cvr": None,
        "company_name": "Smedjen i Skive ApS",
        "municipality": Municipality.objects.get(code=779),
        "industry": None,
        "employees": None,
        "contact_name": "Birgitte Østergaard",
        "contact_email": "birgitte@smedjen-skive.dk",
        "contact_phone": "",
        "consent_version": CONSENT_VERSION,
        "needs": "Eksport til Norge.",
        "themes": [],
        "assign_to_actor": False,
    }

    with pytest.raises(services.CrmError) as other:
        services.case_register(**values)
    with pytest.raises(services.CrmError) as web:
        services.case_register(**{**values, "hub": hub, "source": "web"})

    assert other.value.field == "hub" and web.value.field == "source"
    assert stored() == (0, 0, 0)


# --- Review findings: other hubs' contacts, double submits ---------------------------------------


def test_a_person_known_only_to_another_hub_keeps_the_details_that_hub_has(
    logged_in, adviser, other_hub
):
    company = CompanyFactory.create(cvr="12345674")
    known = ContactFactory.create(
        company=company, name="Ole Hansen", email="ole@firma.dk", phone="+45 11 22 33 44"
    )
    services.case_create(
        company=company,
        contact=known,
        hub=other_hub,
        needs="Eksport.",
        themes=[],
        source=Case.Source.WEB,
    )

    logged_in(adviser).post(
        ADD,
        phone_call(
            cvr="12345674",
            company_name="",
            contact_name="Falsk Navn",
            contact_email="OLE@firma.dk",
            contact_phone="99999999",
        ),
    )

    known.refresh_from_db()
    assert (known.name, known.phone) == ("Ole Hansen", "+45 11 22 33 44")
    assert Case.objects.filter(contact=known).count() == 2


def test_the_same_form_sent_twice_opens_one_case(logged_in, adviser):
    client = logged_in(adviser)
    form = client.get(ADD).content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+)"', form)
    assert nonce is not None

    first = client.post(ADD, phone_call(nonce=nonce.group(1)))
    second = client.post(ADD, phone_call(nonce=nonce.group(1)), follow=True)

    case = Case.objects.get()
    assert first["Location"] == reverse("admin:crm_case_change", args=[case.pk])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "Sagen var allerede oprettet." in second.content.decode()
    assert Notification.objects.filter(case=case, kind="case_created").count() == 1


def test_a_refused_form_can_be_corrected_and_sent_again_with_its_nonce(logged_in, adviser):
    client = logged_in(adviser)
    nonce = "n" * 32

    # A CVR the CRM does not know needs the company's name: the service refuses it.
    refused = client.post(ADD, phone_call(nonce=nonce, cvr="12345674", company_name=""))
    assert refused.status_code in (200, 400)
    assert "Skriv virksomhedens navn." in refused.content.decode()
    assert not Case.objects.exists()

    sent = client.post(ADD, phone_call(nonce=nonce, cvr="12345674"))

    assert sent.status_code == 302
    assert Case.objects.count() == 1
