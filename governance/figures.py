"""Every figure the analysis pages show, defined once: its code, its name and what it counts.

A page names a figure by its code (``{% figure_name "cases_received" %}``) and lists the
definitions of the figures it shows under its heading (``{% figure_definitions ... %}``, in
``governance.templatetags.figures``), so "Henvendelser" on one page and "Modtagne sager" on
another are two figures with two names, and each says what it counts.

Names and definitions are in Danish with English translations; the hubs' generic name comes from
``settings.HUB_TERM`` and the promise from ``settings.FIRST_RESPONSE_WORKING_DAYS``, both read at
use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_stubs_ext import StrOrPromise

from offers.hub_terms import HUB_TERM


@dataclass(frozen=True, slots=True)
class Figure:
    code: str
    name: StrOrPromise
    #: The definition in the active language, with the settings it depends on filled in.
    define: Callable[[], str]

    @property
    def definition(self) -> str:
        return self.define()


def _days() -> int:
    return int(settings.FIRST_RESPONSE_WORKING_DAYS)


FIGURES: dict[str, Figure] = {
    figure.code: figure
    for figure in (
        # Guidance requests (routing): what a company sent, one per form or API submission.
        Figure(
            "requests",
            gettext_lazy("Henvendelser"),
            lambda: _(
                "Anmodninger om vejledning, som virksomheder sendte via portalens formular, en "
                "partners formular eller API'et i perioden (dansk tid), én pr. sag: spørger en "
                "virksomhed igen, mens dens sag er åben, lægges henvendelsen på sagen og tæller "
                "ikke igen. Sager oprettet efter et opkald eller en e-mail tæller ikke med."
            ),
        ),
        Figure(
            "requests_responded",
            gettext_lazy("Henvendelser besvaret"),
            lambda: _(
                "Henvendelser, hvis sag har fået et første svar: et opkald, et møde eller en "
                "e-mail til virksomheden. At tage sagen er intet svar."
            ),
        ),
        Figure(
            "requests_median_hours",
            gettext_lazy("Median tid til første svar (timer)"),
            lambda: _(
                "Blandt de besvarede henvendelser: det midterste antal timer (kalendertimer, "
                "også nætter og weekender) fra sagen blev oprettet til første svar."
            ),
        ),
        Figure(
            "requests_within_promise",
            gettext_lazy("Henvendelser besvaret inden for løftet"),
            lambda: (
                ngettext(
                    "Af de henvendelser, der er besvaret, eller hvis frist er overskredet: "
                    "andelen, der fik første svar senest på fristen (%(days)s arbejdsdag). "
                    "Henvendelser, der stadig er inden for fristen uden svar, tæller ikke med "
                    "endnu.",
                    "Af de henvendelser, der er besvaret, eller hvis frist er overskredet: "
                    "andelen, der fik første svar senest på fristen (%(days)s arbejdsdage). "
                    "Henvendelser, der stadig er inden for fristen uden svar, tæller ikke med "
                    "endnu.",
                    _days(),
                )
                % {"days": _days()}
            ),
        ),
        # Cases (crm): what the hubs work on, whatever the channel.
        Figure(
            "cases_received",
            gettext_lazy("Modtagne sager"),
            lambda: _(
                "Sager oprettet i måneden eller perioden (dansk tid), uanset kanal: portalen, "
                "telefon, e-mail eller henvisning fra en kommune. Spørger en virksomhed igen, "
                "mens dens sag er åben, lægges henvendelsen på sagen og giver ingen ny sag."
            ),
        ),
        Figure(
            "cases_median_working_days",
            gettext_lazy("Median for første svar (arbejdsdage)"),
            lambda: _(
                "Det midterste antal danske arbejdsdage fra den dag, henvendelsen tæller fra, "
                "til første svar, blandt månedens sager med svar (0 er samme arbejdsdag), målt "
                "som løftet. Første svar er et opkald, et møde eller en e-mail til virksomheden "
                "– ikke at sagen bliver taget."
            ),
        ),
        Figure(
            "cases_within_promise",
            gettext_lazy("Sager svaret inden for løftet"),
            lambda: (
                ngettext(
                    "Andelen af månedens sager, der fik første svar senest på fristen "
                    "(%(days)s arbejdsdag). Sager, der stadig er inden for fristen uden svar, "
                    "tæller ikke med endnu.",
                    "Andelen af månedens sager, der fik første svar senest på fristen "
                    "(%(days)s arbejdsdage). Sager, der stadig er inden for fristen uden svar, "
                    "tæller ikke med endnu.",
                    _days(),
                )
                % {"days": _days()}
            ),
        ),
        Figure(
            "referrals_completed",
            gettext_lazy("Gennemførte henvisninger"),
            lambda: (
                _(
                    "Henvisninger fra sagerne hos %(hub)s, der blev markeret som gennemført i "
                    "måneden."
                )
                % {"hub": HUB_TERM.the}
            ),
        ),
        Figure(
            "rating",
            gettext_lazy("Tilfredshed (1–5)"),
            lambda: _(
                "Gennemsnittet af virksomhedernes bedømmelser (1–5) givet i måneden efter "
                "lukning, og antallet af bedømmelser (n)."
            ),
        ),
        Figure(
            "not_handled",
            gettext_lazy("Lukket uden svar"),
            lambda: (
                _("Månedens sager, som påmindelserne lukkede, fordi ingen hos %(hub)s svarede.")
                % {"hub": HUB_TERM.the}
            ),
        ),
        Figure(
            "surveys",
            gettext_lazy("Spørgeskemaer"),
            lambda: _(
                "Af de spørgeskemaer, der blev sendt i måneden (cirka ti dage efter lukning), "
                "hvor mange der blev besvaret, og af svarene: andelen, der blev kontaktet, det "
                "gennemsnitlige udbytte (1–5), andelen, der fandt hjælp eller satte noget i "
                "gang, og andelen, der ikke ville have gjort det uden hjælpen."
            ),
        ),
        # Referrals to operators (crm), as the referral report counts them.
        Figure(
            "referrals",
            gettext_lazy("Henvisninger"),
            lambda: _(
                "Henvisninger til en operatør eller et tilbud oprettet i perioden, pr. operatør; "
                "en henvisning tæller med under hvert af den henviste sags temaer."
            ),
        ),
        Figure(
            "referrals_declined",
            gettext_lazy("Afviste henvisninger"),
            lambda: _("Af periodens henvisninger: dem, operatøren afviste, med årsagen."),
        ),
        Figure(
            "referrals_unanswered",
            gettext_lazy("Henvisninger uden svar"),
            lambda: (
                ngettext(
                    "Af periodens henvisninger: dem, operatøren ikke svarede på inden for %(days)s "
                    "arbejdsdag (operatøren fik en påmindelse, eller henvisningen venter stadig).",
                    "Af periodens henvisninger: dem, operatøren ikke svarede på inden for %(days)s "
                    "arbejdsdage (operatøren fik en påmindelse, eller henvisningen venter stadig).",
                    settings.REFERRAL_OPERATOR_REMINDER_WORKING_DAYS,
                )
                % {"days": settings.REFERRAL_OPERATOR_REMINDER_WORKING_DAYS}
            ),
        ),
        # The supply of offers (offers), month by month.
        Figure(
            "offers_open",
            gettext_lazy("Tilbud"),
            lambda: _("Offentliggjorte, åbne tilbud den første dag i måneden."),
        ),
        Figure(
            "operators",
            gettext_lazy("Operatører"),
            lambda: _("Forskellige operatører, der driver mindst ét af månedens åbne tilbud."),
        ),
        Figure(
            "offers_overlapping",
            gettext_lazy("Tilbud med overlap"),
            lambda: _(
                "Åbne tilbud, der overlapper et tilbud fra en anden operatør: samme tema, og "
                "mindst én fase, virksomhedsstørrelse, branche og et område til fælles, som "
                "arbejdsdelingsrapporten finder dem."
            ),
        ),
        Figure(
            "overlap_groups",
            gettext_lazy("Grupper af overlappende tilbud"),
            lambda: _(
                "Tilbud med overlap samlet pr. tema: overlapper A med B og B med C, er alle tre "
                "én gruppe."
            ),
        ),
        # The division of labour (offers' report): the catalogue's open offers on the day.
        Figure(
            "level_mismatches",
            gettext_lazy("Tilbud på et andet niveau end deres temaer"),
            lambda: _(
                "Offentliggjorte, åbne tilbud, hvis niveau ikke svarer til det ansvarlige niveau "
                "for nogen af deres temaer. Klyngetemaet tæller på klyngeorganisationens niveau, "
                "når en klynge ejer tilbuddet."
            ),
        ),
        Figure(
            "overlap_score",
            gettext_lazy("Score"),
            lambda: _(
                "Gennemsnittet for gruppens par af overlappende tilbud (0–1): fælles faser og "
                "virksomhedsstørrelser vægter 0,3 hver, geografi 0,25 og brancher 0,15."
            ),
        ),
        Figure(
            "regional_not_nationwide",
            gettext_lazy("Regionale tilbud, der ikke er åbne i hele landet"),
            lambda: _(
                "Offentliggjorte, åbne tilbud på regionalt niveau, der kun gælder i bestemte "
                "regioner eller kommuner."
            ),
        ),
        Figure(
            "offers_and_operators_per_theme",
            gettext_lazy("Tilbud / operatører"),
            lambda: _(
                "For hvert tema og niveau: antal offentliggjorte, åbne tilbud med temaet på det "
                "niveau, og antal forskellige operatører, der driver dem."
            ),
        ),
        # The effect measurement's runs (evaluation), for the employment outcome.
        Figure(
            "effect_participants",
            gettext_lazy("Deltagere / med registerdata / i målingen"),
            lambda: _(
                "Deltagelser i tilbuddet (en virksomhed pr. år); af dem dem, der findes i "
                "registerdata; og af dem dem, der indgår i målingen af beskæftigelse."
            ),
        ),
        Figure(
            "effect_controls",
            gettext_lazy("Sammenligningsvirksomheder"),
            lambda: _(
                "Virksomheder, der ikke deltog, og som matchningen valgte at sammenligne "
                "deltagerne i målingen med."
            ),
        ),
        Figure(
            "effect_unmatched",
            gettext_lazy("Uden match"),
            lambda: _("Deltagere i målingen, som ingen sammenlignelig virksomhed blev fundet til."),
        ),
        Figure(
            "effect_naive",
            gettext_lazy("Simpel forskel"),
            lambda: _(
                "Deltagernes gennemsnitlige ændring i beskæftigelse minus alle mulige "
                "sammenligningsvirksomheders, uden matchning. Den viser, hvor meget matchningen "
                "ændrer."
            ),
        ),
        Figure(
            "effect_matched",
            gettext_lazy("Matchet effekt"),
            lambda: _(
                "Forskellen i ændringen i beskæftigelse mellem deltagerne og de matchede "
                "sammenligningsvirksomheder (matchet forskel-i-forskelle), med 95 %-interval i "
                "parentes."
            ),
        ),
        Figure(
            "effect_balance",
            gettext_lazy("Balance (SMD)"),
            lambda: _(
                "Den standardiserede forskel i gennemsnit mellem deltagere og "
                "sammenligningsvirksomheder, før og efter matchning, for hver egenskab, der "
                "matches på. Over 0,1 efter matchning er fremhævet."
            ),
        ),
        # Use of the portal (governance), without cookies.
        Figure(
            "searches_without_results",
            gettext_lazy("Søgninger uden resultater"),
            lambda: _(
                "Søgninger i tilbuddene, der ikke gav et eneste tilbud, talt pr. søgetekst; "
                "antal dage er de dage, søgeteksten blev brugt."
            ),
        ),
        Figure(
            "page_views",
            gettext_lazy("Visninger"),
            lambda: _(
                "Visninger af offentlige sider pr. side, talt på serveren uden cookies og "
                "IP-adresser; forudindlæsninger og administrationen tæller ikke med."
            ),
        ),
        Figure(
            "page_feedback",
            gettext_lazy("Tilbagemeldinger"),
            lambda: _(
                "Svar på „Fandt du det, du ledte efter?“ nederst på siderne: ja, nej, andelen "
                "ja og antallet af kommentarer pr. side."
            ),
        ),
    )
}


def figure(code: str) -> Figure:
    """The figure with ``code``; a ``KeyError`` names an undefined figure at once."""
    return FIGURES[code]
