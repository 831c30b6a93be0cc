import datetime as dt
import io

from django.utils import timezone

from governance import demo
from offers.models import Municipality, Organisation
from tests.offers.factories import make_offer


def _collaboration(slug, name, members):
    organisation = Organisation.objects.create(
        slug=slug, name=name, kind="business_region", level="municipality", region_id=1083
    )
    organisation.member_municipalities.set(Municipality.objects.filter(name__in=members))
    return organisation


def test_it_lists_business_regions_with_their_members_and_open_offers(client, db):
    trekant = _collaboration("trekant", "Trekantområdet", ["Vejle", "Kolding", "Billund"])
    codes = list(trekant.member_municipalities.values_list("code", flat=True))
    make_offer(
        title="Iværksætterforløb i Trekantområdet",
        owner=trekant,
        level="municipality",
        nationwide=False,
        municipalities=codes,
    )
    make_offer(
        title="Lukket forløb",
        owner=trekant,
        level="municipality",
        nationwide=False,
        municipalities=codes,
        valid_to=timezone.localdate() - dt.timedelta(days=1),
        valid_from=timezone.localdate() - dt.timedelta(days=90),
    )
    make_offer(title="Drevet for samarbejdet", operator=trekant)

    response = client.get("/erhvervssamarbejder/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Trekantområdet" in body
    assert "3 medlemskommuner" in body
    assert body.index("Billund Kommune") < body.index("Kolding Kommune") < body.index("Vejle")
    assert "Iværksætterforløb i Trekantområdet" in body
    assert "Drevet for samarbejdet" in body
    assert "Lukket forløb" not in body


def test_it_lists_business_regions_in_a_fixed_number_of_queries(
    client, db, django_assert_max_num_queries
):
    for index in range(6):
        collaboration = _collaboration(f"br-{index}", f"Samarbejde {index}", ["Vejle", "Vejen"])
        for _ in range(3):
            make_offer(owner=collaboration)
    # Four reads, plus the page-view count (in a test's transaction: savepoint, upsert, release).
    with django_assert_max_num_queries(7):
        response = client.get("/erhvervssamarbejder/")
    assert response.content.decode().count("2 medlemskommuner") == 6


def test_the_demo_adds_the_three_business_regions_with_their_members_once(db):
    out = io.StringIO()
    demo.load(stdout=out)
    demo.load(stdout=out)

    members = {
        organisation.slug: organisation.member_municipalities.count()
        for organisation in Organisation.objects.filter(kind="business_region")
    }
    assert members == {
        "business-region-aarhus": 12,
        "business-region-north-denmark": 11,
        "trekantomraadet": 7,
    }
    trekant = Organisation.objects.get(slug="trekantomraadet")
    assert set(trekant.member_municipalities.values_list("name", flat=True)) == {
        "Billund",
        "Fredericia",
        "Haderslev",
        "Kolding",
        "Middelfart",
        "Vejen",
        "Vejle",
    }
    assert trekant.owned_offers.filter(status="published").count() == 1
    assert "growth agreements: 0 new" in out.getvalue().splitlines()[-1]
