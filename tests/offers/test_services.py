import datetime as dt

import pytest
from django.utils import timezone

from offers.models import Offer, Organisation, Theme
from offers.services import (
    OfferError,
    offer_archive,
    offer_mark_reviewed,
    offer_publish,
    offer_revive,
    offer_save,
    organisation_save,
    theme_save,
)
from tests.offers.catalogue_factories import found_by_search
from tests.offers.factories import make_offer


@pytest.fixture
def other_editor(make_user):
    return make_user("anden-redaktoer", organisation="kommune-751", role="Redaktør")


def _regional_offer(**fields):
    return make_offer(
        owner="region-midtjylland", level="region", themes=["digitalisation"], **fields
    )


def test_it_publishes_a_draft_and_records_who_and_when(db, editor):
    offer = _regional_offer(status="draft", last_reviewed=None)

    offer_publish(offer=offer, user=editor)

    offer.refresh_from_db()
    assert offer.status == Offer.Status.PUBLISHED
    assert offer.published_by == editor
    assert offer.published_at is not None
    # Publishing counts as a review.
    assert offer.last_reviewed == timezone.localdate()
    assert offer.history.first().history_user == editor


def test_it_archives_a_published_offer_with_who_and_when(db, editor):
    offer = _regional_offer()

    offer_archive(offer=offer, user=editor)

    offer.refresh_from_db()
    assert offer.status == Offer.Status.ARCHIVED
    assert offer.archived_by == editor
    assert offer.archived_at is not None
    assert not offer.is_open_on(timezone.localdate())


def test_it_revives_an_archived_offer_as_a_draft_not_straight_to_published(db, editor):
    offer = _regional_offer(status="archived")

    with pytest.raises(OfferError, match="kan ikke gå fra “Arkiveret” til “Offentliggjort”"):
        offer_publish(offer=offer, user=editor)

    offer_revive(offer=offer, user=editor)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DRAFT
    assert offer.archived_at is None


def test_it_does_not_unpublish_to_a_draft(db, editor):
    offer = _regional_offer()
    offer.status = Offer.Status.DRAFT

    with pytest.raises(OfferError) as raised:
        offer_save(offer=offer, user=editor)

    assert "status" in raised.value.errors
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PUBLISHED


def test_it_refuses_to_publish_another_organisations_offer(db, other_editor):
    offer = _regional_offer(status="draft")

    with pytest.raises(OfferError, match="din organisation ejer eller driver"):
        offer_publish(offer=offer, user=other_editor)

    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.DRAFT


def test_it_marks_the_editors_offers_as_reviewed_today(db, editor):
    offers = [_regional_offer(last_reviewed=dt.date(2024, 1, 1)) for _ in range(3)]

    count = offer_mark_reviewed(
        offers=Offer.objects.filter(pk__in=[o.pk for o in offers]), user=editor
    )

    assert count == 3
    today = timezone.localdate()
    assert set(Offer.objects.values_list("last_reviewed", flat=True)) == {today}
    assert not Offer.objects.stale_on(today, 12).exists()
    assert Offer.history.filter(history_user=editor, last_reviewed=today).count() == 3


def test_it_marks_nothing_when_one_offer_belongs_to_another_organisation(db, editor):
    own = _regional_offer(last_reviewed=dt.date(2024, 1, 1))
    foreign = make_offer(
        owner="kommune-751",
        level="municipality",
        municipalities=[751],
        nationwide=False,
        last_reviewed=dt.date(2024, 1, 1),
    )

    with pytest.raises(OfferError):
        offer_mark_reviewed(offers=[own, foreign], user=editor)

    assert set(Offer.objects.values_list("last_reviewed", flat=True)) == {dt.date(2024, 1, 1)}


