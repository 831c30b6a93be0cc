"""Public pages for guidance requests, and the analysts' statistics page.

Abuse handling, decided here:
- Rate limits per client address (``core.clientip``: behind ``TRUSTED_PROXIES`` the forwarded
  one): a Danish page with status 429 when hit (``core.ratelimit.ratelimited``).
- A honeypot field (``website``), hidden from people and assistive technology. When it is
  filled in, the page answers as if the request had been received, but stores nothing and sends
  nothing: a robot learns nothing to adapt to, and a person cannot reach the field.
- Size limits on every text field (``routing.forms``).

The status and confirmation pages are reached by a private link: they are never indexed, never
cached and never leak their address to the sites they link to.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.parsing import parse_int, without_nul
from core.privatepage import private_page
from core.ratelimit import over_limit, ratelimited, ratelimited_json
from crm import services as crm_services
from crm.cvr_register import CvrLookupUnavailable
from crm.cvr_register import cvr_lookup as crm_cvr_lookup
from crm.models import Case, Feedback, normalise_cvr
from crm.selectors import case_public_timeline
from offers.models import Municipality, Offer, Organisation, Theme
from routing.forms import (
    CVR_MAX_LENGTH,
    NEEDS_MAX_LENGTH,
    FeedbackForm,
    GuidancePageForm,
    explain_invalid_cvr,
)
from routing.models import GuidanceRequest
from routing.presentation import (
    hub_contact,
    long_date,
    public_status,
    register_company_json,
    register_form_values,
)
from routing.reasons import stored_reasons_html
from routing.services import (
    RoutingError,
    guidance_feedback_submit,
    guidance_request_submit,
    hub_choose,
)
from routing.statistics import guidance_statistics
from routing.timeline import public_timeline

logger = logging.getLogger(__name__)

#: Submissions per client address; generous enough for an office behind one address.
SUBMIT_RATE = getattr(settings, "ROUTING_SUBMIT_RATE", "20/h")
FEEDBACK_RATE = getattr(settings, "ROUTING_FEEDBACK_RATE", "10/h")
#: CVR lookups per client address: a company types one number, perhaps corrects it a few times.
CVR_LOOKUP_RATE = getattr(settings, "ROUTING_CVR_LOOKUP_RATE", "30/10m")


def _what_happens_next() -> dict[str, Any]:
    hubs = Organisation.objects.hubs().select_related("region").order_by("region__code")
    return {
        "response_days": settings.FIRST_RESPONSE_WORKING_DAYS,
        "retention_months": settings.CONTACT_RETENTION_MONTHS,
        "hubs": hubs,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def guidance(request: HttpRequest) -> HttpResponse:
    """The guidance form: /vejledning/ (``?offer=<external_id>`` when coming from an offer)."""
    return guidance_form_page(request)


def guidance_form_page(
    request: HttpRequest,
    *,
    form_class: type[GuidancePageForm] = GuidancePageForm,
    initial: dict[str, Any] | None = None,
    extra_context: dict[str, Any] | None = None,
    submit_options: Callable[[GuidancePageForm], dict[str, Any]] | None = None,
    done: Callable[[GuidanceRequest], HttpResponse] | None = None,
) -> HttpResponse:
    """The form's GET and POST, shared by /vejledning/ and the partners' embedded form, which
    adds fields (``form_class``), layout (``extra_context``: ``base_template``, ``form_action``),
    where the request came from (``submit_options``: ``source`` and ``origin``) and its receipt
    (``done``)."""
    extra_context = extra_context or {}
    cvr_message = ""
    if request.method == "POST" and LOOKUP_BUTTON in request.POST:
        # "Hent oplysninger fra CVR" without JavaScript: the same form again with the register's
        # facts in the fields left empty; nothing is sent and no case is created.
        if over_limit(request, group="routing:cvr", rate=CVR_LOOKUP_RATE):
            return ratelimited(request)
        form, cvr_message = _form_from_register(form_class, request.POST)
    elif request.method == "POST":
        if over_limit(request, group="routing:submit", rate=SUBMIT_RATE):
            return ratelimited(request)
        form = form_class(request.POST)
        if form.is_valid():
            if form.is_spam:
                logger.info("guidance form honeypot filled in; nothing stored")
                return render(request, "routing/received.html", extra_context)
            try:
                guidance_request = guidance_request_submit(
                    submission=form.submission(origin_offer=form.origin_offer()),
                    channel=GuidanceRequest.Channel.FORM,
                    form_nonce=form.cleaned_data["nonce"],
                    **(submit_options(form) if submit_options else {}),
                )
            except RoutingError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
            else:
                if done is not None:
                    return done(guidance_request)
                return redirect("routing:confirmation", token=guidance_request.token)
    else:
        form = form_class(
            initial={
                "nonce": secrets.token_urlsafe(24),
                "offer": request.GET.get("offer", ""),
                **(initial or {}),
            }
        )
    origin_offer = None
    offer_id = form["offer"].value()
    if offer_id:
        origin_offer = (
            Offer.objects.published().filter(external_id=without_nul(str(offer_id))[:100]).first()
        )
    context = {
        "form": form,
        "origin_offer": origin_offer,
        "cvr_message": cvr_message,
        "lookup_button": LOOKUP_BUTTON,
        **_what_happens_next(),
        **extra_context,
    }
    return render(request, "routing/guidance.html", context)


#: The name of the form's second submit button, which looks the CVR number up instead of sending.
LOOKUP_BUTTON = "cvr_lookup"


def _form_from_register(
    form_class: type[GuidancePageForm], data: Any
) -> tuple[GuidancePageForm, str]:
    """The form as typed, with the register's facts in the company fields left empty.

    What the company typed is never replaced. Returns the (unbound) form and what the lookup
    found, for the status line under the CVR field.
    """
    fields = form_class.base_fields
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name == "website":
            continue
        if isinstance(field.widget, forms.CheckboxSelectMultiple | forms.SelectMultiple):
            values[name] = [without_nul(str(value))[:100] for value in data.getlist(name)[:50]]
        elif name in data:
            limit = getattr(field, "max_length", None) or NEEDS_MAX_LENGTH
            values[name] = without_nul(str(data.get(name, "")))[:limit]
    raw = str(values.get("cvr") or "")
    cvr = normalise_cvr(raw) if raw.strip() else ""
    message = (explain_invalid_cvr(cvr) if cvr else _("Skriv et CVR-nummer.")) or ""
    if not message:
        try:
            company = crm_cvr_lookup(cvr)
        except CvrLookupUnavailable:
            company = None
            message = _(
                "Vi kan ikke slå CVR-nummeret op lige nu. Skriv virksomhedens oplysninger selv "
                "– formularen virker som normalt."
            )
        else:
            if company is None:
                message = _(
                    "Vi fandt ikke CVR-nummeret %(cvr)s i CVR-registeret. Skriv virksomhedens "
                    "oplysninger selv."
                ) % {"cvr": cvr}
        if company is not None:
            facts = register_form_values(company)
            typed_industry = str(values.get("industry") or "")
            if typed_industry and typed_industry != facts.get("industry"):
                # A group from another section than the one typed would not validate.
                facts.pop("industry_group", None)
            kept = [
                name
                for name, value in facts.items()
                if name in fields and str(values.get(name) or "").strip() not in ("", str(value))
            ]
            for name, value in facts.items():
                if name in fields and not str(values.get(name) or "").strip():
                    values[name] = value
            values["cvr"] = cvr
            message = _(
                "Udfyldt fra CVR-registeret: %(name)s. Tjek oplysningerne, og ret dem, hvis de "
                "ikke passer."
            ) % {"name": company.name}
            if kept:
                message += " " + _("Det, du selv havde skrevet, er ikke ændret.")
    return form_class(initial=values), message


@require_GET
def hub_preview(request: HttpRequest) -> JsonResponse:
    """Which Væksthus would get a request from this municipality (and these themes): JSON.

    The form uses it to update "Hvad sker der nu?" as the company picks its municipality.
    """
    code = request.GET.get("municipality", "")
    code_number = parse_int(code, max_digits=4)
    municipality = (
        Municipality.objects.select_related("region").filter(code=code_number).first()
        if code_number is not None
        else None
    )
    if municipality is None:
        return JsonResponse({"detail": _("Ukendt kommune.")}, status=404)
    themes = [slug for slug in request.GET.getlist("themes")[:20] if len(slug) <= 50]
    assignment = hub_choose(
        municipality_code=municipality.code,
        region_slug=municipality.region.slug,
        region_name=municipality.region.name,
        themes=themes,
        day=timezone.localdate(),
    )
    hub = Organisation.objects.hubs().get(slug=assignment.hub_slug)
    return JsonResponse({"hub": hub_contact(hub), "municipality": str(municipality)})


@never_cache
@require_GET
def cvr_lookup(request: HttpRequest) -> JsonResponse:
    """/vejledning/cvr/?cvr=…: what the CVR register shows about a company, as JSON.

    The guidance form offers to fill in the company's details from it (static/routing/
    guidance.js). Only the register's public facts about the company: name, address,
    municipality, main industry and employee band. 400 for a number that is no CVR number, 404
    when the register has none, 503 when the register cannot be asked, 429 past the rate limit.
    """
    if over_limit(request, group="routing:cvr", rate=CVR_LOOKUP_RATE, method="GET"):
        return ratelimited_json()
    raw = without_nul(request.GET.get("cvr", ""))[:CVR_MAX_LENGTH]
    cvr = normalise_cvr(raw) if raw.strip() else ""
    problem = explain_invalid_cvr(cvr) if cvr else _("Skriv et CVR-nummer.")
    if problem:
        return JsonResponse({"cvr": [problem]}, status=400)
    try:
        company = crm_cvr_lookup(cvr)
    except CvrLookupUnavailable:
        response = JsonResponse(
            {"detail": _("Opslag i CVR-registeret virker ikke lige nu.")}, status=503
        )
        response["Retry-After"] = "60"
        return response
    if company is None:
        return JsonResponse(
            {"detail": _("CVR-nummeret %(cvr)s findes ikke i CVR-registeret.") % {"cvr": cvr}},
            status=404,
        )
    return JsonResponse(register_company_json(company))


def _request_or_404(token: str) -> GuidanceRequest:
    found = GuidanceRequest.objects.with_case().by_token(token)
    if found is None:
        raise Http404
    return found


def _worded_matches(guidance_request: GuidanceRequest) -> list[dict[str, Any]]:
    """The offers matched when the request came in, with their reasons in the page's language."""
    external_ids = [m["external_id"] for m in guidance_request.matches]
    offers = {
        offer.external_id: offer
        for offer in Offer.objects.filter(external_id__in=external_ids).only(
            "external_id", "title", "summary"
        )
    }
    worded = stored_reasons_html(guidance_request.matches)
    return [
        {**m, "offer": offers.get(m["external_id"]), "worded_reasons": reasons}
        for m, reasons in zip(guidance_request.matches, worded, strict=True)
    ]


