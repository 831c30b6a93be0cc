"""Public governance pages and the analyst pages under /analyse/."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.csvsafe import safe_row
from core.ratelimit import over_limit, ratelimited
from core.time import add_months, month_start
from governance import alerts, effects, services
from governance.access import analyst_required
from governance.charts import line_chart
from governance.forms import (
    PageFeedbackForm,
    PeriodForm,
    SaveSearchForm,
    ServiceStandardsForm,
)
from governance.models import (
    CatalogueSnapshot,
    Commitment,
    GrowthAgreement,
    GrowthStrategy,
    PageFeedback,
    PageView,
    ThemeSnapshot,
    ZeroResultSearch,
)
from governance.service_standards import ServiceStandard, operator_surveys, service_standards
from offers.models import Municipality, Offer, Organisation, Region, Theme

FEEDBACK_RATE = "10/h"
THANKS_PARAMETER = "tilbagemelding"
# How many rows the analyst pages show; the CSV export always has everything.
TABLE_LIMIT = 200


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _back_to(request: HttpRequest, target: str) -> str:
    """The page the feedback came from, with the thank-you marker; the front page if unsafe."""
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    parts = urlsplit(target)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key != THANKS_PARAMETER
    ]
    query.append((THANKS_PARAMETER, "tak"))
    return urlunsplit(("", "", parts.path, urlencode(query), "feedback"))


@require_POST
def feedback(request: HttpRequest) -> HttpResponse:
    """Anonymous "Fandt du det, du ledte efter?" from any public page, with or without script."""
    if over_limit(request, group="governance.feedback", rate=FEEDBACK_RATE):
        if _wants_json(request):
            message = _("Du har sendt for mange tilbagemeldinger. Prøv igen senere.")
            return JsonResponse({"message": message}, status=429)
        return ratelimited(request)
    form = PageFeedbackForm(request.POST)
    thanks = _("Tak for din tilbagemelding. Den hjælper os med at gøre portalen bedre.")
    if form.is_valid() and not form.is_spam():
        try:
            services.page_feedback_submit(
                path=form.cleaned_data["path"],
                answer=form.cleaned_data["answer"],
                comment=form.cleaned_data["comment"],
            )
        except services.GovernanceError as error:
            form.add_error(None, str(error))
    if form.is_valid():
        if _wants_json(request):
            return JsonResponse({"message": thanks})
        return HttpResponseRedirect(_back_to(request, form.cleaned_data["path"]), status=303)
    if _wants_json(request):
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        message = " ".join(" ".join(errs) for errs in errors.values())
        return JsonResponse({"message": message, "errors": errors}, status=400)
    return render(
        request,
        "governance/feedback_form.html",
        {"form": form, "back": _back_to(request, request.POST.get("path", "/"))},
        status=400,
    )


def _period(request: HttpRequest) -> tuple[PeriodForm, dt.date, dt.date]:
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    return form, start, end


@require_GET
@analyst_required()
def feedback_report(request: HttpRequest) -> HttpResponse:
    form, start, end = _period(request)
    in_period = PageFeedback.objects.filter(day__range=(start, end))
    per_page = (
        in_period.values("path")
        .annotate(
            yes=Count("id", filter=Q(answer="yes")),
            no=Count("id", filter=Q(answer="no")),
            comments=Count("id", filter=~Q(comment="")),
            total=Count("id"),
        )
        .order_by("-total", "path")[:TABLE_LIMIT]
    )
    pages: list[dict[str, Any]] = [
        {**page, "yes_share": round(100 * page["yes"] / page["total"])} for page in per_page
    ]
    comments = in_period.exclude(comment="").order_by("-day", "-id")[:TABLE_LIMIT]
    totals = in_period.aggregate(total=Count("id"), yes=Count("id", filter=Q(answer="yes")))
    context = {
        "form": form,
        "start": start,
        "end": end,
        "pages": pages,
        "comments": comments,
        "totals": totals,
        "limit": TABLE_LIMIT,
        "export_query": urlencode({"fra": start.isoformat(), "til": end.isoformat()}),
    }
    return render(request, "governance/analyse/feedback.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    # A byte-order mark and semicolons: Excel with Danish settings opens the file as columns.
    yield "\ufeff"
    for row in rows:
        # A comment typed by anyone must not run as a formula when the file is opened.
        yield writer.writerow(safe_row(str(value) for value in row))


@require_GET
@analyst_required()
def feedback_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, start, end = _period(request)
    answers = dict(PageFeedback.Answer.choices)
    feedback_rows = (
        PageFeedback.objects.filter(day__range=(start, end))
        .order_by("day", "id")
        .values_list("day", "path", "answer", "comment")
        .iterator(chunk_size=2000)
    )
    header = [_("dag"), _("side"), _("svar"), _("kommentar")]
    rows = (
        [day.isoformat(), path, str(answers.get(answer, answer)), comment]
        for day, path, answer, comment in feedback_rows
    )
    response = StreamingHttpResponse(
        _csv_rows(_chain(header, rows)),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"tilbagemeldinger-{start.isoformat()}-{end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _chain(first: list[str], rest: Iterable[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest


@require_GET
@analyst_required(editors=True)
def usage_report(request: HttpRequest) -> HttpResponse:
    form, start, end = _period(request)
    views = PageView.objects.filter(day__range=(start, end))
    pages = list(
        views.values("path").annotate(total=Sum("views")).order_by("-total", "path")[:TABLE_LIMIT]
    )
    searches = list(
        ZeroResultSearch.objects.filter(day__range=(start, end))
        .values("query")
        .annotate(total=Sum("searches"), days=Count("day"))
        .order_by("-total", "query")[:TABLE_LIMIT]
    )
    totals: dict[str, Any] = {
        "views": views.aggregate(total=Sum("views"))["total"] or 0,
        "zero_result_searches": ZeroResultSearch.objects.filter(day__range=(start, end)).aggregate(
            total=Sum("searches")
        )["total"]
        or 0,
    }
    context = {
        "form": form,
        "start": start,
        "end": end,
        "pages": pages,
        "searches": searches,
        "totals": totals,
        "limit": TABLE_LIMIT,
    }
    return render(request, "governance/analyse/usage.html", context)


def _open_offers(today: dt.date) -> QuerySet[Offer]:
    return (
        Offer.objects.published()
        .open_on(today)
        .only("id", "external_id", "title", "summary", "owner_id", "operator_id")
        .order_by("title", "pk")
    )


@require_GET
def business_regions(request: HttpRequest) -> HttpResponse:
    """/erhvervssamarbejder/: municipal collaborations with their members and open offers."""
    today = timezone.localdate()
    collaborations = list(
        Organisation.objects.filter(kind=Organisation.Kind.BUSINESS_REGION)
        .select_related("region")
        .prefetch_related(
            Prefetch("member_municipalities", queryset=Municipality.objects.order_by("name")),
            Prefetch("owned_offers", queryset=_open_offers(today), to_attr="open_owned"),
            Prefetch("operated_offers", queryset=_open_offers(today), to_attr="open_operated"),
        )
        .order_by("name")
    )
    for collaboration in collaborations:
        offers = {offer.pk: offer for offer in collaboration.open_owned}
        offers.update({offer.pk: offer for offer in collaboration.open_operated})
        collaboration.open_offers = sorted(  # type: ignore[attr-defined]
            offers.values(), key=lambda offer: (offer.title, offer.pk)
        )
    return render(request, "governance/business_regions.html", {"collaborations": collaborations})


@require_GET
def growth_agreements_index(request: HttpRequest) -> HttpResponse:
    """/vaekstaftaler/: every region with its current strategy and agreements."""
    regions = list(
        Region.objects.order_by("code").prefetch_related(
            Prefetch(
                "growth_agreements",
                queryset=GrowthAgreement.objects.public()
                .annotate(commitment_count=Count("commitments"))
                .order_by("-year"),
                to_attr="public_agreements",
            ),
            Prefetch(
                "growth_strategies",
                queryset=GrowthStrategy.objects.order_by("-period_start"),
                to_attr="strategies",
            ),
        )
    )
    return render(request, "governance/growth_index.html", {"regions": regions})


@require_GET
def growth_agreements_region(request: HttpRequest, region_slug: str) -> HttpResponse:
    """/vaekstaftaler/<region>/: the region's agreements, commitments and the offers behind them."""
    region = get_object_or_404(Region, slug=region_slug)
    today = timezone.localdate()
    agreements = list(
        GrowthAgreement.objects.public()
        .filter(region=region)
        .select_related("strategy")
        .prefetch_related(
            Prefetch(
                "commitments",
                queryset=Commitment.objects.order_by("position", "id").prefetch_related(
                    Prefetch("themes", queryset=Theme.objects.order_by("position", "name")),
                    Prefetch(
                        "responsible_organisations",
                        queryset=Organisation.objects.only("id", "name", "slug").order_by("name"),
                    ),
                    Prefetch("offers", queryset=_open_offers(today), to_attr="open_offers"),
                ),
            )
        )
        .order_by("-year")
    )
    # Effects count every offer that carried out a commitment, closed ones too: an effect is
    # measured years after the participation, when many offers have already ended.
    offer_ids = Commitment.offers.through.objects.filter(
        commitment__agreement__in=[agreement.pk for agreement in agreements]
    ).values_list("offer_id", flat=True)
    context = {
        "region": region,
        "strategies": GrowthStrategy.objects.filter(region=region).order_by("-period_start"),
        "agreements": agreements,
        "effects": effects.offer_effects_summary(offer_ids=sorted(set(offer_ids))),
    }
    return render(request, "governance/growth_region.html", context)