def _data(**overrides):
    data = {
        "external_id": "ny-digitaliseringspulje",
        "title": "Ny digitaliseringspulje",
        "summary": "Tilskud til digitale projekter.",
        "level": "region",
        "owner": Organisation.objects.get(slug="region-midtjylland"),
        "operator": Organisation.objects.get(slug="vaeksthus-midtjylland"),
        "phases": ["growth"],
        "company_sizes": ["small", "medium"],
        "price": "subsidised",
        "themes": Theme.objects.filter(slug="digitalisation"),
    }
    data.update(overrides)
    return data


def test_it_creates_an_offer_with_its_themes_and_indexes_it_for_search(db, editor):
    offer = offer_save(data=_data(), user=editor)

    offer.refresh_from_db()
    assert offer.status == Offer.Status.DRAFT
    assert list(offer.themes.values_list("slug", flat=True)) == ["digitalisation"]
    assert offer.nationwide is True
    assert found_by_search(offer, "digitaliseringspulje")


def test_it_creates_an_offer_published_at_once_with_who_and_when(db, editor):
    offer = offer_save(data=_data(status="published"), user=editor)

    assert offer.published_by == editor
    assert offer.last_reviewed == timezone.localdate()


def test_it_keeps_a_cluster_offer_nationwide(db, make_user):
    cluster_editor = make_user("klynge", organisation="cluster-energi", role="Redaktør")
    cluster = Organisation.objects.get(slug="cluster-energi")

    with pytest.raises(OfferError) as raised:
        offer_save(
            data=_data(
                owner=cluster, operator=cluster, level="state", nationwide=False, regions=[1083]
            ),
            user=cluster_editor,
        )

    assert raised.value.errors["nationwide"] == ["Klyngers tilbud gælder altid i hele landet."]
    assert not Offer.objects.filter(external_id="ny-digitaliseringspulje").exists()


def test_it_reports_a_broken_rule_in_danish_on_its_field(db, editor):
    with pytest.raises(OfferError) as raised:
        offer_save(
            data=_data(valid_from=dt.date(2026, 5, 1), application_deadline=dt.date(2026, 4, 1)),
            user=editor,
        )

    assert raised.value.errors == {
        "application_deadline": ["Ansøgningsfristen kan ikke ligge før gyldig fra."]
    }


def test_it_refuses_an_offer_the_editors_organisation_neither_owns_nor_operates(db, editor):
    state = Organisation.objects.get(slug="eksportraadet")

    with pytest.raises(OfferError) as raised:
        offer_save(data=_data(owner=state, operator=state, level="state"), user=editor)

    assert "owner" in raised.value.errors
    assert not Offer.objects.exists()


def test_it_lets_the_operator_change_an_offer_it_runs_for_another_owner(db, make_user):
    hub_editor = make_user("vaeksthus", organisation="vaeksthus-midtjylland", role="Redaktør")
    offer = make_offer(owner="eksportraadet", operator="vaeksthus-midtjylland")

    offer_save(offer=offer, data={"title": "Eksportstart i Midtjylland"}, user=hub_editor)

    assert Offer.objects.get(pk=offer.pk).title == "Eksportstart i Midtjylland"


def test_it_refreshes_the_search_of_a_renamed_themes_offers(db):
    offer = make_offer(external_id="groen", themes=["growth"])
    theme = Theme.objects.get(slug="growth")
    theme.name = "Grøn omstilling"
    assert not found_by_search(offer, "omstilling")

    theme_save(theme=theme)

    assert Theme.objects.get(slug="growth").name == "Grøn omstilling"
    assert found_by_search(offer, "omstilling")


def test_it_refreshes_the_search_of_the_offers_a_renamed_organisation_operates(db):
    offer = make_offer(operator="vaeksthus-midtjylland")
    hub = Organisation.objects.get(slug="vaeksthus-midtjylland")
    hub.name = "Erhvervshus Midtjylland"
    assert not found_by_search(offer, "erhvervshus")

    organisation_save(organisation=hub)

    assert found_by_search(offer, "erhvervshus")
