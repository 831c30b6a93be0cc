"""Demo governance data: business regions with their offers, growth agreements and a trend.

Idempotent: a second run finds everything in place and writes nothing. The offers of the business
regions go through the catalogue import, like the rest of the demo catalogue; the agreements'
initiatives link to demo offers chosen by theme and region, so they follow the demo catalogue.

The trend page needs months of snapshots. The current month's is the real one, taken from the
demo catalogue; the eleven months before it are made up for the demo (a little more of
everything the further back), since a fresh demo catalogue has no history to count.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from core.time import add_months
from governance import services
from governance.models import (
    CatalogueSnapshot,
    Commitment,
    GrowthAgreement,
    GrowthStrategy,
    ThemeSnapshot,
)
from offers.importing import import_offers
from offers.models import Municipality, Offer, Organisation, Region, Theme

# slug, name, region code, website, member municipalities (by name)
BUSINESS_REGIONS: list[tuple[str, str, int, str, list[str]]] = [
    (
        "business-region-aarhus",
        "Business Region Aarhus",
        1082,
        "https://www.businessregionaarhus.dk",
        [
            "Aarhus",
            "Favrskov",
            "Hedensted",
            "Horsens",
            "Norddjurs",
            "Odder",
            "Randers",
            "Samsø",
            "Silkeborg",
            "Skanderborg",
            "Syddjurs",
            "Viborg",
        ],
    ),
    (
        "business-region-north-denmark",
        "Business Region North Denmark",
        1081,
        "https://www.businessregionnorthdenmark.dk",
        [
            "Aalborg",
            "Brønderslev",
            "Frederikshavn",
            "Hjørring",
            "Jammerbugt",
            "Læsø",
            "Mariagerfjord",
            "Morsø",
            "Rebild",
            "Thisted",
            "Vesthimmerlands",
        ],
    ),
    (
        "trekantomraadet",
        "Trekantområdet",
        1083,
        "https://www.trekantomraadet.dk",
        ["Billund", "Fredericia", "Haderslev", "Kolding", "Middelfart", "Vejen", "Vejle"],
    ),
]

# external id, owner slug, title, summary, themes, phases, sizes
BUSINESS_REGION_OFFERS: list[tuple[str, str, str, str, list[str], list[str], list[str]]] = [
    (
        "business-region-aarhus-talentservice",
        "business-region-aarhus",
        "Talent til østjyske virksomheder",
        "Hjælp til at finde og fastholde kvalificeret arbejdskraft – også fra udlandet – på "
        "tværs af de 12 kommuner i Business Region Aarhus.",
        ["business-service"],
        ["growth", "established"],
        ["micro", "small", "medium"],
    ),
    (
        "business-region-aarhus-etablering",
        "business-region-aarhus",
        "Etableringsservice i Østjylland",
        "Én indgang for virksomheder, der vil etablere sig i Østjylland: erhvervsgrunde, "
        "myndighedskontakt og netværk i alle medlemskommuner.",
        ["business-service", "authority"],
        ["startup", "growth", "established"],
        ["micro", "small", "medium", "large"],
    ),
    (
        "business-region-north-denmark-erhvervsservice",
        "business-region-north-denmark",
        "Fælles nordjysk erhvervsservice",
        "De 11 nordjyske kommuner giver sammen virksomheder én indgang til lokal "
        "erhvervsservice, uanset hvilken kommune de ligger i.",
        ["business-service"],
        ["idea", "startup", "growth", "established"],
        ["micro", "small", "medium"],
    ),
    (
        "trekantomraadet-ivaerksaetterforloeb",
        "trekantomraadet",
        "Iværksætterforløb i Trekantområdet",
        "Et forløb over tre måneder for nye virksomheder i de syv kommuner i Trekantområdet: "
        "forretningsplan, første kunder og netværk med andre iværksættere.",
        ["startup"],
        ["idea", "startup"],
        ["micro"],
    ),
]

STRATEGIES: dict[str, tuple[str, str, str]] = {
    "nordjylland": (
        "Nordjysk strategi for erhvervsudvikling",
        "Nordjylland skal have flere vækstvirksomheder, en stærkere grøn og digital omstilling "
        "og flere virksomheder, der eksporterer. Strategien samler region, kommuner, "
        "erhvervshus og Aalborg Universitet om fem indsatser.",
        "https://rn.dk/regional-udvikling/strategi",
    ),
    "midtjylland": (
        "Midtjysk strategi for erhvervsudvikling",
        "Midtjylland satser på grøn omstilling, digitalisering og automatisering i "
        "produktionsvirksomheder og et tæt samspil mellem virksomheder og videninstitutioner.",
        "https://www.rm.dk/regional-udvikling/strategi",
    ),
    "syddanmark": (
        "Syddansk strategi for erhvervsudvikling",
        "Syddanmark vil styrke robotter og automatisering, energiteknologi og velfærdsteknologi "
        "og hjælpe flere små virksomheder med at vokse og eksportere.",
        "https://regionsyddanmark.dk/regional-udvikling/strategi",
    ),
    "hovedstaden": (
        "Hovedstadens strategi for erhvervsudvikling",
        "Hovedstaden vil udnytte sine stærke forsknings- og life science-miljøer og sikre, at "
        "flere nye virksomheder får kapital og kompetencer til at vokse.",
        "https://www.regionh.dk/regional-udvikling/strategi",
    ),
    "sjaelland": (
        "Sjællandsk strategi for erhvervsudvikling",
        "Sjælland vil skabe flere arbejdspladser uden for de store byer, styrke digitaliseringen "
        "i små virksomheder og udnytte Femern-forbindelsen til eksport og investeringer.",
        "https://www.regionsjaelland.dk/regional-udvikling/strategi",
    ),
}

# Initiatives every agreement has, worded for the region (text, themes, responsible, status).
Initiative = tuple[str, list[str], list[str], str]


def _initiatives(slug: str, region_name: str, year: int, *, today: dt.date) -> list[Initiative]:
    hub = f"vaeksthus-{slug}"
    region = f"region-{slug}"
    done = year < today.year
    return [
        (
            f"Flere små og mellemstore virksomheder i {region_name} skal tage digitale løsninger "
            "og automatisering i brug, med rådgivning og medfinansierede forløb.",
            ["digitalisation"],
            [region, hub],
            "completed" if done else "in_progress",
        ),
        (
            f"Virksomheder i {region_name} skal have lettere adgang til eksportrådgivning og "
            "eksportmarkeder, i samarbejde med Eksportrådet.",
            ["export"],
            ["eksportraadet", hub],
            "completed" if done else "in_progress",
        ),
        (
            "Vækstvirksomheder skal have bedre adgang til kapital, også uden for de store byer.",
            ["capital"],
            ["eifo", "vaekstfonden"],
            "completed" if done else "planned",
        ),
        (
            "Samarbejdet mellem virksomheder og videninstitutioner skal styrkes, så flere små "
            "virksomheder får adgang til ny viden og forskning.",
            ["knowledge", "research"],
            [region, "innovationsfonden"],
            "completed" if done else "in_progress",
        ),
    ]


def load(*, stdout: Any, today: dt.date | None = None) -> None:
    """The demo's agreements, offers and snapshots are dated relative to ``today``."""
    today = today or timezone.localdate()
    created_regions = _business_regions()
    offers = _business_region_offers(today=today)
    agreements = _growth_agreements(today=today)
    snapshots = _snapshots(today=today)
    stdout.write(
        f"demo business regions: {created_regions} new; their offers: {offers}; "
        f"growth agreements: {agreements} new; monthly snapshots: {snapshots} new"
    )


