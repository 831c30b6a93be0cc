"""Demo routing data: two routing rules and guidance requests spread over the past months.

The requests go through ``guidance_request_submit`` like any other, each with a fixed
idempotency key, so running this again creates nothing new. They are then moved back in time,
and most are taken by a demo adviser of their hub (``seed_demo`` creates the advisers first), so
the statistics page (/analyse/vejledning/) has response times to show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.cvr import valid_cvrs
from crm import services as crm_services
from crm.models import Case
from crm.workdays import add_working_days
from offers.models import Municipality, Organisation, Theme
from routing.forms import GuidanceSubmission
from routing.models import GuidanceRequest, RoutingRule
from routing.services import guidance_request_submit

KEY_PREFIX = "demo-routing-"

# company, municipality code, needs, themes, phase, employees, industry, days ago, hours to answer
REQUESTS: list[tuple[str, int, str, list[str], str, int | None, str, int, float | None]] = [
    (
        "Vejle Maskinfabrik ApS",
        630,
        "Vi vil gerne begynde at eksportere vores maskiner til Tyskland.",
        ["export"],
        "growth",
        25,
        "C",
        150,
        5.0,
    ),
    (
        "Aarhus Software ApS",
        751,
        "Vi søger kapital til at ansætte flere udviklere og vokse hurtigere.",
        ["capital", "growth"],
        "growth",
        18,
        "J",
        120,
        20.0,
    ),
    (
        "Skagen Røgeri ApS",
        813,
        "Vi vil automatisere pakningen og have hjælp til digitalisering.",
        ["digitalisation"],
        "established",
        9,
        "C",
        95,
        3.5,
    ),
    (
        "",
        101,
        "Jeg vil starte en café i København og ved ikke, hvor jeg skal begynde.",
        ["startup"],
        "idea",
        None,
        "I",
        80,
        60.0,
    ),
    (
        "Odense Robotics Solutions ApS",
        461,
        "Vi vil samarbejde med et universitet om ny robotteknologi.",
        ["knowledge", "research"],
        "growth",
        33,
        "C",
        60,
        26.0,
    ),
    (
        "Ringsted Byg ApS",
        259,
        "Vi skal bruge en byggetilladelse til en ny hal og hjælp til lokalplanen.",
        ["authority"],
        "established",
        40,
        "F",
        45,
        2.0,
    ),
    (
        "Herning Tekstil A/S",
        657,
        "Vi vil ud på nye eksportmarkeder og have styr på den grønne omstilling.",
        ["export", "growth"],
        "established",
        85,
        "C",
        30,
        None,
    ),
    (
        "Hjørring Digital ApS",
        860,
        "Vi udvikler en app og har brug for sparring om finansiering.",
        ["capital", "startup"],
        "startup",
        4,
        "J",
        12,
        30.0,
    ),
    (
        "Kolding Emballage A/S",
        621,
        "Vi overvejer at flytte produktion til Danmark og vil høre om investeringsfremme.",
        ["investment"],
        "established",
        77,
        "C",
        3,
        None,
    ),
    (
        "Sorø Gårdbutik",
        340,
        "Vi vil sælge vores produkter på nettet og har brug for hjælp til webshop.",
        ["digitalisation", "business-service"],
        "startup",
        2,
        "G",
        1,
        None,
    ),
]


def load(*, stdout: Any) -> None:
    rules = _rules()
    created = 0
    example: GuidanceRequest | None = None
    themes = {theme.slug: theme for theme in Theme.objects.all()}
    cvrs = valid_cvrs(start=4_801_000)
    now = timezone.now()
    for number, row in enumerate(REQUESTS):
        name, code, needs, theme_slugs, phase, employees, industry, days_ago, hours = row
        cvr = next(cvrs) if name else None
        key = f"{KEY_PREFIX}{number:03d}"
        if GuidanceRequest.objects.filter(idempotency_key=key).exists():
            continue
        with transaction.atomic():
            request = guidance_request_submit(
                submission=GuidanceSubmission(
                    cvr=cvr,
                    company_name=name,
                    municipality=Municipality.objects.select_related("region").get(code=code),
                    needs=needs,
                    themes=tuple(themes[slug] for slug in theme_slugs),
                    phase=phase,
                    employees=employees,
                    industry=industry,
                    contact_name=f"Demokontakt {number + 1}",
                    contact_email=f"vejledning{number + 1}@demo.example.dk",
                    contact_phone="+45 70 10 20 30",
                    consent=True,
                ),
                channel=GuidanceRequest.Channel.FORM if number % 2 else GuidanceRequest.Channel.API,
                idempotency_key=key,
            )
            _backdate(request, received=now - dt.timedelta(days=days_ago), hours=hours)
        created += 1
        example = example or request
    stdout.write(f"demo routing rules: {rules} new; demo guidance requests: {created} new")
    if example is not None:
        stdout.write(f"  a demo status page: /vejledning/{example.token}/")


def _rules() -> int:
    created = 0
    vejle = Municipality.objects.get(code=630)
    _, new = RoutingRule.objects.get_or_create(
        scope=RoutingRule.Scope.MUNICIPALITY,
        municipality=vejle,
        reason="Demo: Vejle Kommunes lokale erhvervsservice drives af Væksthus Syddanmark "
        "efter en driftsaftale.",
        defaults={
            "hub": Organisation.objects.get(slug="vaeksthus-syddanmark"),
            "priority": 100,
        },
    )
    created += new
    _, new = RoutingRule.objects.get_or_create(
        scope=RoutingRule.Scope.THEME,
        theme=Theme.objects.get(slug="investment"),
        reason="Demo (inaktiv): alle henvendelser om udenlandske investeringer til "
        "Væksthus Hovedstaden.",
        defaults={
            "hub": Organisation.objects.get(slug="vaeksthus-hovedstaden"),
            "priority": 50,
            "active": False,
        },
    )
    created += new
    return created


def _backdate(request: GuidanceRequest, *, received: dt.datetime, hours: float | None) -> None:
    """Move the request back to ``received``; an adviser of its hub answered after ``hours``."""
    case = request.case
    adviser = (
        User.objects.filter(organisation=case.hub, groups__name=User.Role.ADVISER, is_active=True)
        .order_by("username")
        .first()
    )
    responded = None
    if hours is not None and adviser is not None:
        crm_services.case_assign(case=case, adviser=adviser, actor=adviser)
        responded = received + dt.timedelta(hours=hours)
        case.timeline.filter(action="crm.case.assigned").update(at=responded)
    Case.objects.filter(pk=case.pk).update(
        created_at=received,
        first_response_due=add_working_days(received, settings.FIRST_RESPONSE_WORKING_DAYS),
        first_responded_at=responded,
    )
    case.timeline.filter(action="crm.case.created").update(at=received)
    GuidanceRequest.objects.filter(pk=request.pk).update(created_at=received)
