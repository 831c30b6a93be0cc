"""Partner organisations that embed the portal, and their API keys.

A partner (a municipality's business page, a trade association, a bank) frames the catalogue or
the guidance form on the origins it registered, and its systems call the API with keys its own
staff create in the admin. Every request that arrives this way is tagged with the partner (and
the page or the key) on its case (``crm.Case.partner``, ``partner_api_key``, ``source_page``).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.colours import MIN_CONTRAST, contrast_with_white
from partners.origins import normalise_origin
from partners.querysets import ApiKeyQuerySet, PartnerQuerySet


class Partner(models.Model):
    name = models.CharField(_("navn"), max_length=200)
    slug = models.SlugField(
        _("kort navn"),
        max_length=60,
        help_text=_("Indgår i adressen på de indlejrede sider: /indlejret/<kort navn>/."),
    )
    organisation = models.OneToOneField(
        "offers.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partner",
        help_text=_("Brugere i denne organisation administrerer partnerens API-nøgler."),
    )
    origins = ArrayField(
        models.CharField(max_length=200),
        verbose_name=_("tilladte websteder"),
        default=list,
        blank=True,
        help_text=_(
            "Et websted pr. linje, f.eks. https://www.vejle.dk. Kun disse må vise de "
            "indlejrede sider i en iframe."
        ),
    )
    accent_colour = models.CharField(
        _("accentfarve"),
        max_length=7,
        blank=True,
        help_text=_(
            "Valgfri, som #rrggbb. Skal have en kontrast på mindst 4,5:1 mod hvid, så hvid "
            "tekst på farven og farven på hvid kan læses."
        ),
    )
    active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now, editable=False)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partnere")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="partners_partner_unique_slug"),
            models.CheckConstraint(
                condition=Q(accent_colour="") | Q(accent_colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="partners_partner_accent_colour_format",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        normalised = []
        for origin in self.origins:
            value = normalise_origin(origin)
            if value is None:
                errors.setdefault("origins", []).append(
                    str(
                        _(
                            "%(origin)s er ikke et websted. Skriv f.eks. https://www.vejle.dk "
                            "(https, uden sti)."
                        )
                    )
                    % {"origin": origin}
                )
            elif value not in normalised:
                normalised.append(value)
        self.origins = normalised
        if self.accent_colour:
            ratio = contrast_with_white(self.accent_colour)
            if ratio is None:
                errors["accent_colour"] = [str(_("Skriv farven som #rrggbb, f.eks. #0059b3."))]
            elif ratio < MIN_CONTRAST:
                errors["accent_colour"] = [
                    str(
                        _(
                            "Farven har en kontrast på %(ratio).2f:1 mod hvid; den skal være "
                            "mindst 4,5:1. Vælg en mørkere farve."
                        )
                    )
                    % {"ratio": ratio}
                ]
            else:
                self.accent_colour = self.accent_colour.lower()
        if errors:
            raise ValidationError(errors)

    def embed_urls(self) -> dict[str, str]:
        return {
            "catalogue": reverse("partners:catalogue", kwargs={"slug": self.slug}),
            "guidance": reverse("partners:guidance", kwargs={"slug": self.slug}),
        }


class Scope(models.TextChoices):
    CATALOGUE_READ = "catalogue:read", _("Læse kataloget")
    GUIDANCE_SUBMIT = "guidance:submit", _("Sende henvendelser om vejledning")


KEY_PREFIX = "efp"


def secret_digest(secret: str) -> str:
    """SHA-256 of a key's secret part: 256 random bits need no slow hash, and a leaked table gives
    no key."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    """One key: ``efp_<prefix>_<secret>``. The prefix finds the row; only the secret's digest is
    stored, so the whole key is shown once, when it is made."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(
        _("navn"), max_length=100, help_text=_("Hvad nøglen bruges til, f.eks. „Hjemmesiden“.")
    )
    prefix = models.CharField(_("nøglens begyndelse"), max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(
        models.CharField(max_length=30, choices=Scope.choices),
        verbose_name=_("rettigheder"),
        default=list,
    )
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("oprettet af"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("udløber"))
    revoked_at = models.DateTimeField(_("spærret"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("spærret af"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("erstattet af"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="replaces",
    )
    last_used_at = models.DateTimeField(_("sidst brugt"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API-nøgle")
        verbose_name_plural = _("API-nøgler")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["prefix"], name="partners_apikey_unique_prefix"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="partners_apikey_expires_after_created",
            ),
        ]
        indexes = [
            # The partner's key list in the admin: WHERE partner_id = %s ORDER BY created_at DESC.
            models.Index(fields=["partner", "-created_at"], name="partners_apikey_partner"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({KEY_PREFIX}_{self.prefix}_…)"

    def state_on(self, now: dt.datetime) -> str:
        """``active``, ``revoked`` or ``expired`` at ``now``."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
