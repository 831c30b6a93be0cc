from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from crm import services
from crm.admin import CappedPaginator
from crm.models import Case, Referral, TimelineEntry

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:crm_case_changelist")


def page(case: Case) -> str:
    return reverse("admin:crm_case_change", args=[case.pk])


def action(case: Case, name: str) -> str:
    return reverse("admin:crm_case_action", args=[case.pk, name])


@pytest.fixture
def colleague(make_user):
    return make_user(
        "lars", organisation="vaeksthus-midtjylland", role="Rådgiver", first_name="Lars"
    )


# --- The case list ----------------------------------------------------------------------------


def test_the_default_list_shows_my_hubs_open_cases_with_the_overdue_ones_first(
    logged_in, adviser, make_case, other_hub
):
    fresh = make_case(needs="Ny sag")
    late = make_case(needs="Gammel sag")
    Case.objects.filter(pk=late.pk).update(first_response_due=dt.date(2026, 1, 5))
    closed = services.case_close(
        case=services.case_assign(case=make_case(), adviser=adviser, actor=adviser),
        outcome="guided",
        actor=adviser,
    )
    elsewhere = make_case(hub=other_hub)

    response = logged_in(adviser).get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(late.reference) < html.index(fresh.reference)
    assert "Overskredet · 05.01.2026" in html
    assert closed.reference not in html
    assert elsewhere.reference not in html


def test_the_case_list_runs_the_same_number_of_queries_for_many_cases(
    logged_in, adviser, make_case, django_assert_max_num_queries
):
    client = logged_in(adviser)
    for _ in range(3):
        make_case()
    with django_assert_max_num_queries(14) as few:
        client.get(CHANGELIST)
    for _ in range(12):
        make_case()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(CHANGELIST)
    assert response.content.decode().count("EF-") >= 15


@pytest.mark.parametrize("how", ["reference", "cvr", "company", "contact"])
def test_an_adviser_finds_a_case_by_reference_cvr_company_or_contact(
    logged_in, adviser, make_case, how
):
    wanted = make_case()
    other = make_case()
    term = {
        "reference": wanted.reference,
        "cvr": wanted.company.cvr,
        "company": wanted.company.name,
        "contact": wanted.contact.name,
    }[how]

    html = logged_in(adviser).get(CHANGELIST, {"q": term}).content.decode()

    assert wanted.reference in html
    assert other.reference not in html


def test_searching_a_contact_name_never_finds_another_hubs_case(
    logged_in, adviser, make_case, other_hub
):
    mine = make_case()
    theirs = make_case(hub=other_hub, company=mine.company)

    html = logged_in(adviser).get(CHANGELIST, {"q": theirs.contact.name, "hub": "all"})

    assert theirs.reference not in html.content.decode()


def test_the_filters_narrow_the_list(logged_in, adviser, make_case):
    late = make_case()
    mine = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    services.case_note_add(case=mine, kind="call", text="Ringede op.", actor=adviser)
    Case.objects.filter(pk__in=[late.pk, mine.pk]).update(first_response_due=dt.date(2026, 1, 5))
    client = logged_in(adviser)

    overdue = client.get(CHANGELIST, {"overdue": "yes"}).content.decode()
    assigned_to_me = client.get(CHANGELIST, {"adviser": "me"}).content.decode()
    by_status = client.get(CHANGELIST, {"status": "assigned"}).content.decode()
    by_theme = client.get(CHANGELIST, {"theme": "capital"}).content.decode()

    assert late.reference in overdue and mine.reference not in overdue
    assert mine.reference in assigned_to_me and late.reference not in assigned_to_me
    assert mine.reference in by_status and late.reference not in by_status
    assert late.reference not in by_theme and mine.reference not in by_theme


def test_other_hubs_cases_of_my_companies_are_listed_under_all_i_can_see(
    logged_in, adviser, make_case, other_hub
):
    mine = make_case()
    shared = make_case(hub=other_hub, company=mine.company)
    unrelated = make_case(hub=other_hub)

    html = logged_in(adviser).get(CHANGELIST, {"hub": "all"}).content.decode()

    assert shared.reference in html
    assert unrelated.reference not in html