@transaction.atomic
def _business_regions() -> int:
    created = 0
    for slug, name, region_code, website, members in BUSINESS_REGIONS:
        organisation, was_created = Organisation.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "kind": Organisation.Kind.BUSINESS_REGION,
                "level": "municipality",
                "region_id": region_code,
                "website": website,
            },
        )
        if was_created:
            found = list(Municipality.objects.filter(name__in=members))
            if len(found) != len(members):
                missing = sorted(set(members) - {m.name for m in found})
                raise RuntimeError(f"Unknown municipalities for {slug}: {missing}")
            organisation.member_municipalities.set(found)
            created += 1
    return created


def _business_region_offers(*, today: dt.date) -> str:
    codes = {
        slug: sorted(Municipality.objects.filter(name__in=members).values_list("code", flat=True))
        for slug, _name, _region, _website, members in BUSINESS_REGIONS
    }
    lines = []
    for external_id, owner, title, summary, themes, phases, sizes in BUSINESS_REGION_OFFERS:
        lines.append(
            json.dumps(
                {
                    "external_id": external_id,
                    "title": title,
                    "summary": summary,
                    "description": summary,
                    "level": "municipality",
                    "owner": owner,
                    "operator": owner,
                    "themes": themes,
                    "phases": phases,
                    "company_sizes": sizes,
                    "industries": [],
                    "nationwide": False,
                    "regions": [],
                    "municipalities": codes[owner],
                    "price": "free",
                    "status": "published",
                    "valid_from": dt.date(today.year - 1, 1, 1).isoformat(),
                    "last_reviewed": add_months(today.replace(day=1), -3).isoformat(),
                },
                ensure_ascii=False,
            )
        )
    result = import_offers(source="\n".join(lines))
    if not result.ok:
        raise RuntimeError("; ".join(str(error) for error in result.errors))
    return f"{len(result.created)} new, {len(result.unchanged) + len(result.updated)} existing"


