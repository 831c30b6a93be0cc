"""Demo CRM data: companies across Denmark, their contacts, and cases in every status.

Built through the services, so every case has a real timeline, then moved back in time so the
queues look lived-in (some cases overdue, some closed long ago with feedback). Idempotent: the
companies are found by CVR and the cases are created only once.
"""

from __future__ import annotations

import datetime as dt
import json
from itertools import islice
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from core.cvr import valid_cvrs
from crm import services
from crm.models import Case, Company, HubLead, Notification, Referral, TimelineEntry
from crm.workdays import add_working_days
from offers.models import Municipality, Offer, Organisation, Theme

DEMO_OFFERS = Path(__file__).resolve().parent.parent / "offers" / "data" / "demo_offers.jsonl"
# The demo companies as the CVR register shows them, for the guidance form's CVR lookup.
CVR_REGISTER_SAMPLE = Path(__file__).resolve().parent / "data" / "cvr_register_sample.csv"

# name, municipality code, DB07 section, employees, themes
COMPANIES: list[tuple[str, int, str, int | None, list[str]]] = [
    ("Nordjysk Maskinfabrik ApS", 851, "C", 42, ["digitalisation", "export"]),
    ("Limfjordens Fiskeeksport A/S", 787, "A", 65, ["export"]),
    ("Aalborg Robotteknik ApS", 851, "C", 18, ["research", "capital"]),
    ("Skagen Røgeri ApS", 813, "C", 9, ["growth"]),
    ("Himmerlands Træindustri A/S", 820, "C", 120, ["digitalisation"]),
    ("Thy Vindservice ApS", 787, "D", 31, ["export", "investment"]),
    ("Vendsyssel Mejeri A/S", 860, "C", 210, ["export"]),
    ("Hjørring Digital ApS", 860, "J", 7, ["startup", "capital"]),
    ("Herning Tekstil A/S", 657, "C", 85, ["export", "digitalisation"]),
    ("Aarhus Software ApS", 751, "J", 24, ["growth", "capital"]),
    ("Silkeborg Grønne Løsninger ApS", 740, "M", 12, ["investment", "research"]),
    ("Randers Stålkonstruktion A/S", 730, "F", 140, ["digitalisation"]),
    ("Viborg Fødevareinnovation ApS", 791, "C", 16, ["research", "knowledge"]),
    ("Djurs Solenergi ApS", 707, "D", 11, ["capital"]),
    ("Horsens Logistik A/S", 615, "H", 95, ["digitalisation", "growth"]),
    ("Skive Plast ApS", 779, "C", 38, ["export"]),
    ("Holstebro Møbelsnedkeri ApS", 661, "C", 14, ["export", "growth"]),
    ("Ikast Medico ApS", 756, "C", 27, ["research", "clusters"]),
    ("Odense Robotics Solutions ApS", 461, "C", 33, ["clusters", "export"]),
    ("Vejle Designstudie ApS", 630, "M", 6, ["startup"]),
    ("Kolding Emballage A/S", 621, "C", 77, ["investment"]),
    ("Esbjerg Offshore Service A/S", 561, "B", 260, ["export"]),
    ("Sønderborg Elektronik ApS", 540, "C", 48, ["research", "digitalisation"]),
    ("Svendborg Skibsværft A/S", 479, "C", 110, ["export", "capital"]),
    ("Fredericia Kemi ApS", 607, "C", 22, ["investment"]),
    ("Aabenraa Landbrugsteknik ApS", 580, "C", 19, ["export"]),
    ("Middelfart Bryghus ApS", 410, "C", 8, ["growth", "authority"]),
    ("Nyborg Byggefirma ApS", 450, "F", 29, ["authority"]),
    ("Ribe Turisme ApS", 561, "I", 5, ["business-service"]),
    ("Haderslev Vinkompagni ApS", 510, "G", 4, ["startup", "export"]),
    ("København Fintech ApS", 101, "K", 21, ["capital", "growth"]),
    ("Nørrebro Kaffebrænderi ApS", 101, "C", 9, ["export", "business-service"]),
    ("Frederiksberg Arkitekter A/S", 147, "M", 55, ["export"]),
    ("Hillerød Life Science ApS", 219, "M", 17, ["research", "clusters"]),
    ("Lyngby Biotek A/S", 173, "M", 64, ["research", "capital"]),
    ("Ballerup Medicoteknik ApS", 151, "C", 36, ["export", "research"]),
    ("Helsingør Maritime ApS", 217, "H", 13, ["clusters"]),
    ("Amager Cykelværksted ApS", 185, "G", 3, ["business-service"]),
    ("Glostrup Softwarehus ApS", 161, "J", 44, ["digitalisation", "growth"]),
    ("Bornholms Keramik ApS", 400, "C", 6, ["export", "startup"]),
    ("Valby Spilstudie ApS", 101, "J", 15, ["capital", "export"]),
    ("Gentofte Rådgivning ApS", 157, "M", 10, ["growth"]),
    ("Roskilde Festivalteknik ApS", 265, "N", 23, ["digitalisation"]),
    ("Køge Havnelogistik A/S", 259, "H", 90, ["investment"]),
    ("Næstved Trælast A/S", 370, "G", 58, ["digitalisation"]),
    ("Slagelse Bageri ApS", 330, "C", 12, ["authority", "business-service"]),
    ("Holbæk Automation ApS", 316, "C", 26, ["digitalisation", "research"]),
    ("Kalundborg Bioproduktion A/S", 326, "C", 170, ["research", "investment"]),
    ("Lolland Sukkerroer ApS", 360, "A", 20, ["export"]),
    ("Ringsted Dataanalyse ApS", 329, "J", 8, ["capital", "growth"]),
    ("Vordingborg Grønt ApS", 390, "A", 11, ["growth"]),
    ("Sorø Skovbrug ApS", 340, "A", 7, ["investment"]),
    ("Odsherred Gårdbutik ApS", 306, "G", 3, ["business-service"]),
    ("Faxe Kalkværk A/S", 320, "B", 130, ["export"]),
    ("Stevns Klint Turisme ApS", 336, "I", 6, ["business-service", "startup"]),
]
# People who have not started their company yet: no CVR.
IDEAS: list[tuple[str, int, list[str]]] = [
    ("Idé: bæredygtig emballage", 751, ["startup", "capital"]),
    ("Idé: app til landmænd", 851, ["startup", "digitalisation"]),
    ("Idé: glutenfrit bageri", 461, ["startup"]),
    ("Idé: cykeludlejning på Bornholm", 400, ["startup", "business-service"]),
    ("Idé: 3D-print af reservedele", 265, ["startup", "research"]),
]
FIRST = ["Anne", "Mads", "Sofie", "Rasmus", "Ida", "Mikkel", "Freja", "Jonas", "Emma", "Kasper"]
LAST = ["Holm", "Lund", "Dahl", "Bach", "Vestergaard", "Skov", "Brandt", "Winther", "Juhl", "Kjær"]
ROLES = ["Direktør", "Ejer", "Salgschef", "Økonomiansvarlig", "Produktionschef"]
NEEDS = {
    "export": "Vi vil gerne sælge til Tyskland og Sverige og har brug for hjælp til at starte.",
    "digitalisation": "Vi vil automatisere produktionen og digitalisere ordrestyringen.",
    "capital": "Vi mangler finansiering til næste vækstfase og vil gerne kende mulighederne.",
    "research": "Vi har en ny teknologi og søger samarbejde om udvikling og test.",
    "growth": "Vi er vokset hurtigt og har brug for sparring om strategi og organisation.",
    "investment": "Vi vil investere i grøn omstilling af vores energiforbrug.",
    "clusters": "Vi vil gerne i kontakt med andre virksomheder i vores branche.",
    "knowledge": "Vi vil gerne samarbejde med et universitet om et udviklingsprojekt.",
    "authority": "Vi skal udvide og har spørgsmål om byggetilladelse og lokalplan.",
    "business-service": "Vi vil gerne have en snak med den lokale erhvervsservice.",
    "startup": "Jeg vil starte virksomhed og ved ikke, hvor jeg skal begynde.",
}
# Cycle of end states; closed cases are the most common, as in real life.
STATUSES = ["closed", "new", "assigned", "closed", "in_progress", "referred", "closed", "new"]
CASES = 80