def test_a_long_list_counts_only_up_to_the_cap_and_says_there_are_more(
    logged_in, adviser, make_case, monkeypatch
):
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    for _ in range(3):
        make_case()
    client = logged_in(adviser)

    def paginator_text() -> str:
        html = client.get(CHANGELIST).content.decode()
        nav = html[html.index('class="paginator"') :]
        return " ".join(nav[: nav.index("</nav>")].split())

    exact = paginator_text()
    make_case()
    capped = paginator_text()

    assert "3 sager" in exact
    assert "Mere end 3 sager" in capped
    assert "Mere end" not in exact
    # Pages are drawn for the counted rows only: no page holding just the one extra row.
    assert CappedPaginator(Case.objects.all(), 2).num_pages == 2


def test_an_editor_has_no_access_to_any_crm_page(logged_in, editor, make_case, adviser):
    case = make_case()
    client = logged_in(editor)

    responses = [
        client.get(CHANGELIST),
        client.get(page(case)),
        client.post(action(case, "take")),
        client.get(reverse("admin:crm_case_offers", args=[case.pk])),
        client.get(reverse("admin:crm_company_changelist")),
        client.get(reverse("admin:crm_company_change", args=[case.company_id])),
        client.get(reverse("admin:crm_contact_changelist")),
        client.get(reverse("admin:crm_contact_change", args=[case.contact_id])),
    ]

    assert [r.status_code for r in responses] == [403] * len(responses)
    case.refresh_from_db()
    assert case.adviser is None


# --- The case page ----------------------------------------------------------------------------


def test_the_case_page_shows_company_contact_and_the_timeline_newest_first(
    logged_in, adviser, make_case
):
    case = make_case()
    services.case_note_add(case=case, kind="call", text="Første opkald", actor=adviser)
    services.case_note_add(case=case, kind="meeting", text="Møde hos virksomheden", actor=adviser)

    html = logged_in(adviser).get(page(case)).content.decode()

    assert case.company.cvr in html
    assert case.contact.email in html
    assert html.index("Møde hos virksomheden") < html.index("Første opkald")
    assert "Tag sagen" in html


def test_an_adviser_takes_a_case_and_the_audit_log_records_it(logged_in, adviser, make_case):
    case = make_case()

    response = logged_in(adviser).post(action(case, "take"))

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.adviser == adviser and case.status == Case.Status.ASSIGNED
    entry = LogEntry.objects.get(object_id=str(case.pk))
    assert entry.user == adviser
    assert entry.get_change_message() == "Du har taget sagen."