def _offers_for(themes: list[str], region: Region) -> list[Offer]:
    """Up to three published offers with one of ``themes`` that companies in ``region`` can use."""
    in_region = (
        Q(nationwide=True)
        | Q(regions__contains=[region.code])
        | Q(municipalities__overlap=list(region.municipalities.values_list("code", flat=True)))
    )
    # The region's own offers first, then its Væksthus's, then the state's, then anyone's.
    preference = Case(
        When(owner__slug=f"region-{region.slug}", then=Value(0)),
        When(operator__slug=f"vaeksthus-{region.slug}", then=Value(1)),
        When(owner__kind="state_agency", then=Value(2)),
        default=Value(3),
    )
    return list(
        Offer.objects.published()
        .filter(in_region, themes__slug__in=themes)
        .annotate(preference=preference)
        .distinct()
        .order_by("preference", "external_id")[:3]
    )


@transaction.atomic
def _growth_agreements(*, today: dt.date) -> int:
    created = 0
    organisations = {org.slug: org for org in Organisation.objects.all()}
    themes = {theme.slug: theme for theme in Theme.objects.all()}
    for region in Region.objects.order_by("code"):
        title, summary, url = STRATEGIES[region.slug]
        strategy = GrowthStrategy.objects.filter(
            region=region, period_start__lte=today.year, period_end__gte=today.year
        ).first() or GrowthStrategy.objects.create(
            region=region,
            period_start=today.year - 2,
            period_end=today.year + 1,
            title=title,
            summary=summary,
            url=url,
        )
        region_name = region.name.replace("Region ", "")
        # Last year's agreement is concluded; this year's is signed (in February, or today if
        # that is earlier).
        this_year = today.year
        signed_this_year = min(dt.date(this_year, 2, 20), today)
        for year, status, signed in (
            (this_year - 1, GrowthAgreement.Status.CONCLUDED, dt.date(this_year - 1, 2, 14)),
            (this_year, GrowthAgreement.Status.SIGNED, signed_this_year),
        ):
            agreement, was_created = GrowthAgreement.objects.get_or_create(
                region=region,
                year=year,
                defaults={
                    "title": f"Vækstpartnerskabsaftale {year} mellem regeringen og {region_name}",
                    "summary": f"Regeringen og de regionale parter i {region_name} er enige om "
                    f"fælles initiativer for {year}, der bygger på regionens strategi for "
                    "erhvervsudvikling.",
                    "strategy": strategy,
                    "status": status,
                    "signed_on": signed,
                },
            )
            if not was_created:
                continue
            created += 1
            for position, (text, theme_slugs, responsible, state) in enumerate(
                _initiatives(region.slug, region_name, year, today=today), start=1
            ):
                commitment = Commitment.objects.create(
                    agreement=agreement, text=text, status=state, position=position
                )
                commitment.themes.set([themes[slug] for slug in theme_slugs if slug in themes])
                commitment.responsible_organisations.set(
                    [organisations[slug] for slug in responsible if slug in organisations]
                )
                commitment.offers.set(_offers_for(theme_slugs, region))
    return created


DEMO_HISTORY_MONTHS = 11


@transaction.atomic
def _snapshots(*, today: dt.date) -> int:
    this_month = today.replace(day=1)
    if CatalogueSnapshot.objects.filter(month=add_months(this_month, -1)).exists():
        return 0
    before = CatalogueSnapshot.objects.count()
    current = services.catalogue_snapshot_take(month=this_month, today=today)
    rows = list(ThemeSnapshot.objects.filter(snapshot=current))
    for back in range(1, DEMO_HISTORY_MONTHS + 1):
        month = add_months(this_month, -back)
        if CatalogueSnapshot.objects.filter(month=month).exists():
            continue
        snapshot = CatalogueSnapshot.objects.create(
            month=month,
            offers=round(current.offers * (1 + 0.02 * back)),
            operators=round(current.operators * (1 + 0.03 * back)),
            overlaps=(current.overlaps or 0) + back // 2,
            offers_in_overlaps=(current.offers_in_overlaps or 0) + back,
        )
        ThemeSnapshot.objects.bulk_create(
            ThemeSnapshot(
                snapshot=snapshot,
                theme_id=row.theme_id,
                level=row.level,
                offers=round(row.offers * (1 + 0.02 * back)),
                operators=round(row.operators * (1 + 0.03 * back)),
            )
            for row in rows
        )
    return CatalogueSnapshot.objects.count() - before
