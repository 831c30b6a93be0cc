"""The catalogue version PostgreSQL keeps: a process may reuse what it derived from offers."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from offers.catalogue_version import VERSION_SQL, catalogue_version
from offers.models import Offer, Organisation, Theme
from tests.offers.factories import OfferFactory, make_offer

pytestmark = pytest.mark.django_db(transaction=True)


def committed_version() -> str:
    value = catalogue_version()
    assert value is not None
    return value


def test_every_committed_change_to_offers_or_themes_gives_a_new_version() -> None:
    seen = [committed_version()]

    offer = make_offer(themes=["export"])  # insert + themes, in autocommit statements
    seen.append(committed_version())
    Offer.objects.filter(pk=offer.pk).update(title="Ny titel")
    seen.append(committed_version())
    offer.themes.add(Theme.objects.get(slug="capital"))
    seen.append(committed_version())
    Theme.objects.filter(slug="capital").update(name="Kapital og finansiering")
    seen.append(committed_version())
    Offer.objects.filter(pk=offer.pk).delete()
    seen.append(committed_version())

    assert len(set(seen)) == len(seen)


def test_a_transaction_moves_the_version_once_at_commit() -> None:
    before = committed_version()
    with transaction.atomic():
        OfferFactory.create_batch(3)
        Offer.objects.update(title="Samme titel")
        # Inside, the change is this transaction's own: a kept copy must not be reused here.
        assert catalogue_version() is None
    after = committed_version()

    assert after != before
    assert committed_version() == after  # reading does not move it


def test_other_writes_leave_the_version_alone() -> None:
    before = committed_version()
    Organisation.objects.filter(slug="erhvervsstyrelsen").update(website="https://example.dk/")
    assert committed_version() == before


def test_a_rolled_back_change_keeps_the_old_version_and_its_value_is_never_used() -> None:
    before = committed_version()
    with transaction.atomic():
        OfferFactory()
        with connection.cursor() as cursor:
            # Run the commit-time trigger now, to see the value this transaction would get.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"SELECT {VERSION_SQL}")
            (abandoned,) = cursor.fetchone()
        transaction.set_rollback(True)

    assert committed_version() == before
    OfferFactory()
    assert committed_version() not in {before, abandoned}


def test_emptying_the_table_moves_the_version() -> None:
    OfferFactory()
    before = committed_version()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE offers_offer CASCADE")
    assert committed_version() != before


def test_matching_published_offers_uses_ts_rank_on_published_offers_only() -> None:
    published = make_offer(title="Eksport til Tyskland")
    OfferFactory(title="Eksport til Sverige", status="draft")
    OfferFactory(title="Automatisering")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.id, m.rank, ts_rank(o.search_vector, to_tsquery('simple', 'eksport')) "
            "FROM offers_matching_published(to_tsquery('simple', 'eksport')) m "
            "JOIN offers_offer o ON o.id = m.id"
        )
        rows = cursor.fetchall()

    assert [(pk, rank) for pk, rank, _expected in rows] == [(published.pk, rows[0][2])]
    assert rows[0][1] > 0


def test_settings_made_for_a_whole_session_neither_stop_nor_fake_the_version() -> None:
    before = committed_version()
    with connection.cursor() as cursor:
        cursor.execute("SET offers.catalogue_bumped = 'on'")
        cursor.execute("SET offers.catalogue_changed = 'on'")
    try:
        assert catalogue_version() == before  # nothing changed here: the copy may be reused
        OfferFactory()
        assert committed_version() != before
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET offers.catalogue_bumped")
            cursor.execute("RESET offers.catalogue_changed")


def test_the_version_names_the_row_version_so_a_restored_number_is_not_mistaken() -> None:
    before = committed_version()
    number = before.split(":")[0]
    with connection.cursor() as cursor:
        # What a restore from an older dump looks like: the same number in a new row version.
        cursor.execute("UPDATE offers_catalogue_version SET value = %s", [int(number)])
    assert committed_version() != before
    assert committed_version().split(":")[0] == number
