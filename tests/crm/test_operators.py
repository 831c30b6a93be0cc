"""The role "Operatør": staff of an operator see the referrals to their organisation and answer
them, and nothing else of the CRM; another operator, another hub's staff or an adviser's other
cases give nothing, whatever URL or POST they try (crm.admin.operators, crm.services.referrals)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import selectors, services
from crm.models import Notification, Referral, TimelineEntry
from crm.services import CrmError
from offers.models import Organisation


@pytest.fixture
def operator_user(make_user):
    return make_user(
        "eksport-anna", organisation="eksportraadet", role="Operatør", email="anna@eksport.dk"
    )


@pytest.fixture
def other_operator(make_user):
    return make_user(
        "innofond-bo", organisation="innovationsfonden", role="Operatør", email="bo@inno.dk"
    )


@pytest.fixture
def referral(make_case, adviser, offer):
    """A case of the adviser's hub referred to Eksportrådet's offer, the contact not shared."""
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    return services.referral_create(case=case, offer=offer, actor=adviser)


def refused(response) -> bool:
    """Nothing shown: forbidden, not found, or (the admin's history of an object outside the
    user's scope) sent back to the admin's front page."""
    if response.status_code == 302:
        return response.url == reverse("admin:index")
    return response.status_code in (403, 404)


def change_url(referral: Referral) -> str:
    return reverse("admin:crm_operatorreferral_change", args=[referral.pk])


def answer_url(referral: Referral, answer: str) -> str:
    return reverse("admin:crm_operatorreferral_answer", args=[referral.pk, answer])


def test_it_lists_the_referrals_to_the_operators_organisation_only(
    logged_in, operator_user, referral, make_case, adviser
):
    other_case = make_case(needs="Vi søger risikovillig kapital.")
    services.case_assign(case=other_case, adviser=adviser, actor=adviser)
    services.referral_create(
        case=other_case,
        operator=Organisation.objects.get(slug="innovationsfonden"),
        actor=adviser,
    )

    response = logged_in(operator_user).get(reverse("admin:crm_operatorreferral_changelist"))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [referral]
    assert referral.case.company.name in response.text
    assert other_case.company.name not in response.text


def test_the_operator_sees_the_need_but_not_the_contact_unless_it_was_shared(
    logged_in, operator_user, referral, adviser, make_case
):
    client = logged_in(operator_user)
    contact = referral.case.contact

    page = client.get(change_url(referral))

    assert page.status_code == 200
    assert "Vi vil gerne eksportere til Tyskland." in page.text
    assert contact.email not in page.text
    assert contact.name not in page.text
    assert "har ikke delt kontaktpersonen" in page.text

    shared_case = make_case()
    services.case_assign(case=shared_case, adviser=adviser, actor=adviser)
    shared = services.referral_create(
        case=shared_case,
        operator=Organisation.objects.get(slug="eksportraadet"),
        share_contact=True,
        actor=adviser,
    )
    page = client.get(change_url(shared))
    assert shared_case.contact.email in page.text
    assert shared_case.contact.name in page.text


def test_the_operator_sees_nothing_of_the_case_timeline_or_notes(
    logged_in, operator_user, referral, adviser
):
    services.case_note_add(
        case=referral.case, kind="note", text="Internt: ring efter kl. 14.", actor=adviser
    )

    page = logged_in(operator_user).get(change_url(referral))

    assert "Internt: ring efter kl. 14." not in page.text


@pytest.mark.parametrize(
    "name,args",
    [
        ("admin:crm_case_changelist", []),
        ("admin:crm_case_change", ["case"]),
        ("admin:crm_case_history", ["case"]),
        ("admin:crm_company_change", ["company"]),
        ("admin:crm_contact_change", ["contact"]),
        ("admin:crm_case_offers", ["case"]),
    ],
)
def test_the_operator_cannot_open_the_case_company_or_contact(
    logged_in, operator_user, referral, name, args
):
    objects = {
        "case": referral.case.pk,
        "company": referral.case.company_id,
        "contact": referral.case.contact_id,
    }
    response = logged_in(operator_user).get(reverse(name, args=[objects[a] for a in args]))

    assert refused(response)
    assert referral.case.contact.email not in response.text


def test_the_operator_cannot_answer_through_the_advisers_case_page(
    logged_in, operator_user, referral
):
    url = reverse("admin:crm_case_referral_action", args=[referral.case_id, referral.pk, "decline"])

    response = logged_in(operator_user).post(url, {f"referral-{referral.pk}-outcome": "Nej"})

    assert response.status_code in (403, 404)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED


def test_the_admin_autocomplete_gives_an_operator_nothing(logged_in, operator_user, referral):
    response = logged_in(operator_user).get(
        reverse("admin:autocomplete"),
        {"app_label": "crm", "model_name": "referral", "field_name": "offer", "term": "eks"},
    )

    assert response.status_code == 403


def test_another_operator_gets_nothing_by_list_page_history_or_post(
    logged_in, other_operator, referral
):
    client = logged_in(other_operator)

    listing = client.get(reverse("admin:crm_operatorreferral_changelist"))
    assert list(listing.context["cl"].result_list) == []
    assert client.get(change_url(referral)).status_code == 404
    assert refused(client.get(reverse("admin:crm_operatorreferral_history", args=[referral.pk])))
    for answer, data in [
        ("accept", {}),
        ("decline", {"decline-reason": "no_capacity"}),
        ("complete", {"complete-outcome": "Gennemført"}),
    ]:
        assert client.post(answer_url(referral, answer), data).status_code == 404
    # The default change form does not take a POST either.
    assert client.post(change_url(referral), {"status": "completed"}).status_code in (404, 405)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED
    assert not Notification.objects.filter(kind=Notification.Kind.REFERRAL_ANSWERED).exists()


def test_advisers_editors_and_analysts_do_not_reach_the_operator_pages(
    logged_in, adviser, other_adviser, analyst, editor, referral
):
    for user in (adviser, other_adviser, analyst, editor):
        client = logged_in(user)
        assert client.get(change_url(referral)).status_code in (403, 404), user
        assert client.post(
            answer_url(referral, "decline"), {"decline-reason": "other"}
        ).status_code in (403, 404), user
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED


def test_an_operator_without_the_role_sees_nothing(logged_in, make_user, referral):
    plain = make_user("eksport-uden-rolle", organisation="eksportraadet")

    response = logged_in(plain).get(change_url(referral))

    assert response.status_code in (403, 404)


def test_the_operator_declines_with_a_reason_the_adviser_hears_and_the_case_records_it(
    logged_in, operator_user, referral, adviser
):
    response = logged_in(operator_user).post(
        answer_url(referral, "decline"),
        {"decline-reason": "no_capacity", "decline-text": "Fuldt booket til marts."},
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECLINED
    assert referral.decline_reason == Referral.DeclineReason.NO_CAPACITY
    assert referral.answered_at is not None
    entry = referral.case.timeline.get(action="crm.referral.declined")
    assert entry.actor == operator_user
    assert entry.payload["by"] == "operator"
    assert "kapacitet" in entry.text and "Fuldt booket til marts." in entry.text
    [mail] = Notification.objects.filter(kind=Notification.Kind.REFERRAL_ANSWERED)
    assert mail.recipient == adviser.email
    assert mail.case_id == referral.case_id
    assert "Fuldt booket til marts." in mail.body
    assert "Eksportrådet" in mail.subject


def test_a_decline_needs_a_reason_from_the_list_and_words_for_other(
    logged_in, operator_user, referral
):
    client = logged_in(operator_user)

    no_reason = client.post(answer_url(referral, "decline"), {"decline-text": "Nej tak"})
    crafted = client.post(answer_url(referral, "decline"), {"decline-reason": "we-dont-like-it"})
    other = client.post(answer_url(referral, "decline"), {"decline-reason": "other"})

    for response in (no_reason, crafted, other):
        assert response.status_code == 400
    assert "reason" in no_reason.context["forms"]["decline"].errors
    assert "reason" in crafted.context["forms"]["decline"].errors
    assert "text" in other.context["forms"]["decline"].errors
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED


def test_the_service_refuses_an_operator_decline_without_a_reason(operator_user, referral):
    with pytest.raises(CrmError) as refused:
        services.referral_decline(referral=referral, outcome="Nej", actor=operator_user)
    assert refused.value.field == "reason"


def test_accepting_and_completing_counts_as_a_participation_for_the_effect_measurement(
    logged_in, operator_user, referral, adviser, offer
):
    client = logged_in(operator_user)

    assert client.post(answer_url(referral, "accept")).status_code == 302
    assert (
        client.post(
            answer_url(referral, "complete"), {"complete-outcome": "Forløb gennemført"}
        ).status_code
        == 302
    )

    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED
    actions = list(
        referral.case.timeline.filter(kind=TimelineEntry.Kind.REFERRAL)
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["crm.referral.created", "crm.referral.accepted", "crm.referral.completed"]
    assert Notification.objects.filter(kind=Notification.Kind.REFERRAL_ANSWERED).count() == 2
    company = referral.case.company
    # The participation year is the Danish one (at New Year's night it differs from UTC's).
    year = timezone.localtime(referral.completed_at).year
    assert (company.cvr, offer.external_id, year) in list(selectors.completed_offer_referrals())


def test_another_operator_cannot_answer_through_the_service(other_operator, referral):
    with pytest.raises(CrmError):
        services.referral_accept(referral=referral, actor=other_operator)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED


def test_a_referral_on_a_closed_case_cannot_be_answered(
    logged_in, operator_user, referral, adviser
):
    services.case_close(case=referral.case, outcome="guided", actor=adviser)

    page = logged_in(operator_user).get(change_url(referral))
    response = logged_in(operator_user).post(
        answer_url(referral, "decline"), {"decline-reason": "no_capacity"}
    )

    assert "kan ikke længere besvares" in page.text
    assert response.status_code == 400
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED


def test_the_referral_form_shares_the_contact_only_when_ticked(logged_in, adviser, make_case):
    client = logged_in(adviser)
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    operator = Organisation.objects.get(slug="eksportraadet")
    url = reverse("admin:crm_case_action", args=[case.pk, "refer"])

    client.post(url, {"refer-operator": operator.pk})
    client.post(url, {"refer-operator": operator.pk, "refer-share_contact": "on"})

    assert list(case.referrals.order_by("id").values_list("share_contact", flat=True)) == [
        False,
        True,
    ]


def test_the_operator_list_needs_the_same_queries_for_many_referrals(
    logged_in, operator_user, make_case, adviser, offer, django_assert_max_num_queries
):
    client = logged_in(operator_user)
    for _ in range(3):
        case = make_case()
        services.case_assign(case=case, adviser=adviser, actor=adviser)
        services.referral_create(case=case, offer=offer, actor=adviser)
    url = reverse("admin:crm_operatorreferral_changelist")
    client.get(url)  # warm the session and the permission caches

    with django_assert_max_num_queries(12):
        few = client.get(url)
    for _ in range(10):
        case = make_case()
        services.case_assign(case=case, adviser=adviser, actor=adviser)
        services.referral_create(case=case, offer=offer, actor=adviser)
    with django_assert_max_num_queries(12):
        many = client.get(url)

    assert len(few.context["cl"].result_list) == 3
    assert len(many.context["cl"].result_list) == 13


def test_the_operator_can_neither_add_nor_delete_but_reads_its_own_history(
    logged_in, operator_user, referral
):
    client = logged_in(operator_user)
    client.post(answer_url(referral, "accept"))

    history = client.get(reverse("admin:crm_operatorreferral_history", args=[referral.pk]))

    assert history.status_code == 200
    assert "I har accepteret henvisningen." in history.text
    assert client.get(reverse("admin:crm_operatorreferral_add")).status_code == 403
    delete = reverse("admin:crm_operatorreferral_delete", args=[referral.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Referral.objects.filter(pk=referral.pk).exists()


def test_the_operators_staff_hear_of_a_new_referral_without_personal_data(
    operator_user, other_operator, make_user, make_case, adviser, offer
):
    make_user("eksport-uden-adresse", organisation="eksportraadet", role="Operatør", email="")
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)

    referral = services.referral_create(case=case, offer=offer, share_contact=True, actor=adviser)

    [mail] = Notification.objects.filter(kind=Notification.Kind.REFERRAL_NEW)

    assert mail.recipient == operator_user.email
    assert referral.case.company.name in mail.body
    assert f"/admin/crm/operatorreferral/{referral.pk}/change/" in mail.body
    assert referral.case.contact.email not in mail.body
    assert referral.case.contact.name not in mail.body


def test_a_superuser_reads_every_referral_but_does_not_answer_for_the_operator(
    logged_in, superuser, referral
):
    client = logged_in(superuser)

    listing = client.get(reverse("admin:crm_operatorreferral_changelist"))
    page = client.get(change_url(referral))
    answer = client.post(answer_url(referral, "decline"), {"decline-reason": "no_capacity"})

    assert list(listing.context["cl"].result_list) == [referral]
    assert "Kun operatøren kan svare på henvisningen." in page.text
    assert answer.status_code == 403
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PROPOSED