def test_an_empty_note_shows_an_error_on_the_field_and_writes_nothing(
    logged_in, adviser, make_case
):
    case = make_case()

    response = logged_in(adviser).post(action(case, "note"), {"note-kind": "meeting"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_note-text_error"' in html
    assert "Ændringen blev ikke gemt" in html
    assert case.timeline.count() == 1
    assert not LogEntry.objects.exists()


def test_a_meeting_is_added_to_the_timeline(logged_in, adviser, make_case):
    case = make_case()

    logged_in(adviser).post(
        action(case, "note"), {"note-kind": "meeting", "note-text": "Møde om eksport"}
    )

    entry = case.timeline.get(kind=TimelineEntry.Kind.MEETING)
    assert entry.text == "Møde om eksport" and entry.actor == adviser


def test_a_transfer_without_a_reason_is_refused_on_the_reason_field(
    logged_in, adviser, make_case, other_hub
):
    case = make_case()

    response = logged_in(adviser).post(
        action(case, "transfer"), {"transfer-hub": other_hub.pk, "transfer-reason": ""}
    )

    assert response.status_code == 400
    assert 'id="id_transfer-reason_error"' in response.content.decode()
    case.refresh_from_db()
    assert case.hub.slug == "vaeksthus-midtjylland"


def test_after_a_transfer_the_old_hub_can_only_read_the_case(
    logged_in, adviser, make_case, other_hub
):
    case = make_case()
    client = logged_in(adviser)
    client.post(
        action(case, "transfer"),
        {"transfer-hub": other_hub.pk, "transfer-reason": "Virksomheden er flyttet"},
    )
    case.refresh_from_db()
    assert case.hub == other_hub

    # The company has no other case with this hub, so the old hub loses sight of it.
    assert client.get(page(case)).status_code == 404
    assert client.post(action(case, "take")).status_code == 404


def test_a_case_cannot_be_reassigned_to_an_adviser_outside_the_hub(
    logged_in, adviser, other_adviser, colleague, make_case
):
    case = make_case()
    client = logged_in(adviser)

    refused = client.post(action(case, "assign"), {"assign-adviser": other_adviser.pk})
    client.post(action(case, "assign"), {"assign-adviser": colleague.pk})

    assert refused.status_code == 400
    assert 'id="id_assign-adviser_error"' in refused.content.decode()
    case.refresh_from_db()
    assert case.adviser == colleague


def test_a_closing_without_an_outcome_is_refused_and_with_one_closes_the_case(
    logged_in, adviser, make_case
):
    case = make_case()
    client = logged_in(adviser)

    refused = client.post(action(case, "close"), {"close-outcome": ""})
    assert refused.status_code == 400
    assert 'id="id_close-outcome_error"' in refused.content.decode()
    case.refresh_from_db()
    assert case.is_open

    client.post(action(case, "close"), {"close-outcome": "not_relevant"})
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert (
        "Sagen er lukket og kan ikke ændres."
        in client.post(
            action(case, "note"), {"note-kind": "note", "note-text": "x"}
        ).content.decode()
    )


def test_a_transition_that_is_not_allowed_is_refused_on_the_status_field(
    logged_in, adviser, make_case
):
    case = make_case()

    response = logged_in(adviser).post(
        action(case, "transition"), {"transition-status": "referred"}
    )

    assert response.status_code == 400
    assert "En sag med status »Ny« kan ikke skifte til »Henvist«." in response.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.NEW


def test_an_adviser_refers_to_an_offer_and_completes_the_referral(
    logged_in, adviser, make_case, offer
):
    case = services.case_assign(case=make_case(), adviser=adviser, actor=adviser)
    client = logged_in(adviser)

    client.post(action(case, "refer"), {"refer-offer": offer.pk, "refer-note": "God match"})
    referral = Referral.objects.get(case=case)
    missing = client.post(
        reverse("admin:crm_case_referral_action", args=[case.pk, referral.pk, "complete"]),
        {f"referral-{referral.pk}-outcome": ""},
    )
    client.post(
        reverse("admin:crm_case_referral_action", args=[case.pk, referral.pk, "complete"]),
        {f"referral-{referral.pk}-outcome": "Forløb gennemført"},
    )

    assert missing.status_code == 400
    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED
    assert referral.outcome == "Forløb gennemført"
    assert LogEntry.objects.filter(object_id=str(case.pk)).count() == 2


def test_the_offer_autocomplete_proposes_offers_matching_the_case_first(
    logged_in, adviser, make_case, offer
):
    from offers.models import Offer, Theme

    unrelated = Offer.objects.create(
        external_id="test-aaa-kapital",
        title="Aaa kapital",
        summary="Lån",
        level="state",
        owner=offer.owner,
        operator=offer.operator,
        phases=["growth"],
        company_sizes=["small"],
        price="free",
        status="published",
    )
    unrelated.themes.set([Theme.objects.get(slug="capital")])
    case = make_case()

    data = logged_in(adviser).get(reverse("admin:crm_case_offers", args=[case.pk])).json()

    titles = [row["text"] for row in data["results"]]
    assert titles.index(f"{offer.title} (Eksportrådet)") < titles.index(
        "Aaa kapital (Eksportrådet)"
    )


def test_another_hubs_case_of_my_company_is_read_only_and_hides_the_contact(
    logged_in, adviser, make_case, other_hub
):
    mine = make_case()
    theirs = make_case(hub=other_hub, company=mine.company)
    client = logged_in(adviser)

    response = client.get(page(theirs))
    forbidden = client.post(action(theirs, "take"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Du kan se den, men ikke ændre den" in html
    assert theirs.contact.email not in html and theirs.contact.name not in html
    assert "Tag sagen" not in html
    assert forbidden.status_code == 403
    theirs.refresh_from_db()
    assert theirs.adviser is None


def test_an_adviser_of_another_hub_gets_nothing_of_an_unrelated_case(
    logged_in, other_adviser, make_case
):
    case = make_case()
    client = logged_in(other_adviser)

    assert client.get(page(case)).status_code == 404
    assert client.post(action(case, "note"), {"note-text": "x"}).status_code == 404
    assert client.get(reverse("admin:crm_case_offers", args=[case.pk])).status_code == 404
    assert case.reference not in client.get(CHANGELIST, {"hub": "all"}).content.decode()


def test_an_analyst_reads_cases_without_personal_data_and_cannot_change_them(
    logged_in, analyst, make_case, adviser
):
    case = make_case()
    services.case_note_add(case=case, kind="note", text="Intern vurdering", actor=adviser)
    client = logged_in(analyst)

    listed = client.get(CHANGELIST).content.decode()
    response = client.get(page(case))
    refused = client.post(action(case, "take"))

    html = response.content.decode()
    assert case.reference in listed
    assert response.status_code == 200
    assert case.contact.email not in html and case.contact.name not in html
    assert "Intern vurdering" not in html and case.needs not in html
    assert refused.status_code == 403
    assert client.get(reverse("admin:crm_contact_changelist")).status_code == 403


def test_a_superuser_sees_every_hub_and_reads_the_audit_log(
    logged_in, superuser, adviser, make_case, other_hub
):
    case = make_case(hub=other_hub)
    logged_in(adviser).post(action(make_case(), "take"))
    client = logged_in(superuser)

    assert case.reference in client.get(CHANGELIST).content.decode()
    log = client.get(reverse("admin:admin_logentry_changelist"))
    assert log.status_code == 200
    assert "Du har taget sagen." in log.content.decode()


def test_the_audit_log_is_for_superusers_only(logged_in, adviser, analyst):
    for user in (adviser, analyst):
        assert logged_in(user).get(reverse("admin:admin_logentry_changelist")).status_code == 403


# --- Company and contact pages ----------------------------------------------------------------


def test_the_company_page_shows_every_case_across_hubs_with_referrals_and_outcomes(
    logged_in, adviser, make_case, other_hub, other_adviser, offer
):
    mine = make_case()
    theirs = services.case_assign(
        case=make_case(hub=other_hub, company=mine.company),
        adviser=other_adviser,
        actor=other_adviser,
    )
    referral = services.referral_create(case=theirs, offer=offer, actor=other_adviser)
    services.referral_complete(referral=referral, outcome="Eksportplan lavet", actor=other_adviser)
    services.case_close(case=theirs, outcome="referred", actor=other_adviser)

    response = logged_in(adviser).get(reverse("admin:crm_company_change", args=[mine.company_id]))

    html = response.content.decode()
    assert response.status_code == 200
    assert mine.reference in html and theirs.reference in html
    assert "Væksthus Nordjylland" in html
    # The other hub's referral: where to and how it ended, but not its free text.
    assert "Gennemført" in html and offer.title in html
    assert "Eksportplan lavet" not in html
    assert "Henvist til tilbud eller operatør" in html
    assert mine.contact.name in html
    assert theirs.contact.name not in html


def test_a_company_without_a_case_in_my_hub_is_not_mine_to_see(logged_in, other_adviser, make_case):
    case = make_case()
    client = logged_in(other_adviser)

    listed = client.get(reverse("admin:crm_company_changelist")).content.decode()
    response = client.get(reverse("admin:crm_company_change", args=[case.company_id]))

    assert case.company.name not in listed
    assert response.status_code == 302  # the admin's "does not exist" redirect


def test_a_company_with_an_invalid_cvr_is_refused_on_the_cvr_field(logged_in, adviser, make_case):
    case = make_case()
    url = reverse("admin:crm_company_change", args=[case.company_id])

    response = logged_in(adviser).post(
        url,
        {
            "cvr": "12345678",
            "name": "Nyt navn",
            "industry_classification": "DB07",
            "employees": "5",
        },
    )

    assert response.status_code == 200
    assert "ikke et gyldigt CVR-nummer" in response.content.decode()
    case.company.refresh_from_db()
    assert case.company.name != "Nyt navn"


def test_the_contact_admin_shows_only_my_hubs_contacts(logged_in, adviser, make_case, other_hub):
    mine = make_case()
    theirs = make_case(hub=other_hub, company=mine.company)
    client = logged_in(adviser)

    html = client.get(reverse("admin:crm_contact_changelist")).content.decode()
    response = client.get(reverse("admin:crm_contact_change", args=[theirs.contact_id]))

    assert mine.contact.name in html and theirs.contact.name not in html
    assert response.status_code == 302


@pytest.mark.parametrize("list_name", ["crm_company_changelist", "crm_contact_changelist"])
def test_the_company_and_contact_lists_run_a_fixed_number_of_queries(
    logged_in, adviser, make_case, django_assert_max_num_queries, list_name
):
    client = logged_in(adviser)
    make_case()
    url = reverse(f"admin:{list_name}")
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    cases = [make_case() for _ in range(10)]
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert cases[-1].company.name in html


def test_a_company_change_in_the_admin_is_in_the_audit_log(logged_in, adviser, make_case):
    case = make_case()
    company = case.company

    response = logged_in(adviser).post(
        reverse("admin:crm_company_change", args=[company.pk]),
        {
            "cvr": f"DK {company.cvr}",
            "p_number": "",
            "name": "Nyt Navn ApS",
            "municipality": company.municipality_id,
            "industry": "C",
            "industry_classification": "DB25",
            "employees": "60",
        },
    )

    assert response.status_code == 302
    company.refresh_from_db()
    assert (company.name, company.size_class) == ("Nyt Navn ApS", "medium")
    entry = LogEntry.objects.get(object_id=str(company.pk))
    assert entry.user == adviser and "Navn" in entry.get_change_message()


def test_one_click_refers_the_case_to_a_suggested_offer_with_its_reasons(
    logged_in, adviser, make_case, offer
):
    from crm.models import CaseOffer, Referral

    case = make_case()
    CaseOffer.objects.create(
        case=case,
        offer=offer,
        score=88.0,
        reasons=["Svarer på det, du skriver: »eksport«", "Målrettet møbelindustrien"],
    )
    client = logged_in(adviser)
    client.post(action(case, "take"))

    html = client.get(page(case)).content.decode()
    assert f"Henvis til {offer.title}" in html
    assert "Målrettet møbelindustrien" in html
    assert "score" not in html.split("Tilbud, portalen foreslog")[1].split("Henvisninger")[0]

    client.post(
        action(case, "refer"),
        {
            "refer-offer": str(offer.pk),
            "refer-note": "Foreslået af portalen: Målrettet møbelindustrien",
        },
    )

    referral = Referral.objects.get(case=case)
    assert referral.offer == offer
    assert "Målrettet møbelindustrien" in referral.note
    assert f"Henvis til {offer.title}" not in client.get(page(case)).content.decode()


def test_the_case_page_words_the_suggestions_reasons_in_the_advisers_language(
    logged_in, adviser, make_case, offer
):
    from crm.models import CaseOffer

    case = make_case()
    CaseOffer.objects.create(
        case=case,
        offer=offer,
        score=88.0,
        reasons=["Svarer på det, du skriver: »eksport«", "Det får du ud af det: En eksportplan."],
        explanation=[
            {"code": "need_words", "values": ["eksport"]},
            {"code": "result", "values": ["En eksportplan."]},
        ],
    )
    client = logged_in(adviser)

    danish = client.get(page(case), HTTP_ACCEPT_LANGUAGE="da").content.decode()
    english = client.get(page(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Svarer på det, du skriver: »eksport«" in danish
    assert "Svarer på det, du skriver" not in english
    assert "“eksport”" in english
    # The offer's own Danish text is marked as Danish on the English page.
    assert '<span lang="da">En eksportplan.</span>' in english


def test_a_suggestion_stored_before_reasons_were_structured_shows_its_danish_reasons(
    logged_in, adviser, make_case, offer
):
    from crm.models import CaseOffer

    case = make_case()
    CaseOffer.objects.create(
        case=case, offer=offer, score=50.0, reasons=["Målrettet møbelindustrien"]
    )

    html = logged_in(adviser).get(page(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Målrettet møbelindustrien" in html


def test_the_offer_picker_puts_the_suggested_offers_first_then_the_text_match(
    logged_in, adviser, make_case, offer
):
    from crm.models import CaseOffer
    from offers.search import refresh_search_vectors
    from tests.routing.factories import OfferFactory

    def published(external_id, title, summary):
        return OfferFactory(external_id=external_id, title=title, summary=summary, themes=[])

    suggested = published("test-zzz-forslag", "Zzz vækstlån", "Lån til vækst.")
    eksport = published(
        "test-mmm-eksport", "Mmm rådgivning", "Rådgivning om eksport og eksportmarkeder."
    )
    other = published("test-aaa-andet", "Aaa netværk", "Netværk om noget andet.")
    refresh_search_vectors()
    case = make_case()
    CaseOffer.objects.create(case=case, offer=suggested, score=70.0, reasons=[])
    client = logged_in(adviser)
    url = reverse("admin:crm_case_offers", args=[case.pk])

    first = [row["id"] for row in client.get(url).json()["results"]]
    searched = [row["id"] for row in client.get(url, {"term": "eksportmarkeder"}).json()["results"]]

    assert first[0] == str(suggested.pk)
    # By relevance, not alphabet: the offer about export markets before "Aaa netværk", if that
    # is found at all (through the operator's name).
    assert str(eksport.pk) in searched
    if str(other.pk) in searched:
        assert searched.index(str(eksport.pk)) < searched.index(str(other.pk))
