import datetime as dt
import io

import pytest
from django.utils import timezone

from governance import demo
from governance.models import Commitment, GrowthAgreement
from offers.models import Organisation, Region, Theme
from tests.governance.factories import (
    CommitmentFactory,
    GrowthAgreementFactory,
    GrowthStrategyFactory,
)
from tests.offers.factories import make_offer
from tests.pages import assert_contains


@pytest.fixture
def midtjylland(db):
    return Region.objects.get(slug="midtjylland")


def test_it_shows_a_regions_agreements_with_commitments_and_the_open_offers_behind_them(
    client, midtjylland
):
    strategy = GrowthStrategyFactory.create(region=midtjylland, title="Midtjysk strategi 2024–2027")
    agreement = GrowthAgreementFactory.create(region=midtjylland, year=2026, strategy=strategy)
    open_offer = make_offer(title="Automatiseringstjek")
    closed_offer = make_offer(
        title="Udløbet program",
        valid_from=timezone.localdate() - dt.timedelta(days=200),
        valid_to=timezone.localdate() - dt.timedelta(days=1),
    )
    commitment = CommitmentFactory.create(
        agreement=agreement,
        text="Flere virksomheder skal automatisere",
        offers=[open_offer, closed_offer],
    )
    commitment.themes.set(Theme.objects.filter(slug="digitalisation"))
    commitment.responsible_organisations.set(Organisation.objects.filter(slug="region-midtjylland"))
    GrowthAgreementFactory.create(
        region=midtjylland, year=2027, title="Udkast til aftale 2027", status="draft"
    )
    GrowthAgreementFactory.create(
        region=Region.objects.get(slug="nordjylland"), title="Nordjysk aftale"
    )

    response = client.get("/vaekstaftaler/midtjylland/")

    assert response.status_code == 200
    body = response.content.decode()
    assert_contains(
        body,
        "Midtjysk strategi 2024–2027",
        "Vækstpartnerskabsaftale 2026",
        "Flere virksomheder skal automatisere",
        "Digitalisering og automatisering",
        "Region Midtjylland",
        "I gang",
        "Automatiseringstjek",
    )
    assert "Udløbet program" not in body
    assert "Udkast til aftale 2027" not in body
    assert "Nordjysk aftale" not in body


def test_in_english_the_agreements_own_danish_texts_are_marked_danish(client, midtjylland):
    strategy = GrowthStrategyFactory.create(region=midtjylland, title="Midtjysk strategi")
    agreement = GrowthAgreementFactory.create(
        region=midtjylland, year=2026, strategy=strategy, title="Aftale for Midtjylland"
    )
    CommitmentFactory.create(
        agreement=agreement,
        text="Flere virksomheder skal automatisere",
        offers=[make_offer(title="Automatiseringstjek")],
    )

    region = client.get("/vaekstaftaler/midtjylland/", headers={"accept-language": "en"}).text
    index = client.get("/vaekstaftaler/", headers={"accept-language": "en"}).text

    assert "<h1>Growth strategy and growth agreements for Region Midtjylland</h1>" in region
    assert_contains(
        region,
        '<span lang="da">Midtjysk strategi</span>',
        '<h2 id="aftale-2026" lang="da">Aftale for Midtjylland</h2>',
        '<p lang="da">Flere virksomheder skal automatisere</p>',
        'lang="da">Automatiseringstjek</a>',
    )
    # On a phone the index's table stacks, each figure under its heading.
    assert 'class="table table-sm-responsive-headers stack-on-phone"' in index
    assert '<td data-title="Current strategy"><span lang="da">Midtjysk strategi</span>' in index


def test_it_answers_404_for_an_unknown_region(client, db):
    assert client.get("/vaekstaftaler/atlantis/").status_code == 404


def test_it_shows_a_region_page_in_a_fixed_number_of_queries(
    client, midtjylland, django_assert_max_num_queries
):
    for year in (2024, 2025, 2026):
        agreement = GrowthAgreementFactory.create(region=midtjylland, year=year)
        for _ in range(4):
            commitment = CommitmentFactory.create(
                agreement=agreement, offers=[make_offer(), make_offer()]
            )
            commitment.themes.set(Theme.objects.filter(slug__in=["export", "capital"]))
    # Agreements, commitments, their themes, organisations and open offers, the strategy, the
    # linked offer ids and their effects; and the page-view count (savepoint, upsert, release).
    with django_assert_max_num_queries(12):
        response = client.get("/vaekstaftaler/midtjylland/")
    assert response.content.decode().count("Testtilbud") == 24