def _offers_by_theme() -> dict[str, list[Offer]]:
    wanted: list[str] = []
    if DEMO_OFFERS.exists():
        with DEMO_OFFERS.open(encoding="utf-8") as lines:
            wanted = [json.loads(line)["external_id"] for line in lines if line.strip()]
    found: dict[str, list[Offer]] = {}
    for offer in (
        Offer.objects.published().filter(external_id__in=wanted).prefetch_related("themes")
    ):
        for theme in offer.themes.all():
            found.setdefault(theme.slug, []).append(offer)
    return found


def _company(
    index: int, cvr: str | None, name: str, code: int, industry: str, employees: Any
) -> Company:
    municipality = Municipality.objects.filter(code=code).first()
    if cvr is None:
        existing = Company.objects.filter(cvr__isnull=True, name=name).first()
        if existing is not None:
            return existing
    return services.company_find_or_create(
        cvr=cvr,
        name=name,
        municipality=municipality,
        industry=industry or None,
        employees=employees,
    )


def _shift(case: Case, days: int) -> None:
    """Move a case and everything on it ``days`` back in time."""
    delta = dt.timedelta(days=days, hours=(days * 7) % 9)
    Case.objects.filter(pk=case.pk).update(
        created_at=F("created_at") - delta,
        first_responded_at=F("first_responded_at") - delta,
        closed_at=F("closed_at") - delta,
    )
    case.refresh_from_db()
    Case.objects.filter(pk=case.pk).update(first_response_due=add_working_days(case.created_at, 2))
    TimelineEntry.objects.filter(case=case).update(at=F("at") - delta)
    Referral.objects.filter(case=case).update(
        created_at=F("created_at") - delta, completed_at=F("completed_at") - delta
    )
    Notification.objects.filter(case=case).update(created_at=F("created_at") - delta)