# The public summary covers this many complete months.
PUBLIC_SUMMARY_MONTHS = 3
# One rule for small numbers on /servicestandarder/: no share, median or mean from fewer cases
# or answers than this (governance.service_standards.ServiceStandard.public).
PUBLIC_MIN_RATINGS = 5


@require_GET
@analyst_required()
def service_standards_report(request: HttpRequest) -> HttpResponse:
    form = ServiceStandardsForm(request.GET or None)
    first, last, hub = form.choices()
    today = timezone.localdate()
    hub_id = hub.pk if hub is not None else None
    monthly = service_standards(first_month=first, last_month=last, today=today, hub_id=hub_id)
    months: dict[dt.date, list[ServiceStandard]] = {}
    for row in monthly:
        months.setdefault(row.month, []).append(row)
    context = {
        "form": form,
        "first": first,
        "last": last,
        "totals": service_standards(
            first_month=first, last_month=last, today=today, hub_id=hub_id, by_month=False
        ),
        "months": months,
        "operators": operator_surveys(first_month=first, last_month=last),
        "promise_days": settings.FIRST_RESPONSE_WORKING_DAYS,
    }
    return render(request, "governance/analyse/service_standards.html", context)


@require_GET
def service_standards_public(request: HttpRequest) -> HttpResponse:
    """/servicestandarder/: the last three complete months per Væksthus, for everyone."""
    today = timezone.localdate()
    last = add_months(month_start(today), -1)
    first = add_months(last, -(PUBLIC_SUMMARY_MONTHS - 1))
    hubs = service_standards(first_month=first, last_month=last, today=today, by_month=False)
    context = {
        "first": first,
        "last": last,
        "hubs": [hub.public(min_count=PUBLIC_MIN_RATINGS) for hub in hubs],
        # Survey figures only where enough companies answered (small numbers suppressed).
        "surveys": [(hub, hub.survey_published(min_answers=PUBLIC_MIN_RATINGS)) for hub in hubs],
        "operators": [
            (operator, operator.survey_published(min_answers=PUBLIC_MIN_RATINGS))
            for operator in operator_surveys(first_month=first, last_month=last)
        ],
        "promise_days": settings.FIRST_RESPONSE_WORKING_DAYS,
        "min_ratings": PUBLIC_MIN_RATINGS,
        "survey_days": settings.SURVEY_AFTER_DAYS,
    }
    return render(request, "governance/service_standards.html", context)