def _public_referrals(case: Case) -> list[dict[str, str]]:
    """Where the hub has referred the company, with a link to read more; declines left out."""
    referrals = (
        case.referrals.exclude(status="declined")
        .select_related("offer", "operator")
        .order_by("created_at", "pk")
    )
    found = []
    for referral in referrals:
        if referral.offer is not None:
            found.append({"name": referral.offer.title, "url": referral.offer.get_absolute_url()})
        elif referral.operator is not None:
            found.append({"name": referral.operator.name, "url": referral.operator.website})
    return found


@private_page
@require_GET
def confirmation(request: HttpRequest, token: str) -> HttpResponse:
    """The receipt after sending: safe to reload, shows the same result every time."""
    guidance_request = _request_or_404(token)
    return render(
        request, "routing/confirmation.html", confirmation_context(request, guidance_request)
    )


def confirmation_context(request: HttpRequest, guidance_request: GuidanceRequest) -> dict[str, Any]:
    """What the receipt shows (here and in a partner's embedded form)."""
    matches = _worded_matches(guidance_request)
    # A repeat request's receipt went to whoever sent it, not to the case's contact.
    repeat = guidance_request.repeat
    contact = guidance_request.case.contact if repeat is None else repeat.contact
    return {
        "guidance_request": guidance_request,
        "case": guidance_request.case,
        # Who calls: the hub that has the case now (it may have been handed on since routing).
        "hub": guidance_request.case.hub,
        "expected_response_by": long_date(crm_services.expected_response_by(guidance_request.case)),
        "matches": matches,
        "status_url": request.build_absolute_uri(guidance_request.get_absolute_url()),
        "receipt_email": contact.email if contact is not None else "",
    }