#: The demo hub's lead (a demo user of seed_demo), alerted by the reminder ladder.
DEMO_LEAD = ("vaeksthus-midtjylland", "leder-midtjylland")


def _hub_lead(stdout: Any) -> None:
    hub_slug, username = DEMO_LEAD
    lead = User.objects.filter(username=username, organisation__slug=hub_slug).first()
    if lead is None or HubLead.objects.filter(hub__slug=hub_slug).exists():
        return
    HubLead.objects.create(hub=Organisation.objects.get(slug=hub_slug), lead=lead)
    stdout.write(f"demo hub lead: {username} leads {hub_slug}")


def _cvr_register(*, stdout: Any) -> None:
    from crm.cvr_import import cvr_register_import
    from crm.models import CvrRegisterEntry

    if CvrRegisterEntry.objects.exists():
        stdout.write("demo CVR register: already loaded")
        return
    report = cvr_register_import(source=CVR_REGISTER_SAMPLE)
    stdout.write(f"demo CVR register: {report.rows} companies")


def load(*, stdout: Any) -> None:
    _hub_lead(stdout)
    _cvr_register(stdout=stdout)
    if TimelineEntry.objects.filter(action="crm.case.created", payload__demo=True).exists():
        stdout.write("demo cases: already loaded")
        return
    offers_by_theme = _offers_by_theme()
    themes = {theme.slug: theme for theme in Theme.objects.all()}
    hubs = {hub.region_id: hub for hub in Organisation.objects.hubs()}
    fallback_operator = Organisation.objects.get(slug="erhvervsstyrelsen")
    advisers: dict[int, list[User]] = {}
    for user in User.objects.filter(
        organisation__kind="business_hub", groups__name=User.Role.ADVISER, is_active=True
    ).order_by("username"):
        advisers.setdefault(user.organisation_id or 0, []).append(user)

    with transaction.atomic():
        cvrs = list(islice(valid_cvrs(start=3_512_000), len(COMPANIES)))
        entries: list[tuple[Company, int, list[str]]] = []
        for index, (name, code, industry, employees, theme_slugs) in enumerate(COMPANIES):
            entries.append(
                (_company(index, cvrs[index], name, code, industry, employees), code, theme_slugs)
            )
        for name, code, theme_slugs in IDEAS:
            entries.append((_company(0, None, name, code, "", None), code, theme_slugs))

        created = 0
        for number in range(CASES):
            company, code, theme_slugs = entries[number % len(entries)]
            region_id = Municipality.objects.get(code=code).region_id
            hub = hubs[region_id]
            person = number % len(FIRST)
            contact = services.contact_find_or_create(
                company=company,
                name=f"{FIRST[person]} {LAST[(number // 3) % len(LAST)]}",
                email=f"{FIRST[person].lower()}@demo-{company.pk}.example.dk",
                phone=f"+45 {20 + number % 70} {10 + number % 89} {30 + number % 60} 40",
                consent_version="2026-01",
            )
            if not contact.role:
                contact.role = ROLES[number % len(ROLES)]
                contact.save(update_fields=["role"])
            case_themes = [themes[slug] for slug in theme_slugs if slug in themes]
            matched = [
                offer for slug in theme_slugs for offer in offers_by_theme.get(slug, [])[:2]
            ][:3]
            case = services.case_create(
                company=company,
                contact=contact,
                hub=hub,
                needs=NEEDS.get(theme_slugs[0], NEEDS["growth"]),
                themes=case_themes,
                source=[Case.Source.WEB, Case.Source.PHONE, Case.Source.EMAIL][number % 3]
                if number % 11
                else Case.Source.MUNICIPAL_REFERRAL,
                payload={
                    "demo": True,
                    "rule": "kommunens region",
                    "matches": [
                        {
                            "external_id": offer.external_id,
                            "score": round(0.9 - 0.1 * rank, 2),
                            "reasons": [f"Tema: {case_themes[0].name}"] if case_themes else [],
                        }
                        for rank, offer in enumerate(matched)
                    ],
                },
                offers=matched,
            )
            status = STATUSES[number % len(STATUSES)]
            hub_advisers = advisers.get(hub.pk, [])
            if status != "new" and hub_advisers:
                adviser = hub_advisers[number % len(hub_advisers)]
                case = services.case_assign(case=case, adviser=adviser, actor=adviser)
                services.case_note_add(
                    case=case,
                    kind="call",
                    text=f"Ringede til {contact.name.split()[0]} og aftalte et møde.",
                    actor=adviser,
                )
                if status in ("in_progress", "referred", "closed"):
                    case = services.case_transition(
                        case=case, status=Case.Status.IN_PROGRESS, actor=adviser
                    )
                    services.case_note_add(
                        case=case,
                        kind="meeting",
                        text="Møde hos virksomheden om planer, behov og muligheder.",
                        actor=adviser,
                    )
                referral = None
                if status in ("referred", "closed") and (matched or number % 2):
                    # Without the demo catalogue, refer to the agency behind the state offers.
                    referral = services.referral_create(
                        case=case,
                        offer=matched[0] if matched else None,
                        operator=None if matched else fallback_operator,
                        note="Passer godt til behovet.",
                        share_contact=number % 3 == 0,
                        actor=adviser,
                    )
                if status == "closed":
                    if referral is not None and number % 2 == 0:
                        services.referral_complete(
                            referral=referral,
                            outcome="Virksomheden har gennemført forløbet.",
                            actor=adviser,
                        )
                    case = services.case_close(
                        case=case,
                        outcome=Case.Outcome.REFERRED if referral else Case.Outcome.GUIDED,
                        outcome_text="Virksomheden har fået en plan for de næste skridt.",
                        actor=adviser,
                    )
                    if number % 3 == 0:
                        services.feedback_submit(
                            case=case,
                            rating=4 + number % 2,
                            comment="Hurtig og kompetent hjælp.",
                        )
            # New cases are recent (some overdue); closed ones reach back more than a year.
            days = (number % 6) if status == "new" else 10 + (number * 7) % 400
            _shift(case, days)
            created += 1
    # Demo e-mails describe made-up events: mark them sent so nothing is mailed on first run.
    Notification.objects.filter(case__timeline__payload__demo=True).update(
        status=Notification.Status.SENT, sent_at=timezone.now()
    )
    stdout.write(f"demo cases: {created} new, {len(entries)} companies")
