"""The front page's ways in: what a company wants to do, not how the state is organised.

Each situation opens the catalogue search on the themes that serve it. Editors change the list
here; a test checks that every theme named exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True, slots=True)
class Situation:
    title: Promise
    hint: Promise
    themes: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"{reverse('offers:search')}?{urlencode([('theme', t) for t in self.themes])}"


SITUATIONS: tuple[Situation, ...] = (
    Situation(
        _("Start virksomhed"),
        _("Fra idé til første kunde: vejledning, forretningsplan og opstartsforløb."),
        ("startup",),
    ),
    Situation(
        _("Sælg i udlandet"),
        _("Vælg marked, find kunder og partnere, og få eksporten finansieret."),
        ("export",),
    ),
    Situation(
        _("Find finansiering"),
        _("Lån, garantier, kapital og tilskud til investeringer og vækst."),
        ("capital",),
    ),
    Situation(
        _("Digitalisér og automatisér"),
        _("E-handel, it-sikkerhed, data og robotter i produktionen."),
        ("digitalisation",),
    ),
    Situation(
        _("Voks og udvikl forretningen"),
        _("Strategi, ledelse, nye markeder og sparring med erfarne rådgivere."),
        ("growth",),
    ),
    Situation(
        _("Udvikl nye produkter"),
        _("Innovation, forskning og samarbejde med universiteter og klynger."),
        ("research", "knowledge", "clusters"),
    ),
    Situation(
        _("Byg, udvid eller flyt"),
        _("Byggetilladelser, miljøgodkendelser, lokalplaner og lokaler."),
        ("authority",),
    ),
    Situation(
        _("Få hjælp i din kommune"),
        _("Den lokale erhvervsservice: én indgang til kommunen og netværk lokalt."),
        ("business-service",),
    ),
    Situation(
        _("Etablér en udenlandsk virksomhed i Danmark"),
        _("Investeringsfremme: hjælp til at placere en virksomhed eller en afdeling her."),
        ("investment",),
    ),
)
