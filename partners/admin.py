"""Partners in the admin: superusers register partners; a partner's own staff (users of its
organisation) see its embed codes and manage its API keys, and nobody else's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin import DeclaredLookupsOnly
from offers.models import Theme
from partners.models import KEY_PREFIX, ApiKey, Partner, Scope
from partners.services import (
    IssuedKey,
    PartnerError,
    api_key_create,
    api_key_revoke,
    api_key_rotate,
    default_expiry,
)


class PartnerForm(forms.ModelForm):
    origins = SimpleArrayField(
        forms.CharField(max_length=200),
        delimiter="\n",
        required=False,
        label=_("tilladte websteder"),
        help_text=Partner._meta.get_field("origins").help_text,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = Partner
        fields = ["name", "slug", "organisation", "origins", "accent_colour", "active"]

    def clean_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cleaned_data["origins"] if origin.strip()]


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


def _manages_any(request: HttpRequest) -> bool:
    """Whether the user manages a partner: asked for every admin page (the menu), so once per
    request."""
    cached: bool | None = getattr(request, "_partners_manages_any", None)
    if cached is None:
        cached = _is_staff(request) and Partner.objects.managed_by(request.user).exists()
        request._partners_manages_any = cached  # type: ignore[attr-defined]
    return cached


@admin.register(Partner)
class PartnerAdmin(DeclaredLookupsOnly):
    form = PartnerForm
    list_display = ("name", "slug", "origin_list", "active")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    autocomplete_fields = ("organisation",)
    readonly_fields = ("embed_codes",)
    list_select_related = ("organisation",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Partner]:
        return Partner.objects.managed_by(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _manages_any(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cases refer to it: set it inactive instead

    @admin.display(description=_("tilladte websteder"))
    def origin_list(self, partner: Partner) -> str:
        return ", ".join(partner.origins)

    @admin.display(description=_("indlejringskode"))
    def embed_codes(self, partner: Partner) -> str:
        if partner.pk is None:
            return gettext("Gem partneren først.")
        return format_html_join(
            "",
            '<p><strong>{}</strong></p><pre class="partners-embed-code">{}</pre>',
            (
                (label, embed_snippet(partner, path, title))
                for label, path, title in _embed_variants(partner)
            ),
        )


def _embed_variants(partner: Partner) -> list[tuple[str, str, str]]:
    urls = partner.embed_urls()
    variants = [
        (gettext("Hele kataloget"), urls["catalogue"], gettext("Find tilbud til din virksomhed")),
        (gettext("Kun vejledningsformularen"), urls["guidance"], gettext("Få vejledning")),
    ]
    for theme in Theme.objects.order_by("position", "name")[:3]:
        variants.append(
            (
                gettext("Kataloget for ét tema, f.eks. %(theme)s") % {"theme": theme.name},
                reverse(
                    "partners:theme_catalogue", kwargs={"slug": partner.slug, "theme": theme.slug}
                ),
                gettext("Tilbud om %(theme)s") % {"theme": theme.name},
            )
        )
    return variants


def embed_snippet(partner: Partner, path: str, title: str) -> str:
    """The iframe a partner pastes into its page. The referrer policy lets the page's address
    (not only its origin) reach the portal, so requests are recorded with the page."""
    return (
        f'<iframe src="{settings.SITE_URL}{path}" title="{title}" '
        'style="width:100%;min-height:900px;border:0" loading="lazy" '
        'referrerpolicy="no-referrer-when-downgrade"></iframe>'
    )


class ApiKeyCreateForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), label=_("partner"))
    name = forms.CharField(
        label=_("navn"), max_length=100, help_text=ApiKey._meta.get_field("name").help_text
    )
    scopes = forms.MultipleChoiceField(
        label=_("rettigheder"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_on = forms.DateField(
        label=_("udløber"),
        required=False,
        help_text=_("Højst 18 måneder frem; tom giver 18 måneder."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, partners: QuerySet[Partner], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["partner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = partners
        if partners.count() == 1:
            field.initial = partners.first()


@admin.register(ApiKey)
class ApiKeyAdmin(DeclaredLookupsOnly):
    list_display = (
        "name",
        "key_start",
        "partner",
        "scope_list",
        "state",
        "expires_at",
        "last_used_at",
    )
    list_select_related = ("partner",)
    readonly_fields = (
        "partner",
        "name",
        "key_start",
        "scope_list",
        "state",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "replaced_by",
        "last_used_at",
    )
    fields = readonly_fields
    change_form_template = "admin/partners/apikey/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return ApiKey.objects.managed_by(request.user).select_related("partner")

    def get_list_filter(self, request: HttpRequest) -> tuple[str, ...]:
        # The filter would list every partner; staff of one partner see only their own keys.
        return ("partner",) if request.user.is_superuser else ()

    def _manages_any(self, request: HttpRequest) -> bool:
        return _manages_any(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._manages_any(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            return self.get_queryset(request).filter(pk=obj.pk).exists()
        return self._manages_any(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._manages_any(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a key is made, rotated or revoked, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cases refer to the key that sent them

    @admin.display(description=_("nøgle"))
    def key_start(self, key: ApiKey) -> str:
        return f"{KEY_PREFIX}_{key.prefix}_…"

    @admin.display(description=_("rettigheder"))
    def scope_list(self, key: ApiKey) -> str:
        labels = dict(Scope.choices)
        return ", ".join(str(labels.get(scope, scope)) for scope in key.scopes)

    @admin.display(description=_("status"))
    def state(self, key: ApiKey) -> str:
        return {
            "active": gettext("Aktiv"),
            "revoked": gettext("Spærret"),
            "expired": gettext("Udløbet"),
        }[key.state_on(timezone.now())]

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/rotate/",
                self.admin_site.admin_view(require_POST(self.rotate_view)),
                name="partners_apikey_rotate",
            ),
            path(
                "<path:object_id>/revoke/",
                self.admin_site.admin_view(require_POST(self.revoke_view)),
                name="partners_apikey_revoke",
            ),
            *super().get_urls(),
        ]

    def _scoped(self, request: HttpRequest, object_id: str) -> ApiKey:
        if not object_id.isdigit():
            raise Http404
        key = self.get_queryset(request).filter(pk=int(object_id)).first()
        if key is None:
            raise Http404
        return key

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        partners = Partner.objects.managed_by(request.user).filter(active=True)
        form = ApiKeyCreateForm(request.POST or None, partners=partners)
        now = timezone.now()
        if request.method == "POST" and form.is_valid():
            expires_on = form.cleaned_data["expires_on"]
            expires_at = (
                default_expiry(now)
                if expires_on is None
                else timezone.make_aware(dt.datetime.combine(expires_on, dt.time(23, 59)))
            )
            try:
                issued = api_key_create(
                    partner=form.cleaned_data["partner"],
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    now=now,
                    actor=request.user,
                    expires_at=expires_at,
                )
            except PartnerError as error:
                field = {"expires_at": "expires_on"}.get(error.field or "", error.field)
                form.add_error(field if field in form.fields else None, error.message)
            else:
                return self._show_once(request, issued, title=gettext("Ny API-nøgle"))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.opts,
            "title": gettext("Ny API-nøgle"),
            "default_expiry": default_expiry(now),
        }
        return TemplateResponse(request, "admin/partners/apikey/add.html", context)

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        key = self._scoped(request, object_id)
        try:
            issued = api_key_rotate(key=key, now=timezone.now(), actor=request.user)
        except PartnerError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("admin:partners_apikey_change", args=[key.pk]))
        return self._show_once(request, issued, title=gettext("Fornyet API-nøgle"), old=key)

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        key = self._scoped(request, object_id)
        api_key_revoke(key=key, now=timezone.now(), actor=request.user)
        messages.success(request, gettext("Nøglen er spærret og virker ikke længere."))
        return HttpResponseRedirect(reverse("admin:partners_apikey_change", args=[key.pk]))

    def _show_once(
        self, request: HttpRequest, issued: IssuedKey, *, title: str, old: ApiKey | None = None
    ) -> HttpResponse:
        if old is not None:
            old.refresh_from_db()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "issued": issued,
            "old": old,
        }
        response = TemplateResponse(request, "admin/partners/apikey/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response