@private_page
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest, token: str) -> HttpResponse:
    """The company's private status page: status, hub, public timeline, feedback once closed."""
    guidance_request = _request_or_404(token)
    case = (
        Case.objects.select_related("hub")
        .prefetch_related(Prefetch("themes", queryset=Theme.objects.order_by("position")))
        .get(pk=guidance_request.case_id)
    )
    # A repeat request's link shows its own matches and the case's status and hub, not the case's
    # history, needs or feedback: it may come from anyone who knows the company's CVR.
    attached = guidance_request.repeat is not None
    has_feedback = not attached and Feedback.objects.filter(case=case).exists()
    can_give_feedback = not attached and not case.is_open and not has_feedback
    form = FeedbackForm()
    if request.method == "POST":
        if over_limit(request, group="routing:feedback", rate=FEEDBACK_RATE):
            return ratelimited(request)
        if attached:
            # No form is shown on this page; a crafted POST changes nothing.
            return redirect("routing:status", token=token)
        if not can_give_feedback:
            messages.error(
                request,
                _("Der er allerede givet tilbagemelding på denne sag.")
                if has_feedback
                else _("Du kan give tilbagemelding, når sagen er lukket."),
            )
            return redirect("routing:status", token=token)
        form = FeedbackForm(request.POST)
        if form.is_valid():
            try:
                guidance_feedback_submit(
                    guidance_request=guidance_request,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except RoutingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Tak for din tilbagemelding."))
                return redirect("routing:status", token=token)
    context = {
        "guidance_request": guidance_request,
        "case": case,
        "hub": case.hub,
        "status_label": public_status(case.status),
        # After "we have not forgotten you", the new date that e-mail gave.
        "expected_response_by": long_date(crm_services.expected_response_by(case)),
        "attached": attached,
        "timeline": [] if attached else public_timeline(case, case_public_timeline(case)),
        "referrals": [] if attached else _public_referrals(case),
        "matches": _worded_matches(guidance_request),
        "feedback_form": form if can_give_feedback else None,
        "has_feedback": has_feedback,
    }
    return render(request, "routing/status.html", context)


def can_read_statistics(user: Any) -> bool:
    return bool(user.is_active and (user.is_superuser or user.is_analyst))


@login_required
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """/analyse/vejledning/: requests and response times, for analysts."""
    if not can_read_statistics(request.user):
        raise PermissionDenied
    year_param = request.GET.get("year", "")
    year = parse_int(year_param, max_digits=4)
    if year is not None and not 2000 <= year <= 2100:
        year = None
    figures = guidance_statistics(year=year, today=timezone.localdate())
    # The figures (and the API) carry the Danish theme name; the page shows the reader's.
    labels = {
        theme.slug: theme.label
        for theme in Theme.objects.filter(slug__in=[row["theme"] for row in figures.by_theme])
    }
    return render(
        request,
        "routing/statistics.html",
        {
            "figures": figures,
            "themes": [
                {**row, "name": labels.get(row["theme"], row["name"])} for row in figures.by_theme
            ],
            "year": year,
            "response_days": settings.FIRST_RESPONSE_WORKING_DAYS,
            "min_count": settings.STATISTICS_MIN_COUNT,
        },
    )
