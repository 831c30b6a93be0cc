"""The pages a partner embeds in an iframe: the catalogue, a theme's catalogue, the guidance form.

``/indlejret/<partner>/…`` answers only for an active partner (404 otherwise, with the site's
no-framing headers), in a light layout with the partner's name, and with ``frame-ancestors`` set
to the partner's registered origins (``partners.embed``). The catalogue pages are kept like the
plain ones (``offers.public_cache``) under their own addresses, so neither reuses the other's
answers; the framing headers are added to every answer, kept or not, after the cache.

The guidance form posts to its own address inside the frame: the browser marks that POST
``Sec-Fetch-Site: same-origin`` (the frame's document is the portal's), so it needs no CSRF cookie
or token, which a third-party frame could not keep (``portal.csrf``). The client's rate limit is
the plain form's. The request is recorded with the partner and the page the form was shown on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.privatepage import private_page
from crm.models import Case
from crm.services import CaseOrigin
from offers.models import Theme
from offers.public_cache import serve_public
from offers.views import search_context
from partners.embed import accent_css, allow_framing
from partners.forms import EmbeddedGuidanceForm
from partners.models import Partner
from partners.origins import embedding_page
from routing.models import GuidanceRequest
from routing.views import confirmation_context, guidance_form_page

BASE_TEMPLATE = "partners/embed_base.html"


def embedded(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Finds the active partner (404 otherwise) and lets its origins frame whatever the view
    answers: the page, a form with errors, a 429."""

    @wraps(view)
    def wrapped(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        partner = Partner.objects.active().filter(slug=slug).first()
        if partner is None:
            raise Http404
        return allow_framing(view(request, partner, *args, **kwargs), partner)

    return wrapped


def _layout(partner: Partner) -> dict[str, Any]:
    return {
        "base_template": BASE_TEMPLATE,
        "embedded": True,
        "partner": partner,
        "accent_css": accent_css(partner),
        "guidance_path": reverse("partners:guidance", kwargs={"slug": partner.slug}),
    }


def _catalogue(request: HttpRequest, partner: Partner, theme: Theme | None) -> HttpResponseBase:
    def answer() -> HttpResponse:
        data: QueryDict = request.GET.copy()
        if theme is not None:
            data.setlist("theme", [theme.slug])
        context = search_context(request, data)
        path = request.path
        context.update(_layout(partner), search_path=path)
        if theme is not None:
            # The theme is the page's, not the visitor's choice: no chip, no count, no facet.
            result = context["result"]
            kept = [chip for chip in result.active_filters if chip.name != "theme"]
            context.update(result=replace(result, active_filters=kept), fixed_theme=theme)
        partial = request.GET.get("partial") == "1"
        template = "offers/includes/search_body.html" if partial else "partners/catalogue.html"
        return render(request, template, context)

    return serve_public(request, answer)


@require_GET
@embedded
def catalogue(request: HttpRequest, partner: Partner) -> HttpResponseBase:
    """/indlejret/<partner>/tilbud/: the whole catalogue."""
    return _catalogue(request, partner, None)


@require_GET
@embedded
def theme_catalogue(request: HttpRequest, partner: Partner, theme: str) -> HttpResponseBase:
    """/indlejret/<partner>/tilbud/tema/<theme>/: the offers of one theme."""
    return _catalogue(request, partner, get_object_or_404(Theme, slug=theme))


@never_cache
@require_http_methods(["GET", "POST"])
@embedded
def guidance(request: HttpRequest, partner: Partner) -> HttpResponseBase:
    """/indlejret/<partner>/vejledning/: the guidance form only."""

    def submit_options(form: Any) -> dict[str, Any]:
        page = embedding_page(
            kilde=form.cleaned_data.get("kilde"), referer=None, registered=partner.origins
        )
        return {
            "source": Case.Source.PARTNER_EMBED,
            "origin": CaseOrigin(
                partner_id=partner.pk,
                page=page,
                details={"partner": partner.slug, "page": page},
            ),
        }

    def done(guidance_request: GuidanceRequest) -> HttpResponse:
        return redirect("partners:confirmation", slug=partner.slug, token=guidance_request.token)

    page = embedding_page(
        kilde=request.GET.get("kilde"),
        referer=request.headers.get("Referer"),
        registered=partner.origins,
    )
    return guidance_form_page(
        request,
        form_class=EmbeddedGuidanceForm,
        initial={"kilde": page},
        extra_context={**_layout(partner), "form_action": request.path},
        submit_options=submit_options,
        done=done,
    )


@private_page  # type: ignore[arg-type]
@require_GET
@embedded
def confirmation(request: HttpRequest, partner: Partner, token: str) -> HttpResponseBase:
    """The receipt inside the frame; the status link opens the portal in a new tab.

    Only for a request that came through this partner: a first request by its case's partner, a
    repeat request (attached to a case that may have come from elsewhere) by its own."""
    found = GuidanceRequest.objects.with_case().by_token(token)
    if found is None:
        raise Http404
    came_through = found.case.partner_id if found.repeat is None else found.repeat.partner_id
    if came_through != partner.pk:
        raise Http404
    context = confirmation_context(request, found)
    context.update(_layout(partner))
    return render(request, "routing/confirmation.html", context)