def test_the_index_counts_only_public_agreements_per_region(client, midtjylland):
    signed = GrowthAgreementFactory.create(region=midtjylland, year=2026)
    CommitmentFactory.create_batch(3, agreement=signed)
    GrowthAgreementFactory.create(region=midtjylland, year=2027, status="draft")

    response = client.get("/vaekstaftaler/")

    regions = {region.slug: region for region in response.context["regions"]}
    assert [a.year for a in regions["midtjylland"].public_agreements] == [2026]
    assert regions["midtjylland"].public_agreements[0].commitment_count == 3
    assert regions["nordjylland"].public_agreements == []
    assert "2026 (3 initiativer)" in response.content.decode()


def test_the_database_allows_one_agreement_per_region_and_year(midtjylland):
    from django.db import IntegrityError

    GrowthAgreementFactory.create(region=midtjylland, year=2026)
    with pytest.raises(IntegrityError):
        GrowthAgreementFactory.create(region=midtjylland, year=2026)


def test_the_demo_gives_every_region_two_agreements_with_linked_offers(db):
    from offers import demo as offers_demo

    offers_demo.load(stdout=io.StringIO())
    demo.load(stdout=io.StringIO())
    demo.load(stdout=io.StringIO())

    assert GrowthAgreement.objects.public().count() == 10
    this_year = timezone.localdate().year
    for region in Region.objects.all():
        assert GrowthAgreement.objects.get(region=region, year=this_year - 1).commitments.exists()
        agreement = GrowthAgreement.objects.get(region=region, year=this_year)
        assert agreement.commitments.count() == 4
        assert region.name.replace("Region ", "") in agreement.title
    linked = Commitment.objects.filter(offers__isnull=False).distinct().count()
    assert linked == Commitment.objects.count()


# --- Admin -------------------------------------------------------------------------------------


@pytest.fixture
def agreements(midtjylland):
    own = GrowthAgreementFactory.create(region=midtjylland, year=2026, title="Midtjysk aftale")
    other = GrowthAgreementFactory.create(
        region=Region.objects.get(slug="nordjylland"), year=2026, title="Nordjysk aftale"
    )
    return own, other