# --- Saved searches ----------------------------------------------------------------------------

SAVE_SEARCH_RATE = "10/h"


def _message_page(
    request: HttpRequest,
    *,
    title: str,
    text: str,
    variant: str = "info",
    status: int = 200,
    action: str | None = None,
    button: str | None = None,
) -> HttpResponse:
    context = {
        "title": title,
        "text": text,
        "variant": variant,
        "action": action,
        "button": button,
    }
    return render(request, "governance/saved_search_message.html", context, status=status)


@require_POST
def saved_search_create(request: HttpRequest) -> HttpResponse:
    """ "Gem søgning" on /tilbud/: e-mail and the search's query string, then double opt-in."""
    if over_limit(request, group="governance.saved_search", rate=SAVE_SEARCH_RATE):
        return ratelimited(request)
    form = SaveSearchForm(request.POST)
    if form.is_valid() and not form.is_spam():
        try:
            services.saved_search_create(
                email=form.cleaned_data["email"], query_string=form.cleaned_data["query"]
            )
        except services.GovernanceError as error:
            form.add_error("email", str(error))
    if not form.is_valid():
        summary = alerts.describe(request.POST.get("query", ""), today=timezone.localdate())
        return render(
            request,
            "governance/save_search_form.html",
            {"form": form, "summary": summary},
            status=400,
        )
    return HttpResponseRedirect(reverse("governance:saved_search_sent"), status=303)