def test_a_region_editor_sees_and_edits_only_the_regions_own_agreements(
    client, make_user, agreements
):
    own, other = agreements
    revised = {
        "region": own.region_id,
        "year": 2026,
        "title": "Midtjysk aftale, revideret",
        "summary": "",
        "strategy": "",
        "status": "signed",
        "signed_on": "2026-02-01",
        "commitments-TOTAL_FORMS": "0",
        "commitments-INITIAL_FORMS": "0",
    }
    client.force_login(make_user("red", organisation="region-midtjylland", role="Redaktør"))

    listing = client.get("/admin/governance/growthagreement/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Midtjysk aftale" in body
    assert "Nordjysk aftale" not in body

    response = client.post(f"/admin/governance/growthagreement/{own.pk}/change/", revised)
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.title == "Midtjysk aftale, revideret"

    assert client.get(f"/admin/governance/growthagreement/{other.pk}/change/").status_code == 302
    other.refresh_from_db()
    assert other.title == "Nordjysk aftale"


def test_a_region_editor_can_only_choose_their_own_region(client, make_user, agreements):
    client.force_login(make_user("red", organisation="region-midtjylland", role="Redaktør"))
    form = client.get("/admin/governance/growthagreement/add/").context["adminform"].form
    assert list(form.fields["region"].queryset.values_list("slug", flat=True)) == ["midtjylland"]


def test_a_state_analyst_reads_every_regions_agreements_but_changes_none(
    client, make_user, agreements
):
    own, _other = agreements
    client.force_login(make_user("ana", organisation="erhvervsstyrelsen", role="Analytiker"))

    body = client.get("/admin/governance/growthagreement/").content.decode()
    assert "Midtjysk aftale" in body
    assert "Nordjysk aftale" in body
    page = client.get(f"/admin/governance/growthagreement/{own.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False


def test_an_adviser_gets_nothing_in_the_agreements_admin(client, make_user, agreements):
    client.force_login(make_user("raad", organisation="vaeksthus-midtjylland", role="Rådgiver"))
    assert client.get("/admin/governance/growthagreement/").status_code == 403


def test_the_agreements_admin_lists_in_a_fixed_number_of_queries(
    client, make_user, midtjylland, django_assert_max_num_queries
):
    for year in range(2010, 2030):
        CommitmentFactory.create_batch(
            2, agreement=GrowthAgreementFactory.create(region=midtjylland, year=year)
        )
    client.force_login(make_user("red", organisation="region-midtjylland", role="Redaktør"))
    with django_assert_max_num_queries(12):
        response = client.get("/admin/governance/growthagreement/")
    assert response.context["cl"].result_count == 20


def test_the_agreement_change_page_costs_the_same_with_one_or_eight_initiatives(
    client, make_user, midtjylland
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_user("red", organisation="region-midtjylland", role="Redaktør"))

    def queries_for(initiatives: int) -> int:
        agreement = GrowthAgreementFactory.create(region=midtjylland, year=2000 + initiatives)
        for _ in range(initiatives):
            commitment = CommitmentFactory.create(agreement=agreement, offers=[make_offer()])
            commitment.themes.set(Theme.objects.filter(slug="export"))
        with CaptureQueriesContext(connection) as context:
            response = client.get(f"/admin/governance/growthagreement/{agreement.pk}/change/")
        assert response.status_code == 200
        return len(context.captured_queries)

    assert queries_for(1) == queries_for(8)


def test_a_region_editor_links_offers_of_any_owner_to_their_own_initiative_only(
    client, make_user, midtjylland, agreements
):
    own, other = agreements
    mine = CommitmentFactory.create(agreement=own, text="Midtjysk initiativ")
    theirs = CommitmentFactory.create(agreement=other, text="Nordjysk initiativ")
    state_offer = make_offer(title="Statens eksporttilbud", owner="eksportraadet")
    linked = {
        "agreement": own.pk,
        "position": 1,
        "text": "Midtjysk initiativ",
        "status": "completed",
        "offers": [state_offer.pk],
    }
    client.force_login(make_user("red", organisation="region-midtjylland", role="Redaktør"))

    listing = client.get("/admin/governance/commitment/").content.decode()
    assert "Midtjysk initiativ" in listing
    assert "Nordjysk initiativ" not in listing

    response = client.post(f"/admin/governance/commitment/{mine.pk}/change/", linked)
    assert response.status_code == 302
    assert list(mine.offers.all()) == [state_offer]
    assert client.get(f"/admin/governance/commitment/{theirs.pk}/change/").status_code == 302
    form = client.get(f"/admin/governance/commitment/{mine.pk}/change/").context["adminform"].form
    assert list(form.fields["agreement"].queryset) == [own]


def test_it_rolls_up_the_measured_effects_of_the_offers_behind_the_commitments(client, midtjylland):
    from evaluation.models import EffectRun
    from tests.evaluation.factories import TOO_FEW, EffectEstimateFactory, EffectRunFactory

    agreement = GrowthAgreementFactory.create(region=midtjylland, year=2025, status="concluded")
    small, large, unlinked = make_offer(), make_offer(), make_offer()
    ended = make_offer(
        title="Afsluttet program",
        valid_from=timezone.localdate() - dt.timedelta(days=900),
        valid_to=timezone.localdate() - dt.timedelta(days=400),
    )
    CommitmentFactory.create(agreement=agreement, offers=[small, large])
    CommitmentFactory.create(agreement=agreement, offers=[ended])
    other_region = GrowthAgreementFactory.create(region=Region.objects.get(slug="nordjylland"))
    CommitmentFactory.create(agreement=other_region, offers=[unlinked])

    run = EffectRunFactory()
    # Employment: 30 treated at +2.0 (SE 0.4) and 10 at +5.0 (SE 1.0); weights 3/4 and 1/4.
    EffectEstimateFactory(run=run, offer=large, estimate=2.0, std_error=0.4, n_treated=30)
    EffectEstimateFactory(run=run, offer=small, estimate=5.0, std_error=1.0, n_treated=10)
    # The ended offer's revenue effect rests on too few companies to be shown.
    EffectEstimateFactory(
        run=run,
        offer=ended,
        indicator="revenue",
        **{**TOO_FEW, "n_treated": 6},
    )
    # Neither another region's offer nor an unfinished run counts.
    EffectEstimateFactory(run=run, offer=unlinked, estimate=100.0, n_treated=500)
    running = EffectRunFactory(status=EffectRun.Status.RUNNING)
    EffectEstimateFactory(run=running, offer=small, indicator="export", estimate=9.0)

    response = client.get("/vaekstaftaler/midtjylland/")

    effects = {effect.indicator: effect for effect in response.context["effects"]}
    assert set(effects) == {"employment", "revenue"}
    employment = effects["employment"]
    assert employment.result.estimate == pytest.approx(0.75 * 2.0 + 0.25 * 5.0)  # 2.75
    standard_error = (0.75**2 * 0.4**2 + 0.25**2 * 1.0**2) ** 0.5  # 0.3905
    assert employment.result.std_error == pytest.approx(standard_error)
    assert employment.result.n_treated == 40
    assert employment.offers_measured == 2
    assert not effects["revenue"].is_measured
    body = response.content.decode()
    assert "Beskæftigelse (fuldtidsansatte)" in body
    assert "+2,8" in body
    assert "+2,0 til +3,5" in body  # 2.75 ± 1.96 × 0.3905
    assert "For få deltagere til at vise en effekt" in body


def test_it_shows_no_effects_section_before_anything_is_measured(client, midtjylland):
    CommitmentFactory.create(
        agreement=GrowthAgreementFactory.create(region=midtjylland), offers=[make_offer()]
    )
    response = client.get("/vaekstaftaler/midtjylland/")
    assert response.context["effects"] == []
    assert "Målte effekter" not in response.content.decode()