@require_GET
def saved_search_sent(request: HttpRequest) -> HttpResponse:
    return _message_page(
        request,
        title=_("Tjek din e-mail"),
        text=_(
            "Vi har sendt en e-mail med et link. Åbn linket for at bekræfte, at du vil have en "
            "ugentlig oversigt over nye og ændrede tilbud i søgningen. Linket virker i tre dage. "
            "Har du allerede bekræftet søgningen, sender vi ikke en ny e-mail."
        ),
    )


def saved_search_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open links confirm nothing."""
    if request.method == "POST":
        try:
            _saved, already = services.saved_search_confirm(token=token)
        except services.GovernanceError as error:
            return _message_page(
                request,
                title=_("Søgningen kunne ikke bekræftes"),
                text=str(error),
                variant="error",
                status=400,
            )
        return _message_page(
            request,
            title=_("Søgningen er gemt"),
            text=_("Søgningen var allerede bekræftet. Du får en oversigt hver mandag.")
            if already
            else _(
                "Tak. Du får en e-mail hver mandag, når der er nye eller ændrede tilbud i "
                "søgningen. Du kan afmelde dig med ét klik i hver e-mail."
            ),
            variant="success",
        )
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return _message_page(
        request,
        title=_("Bekræft din gemte søgning"),
        text=_("Tryk på knappen for at få en ugentlig oversigt over nye og ændrede tilbud."),
        action=request.path,
        button=_("Bekræft søgningen"),
    )


@csrf_exempt
def saved_search_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; POST unsubscribes (also straight from the mail program, RFC 8058).

    Exempt from CSRF: the signed link is what authorises it, and mail programs post without a
    form. Unsubscribing twice is harmless, so forging the request gains nothing.
    """
    if request.method == "POST":
        try:
            deleted = services.saved_search_unsubscribe(token=token)
        except services.GovernanceError as error:
            return _message_page(
                request,
                title=_("Afmeldingen mislykkedes"),
                text=str(error),
                variant="error",
                status=400,
            )
        return _message_page(
            request,
            title=_("Du er afmeldt"),
            text=_("Du får ikke flere e-mails om søgningen, og vi har slettet din e-mailadresse.")
            if deleted
            else _("Du er allerede afmeldt. Vi har ikke din e-mailadresse for denne søgning."),
            variant="success",
        )
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return _message_page(
        request,
        title=_("Afmeld gemt søgning"),
        text=_(
            "Tryk på knappen, så stopper de ugentlige e-mails, og vi sletter din e-mailadresse."
        ),
        action=request.path,
        button=_("Afmeld"),
    )


# --- Fewer but stronger ------------------------------------------------------------------------

TREND_MONTHS = 24


@require_GET
@analyst_required(editors=True)
def development_report(request: HttpRequest) -> HttpResponse:
    """/analyse/udvikling/: offers, operators and overlap per month, as a chart and a table."""
    snapshots = list(CatalogueSnapshot.objects.order_by("-month")[:TREND_MONTHS])[::-1]
    labels = [date_format(snapshot.month, "M Y") for snapshot in snapshots]
    series: list[tuple[str, list[int | None]]] = [
        (_("Tilbud"), [snapshot.offers for snapshot in snapshots]),
        (_("Operatører"), [snapshot.operators for snapshot in snapshots]),
        (_("Tilbud med overlap"), [snapshot.offers_in_overlaps for snapshot in snapshots]),
        (_("Grupper af overlappende tilbud"), [snapshot.overlaps for snapshot in snapshots]),
    ]
    chart = line_chart(labels=labels, series=series)
    # Below 768 px the page shows this one instead: about as wide as a phone's column, so its
    # 14-unit text is about 14 px there.
    narrow_chart = line_chart(
        labels=labels, series=series, width=360, height=300, max_x_labels=3, right=32
    )
    latest = snapshots[-1] if snapshots else None
    first = snapshots[0] if snapshots else None
    themes: list[dict[str, Any]] = []
    if latest is not None and first is not None:
        before = {
            (row.theme_id, row.level): row for row in ThemeSnapshot.objects.filter(snapshot=first)
        }
        for row in (
            ThemeSnapshot.objects.filter(snapshot=latest)
            .select_related("theme")
            .order_by("theme__position", "theme__name", "level")
        ):
            earlier = before.get((row.theme_id, row.level)) if first != latest else None
            themes.append(
                {
                    "row": row,
                    "offers_change": row.offers - earlier.offers if earlier else None,
                    "operators_change": row.operators - earlier.operators if earlier else None,
                }
            )
    context = {
        "chart": chart,
        "narrow_chart": narrow_chart,
        "snapshots": snapshots,
        "latest": latest,
        "first": first,
        "themes": themes,
    }
    return render(request, "governance/analyse/development.html", context)
