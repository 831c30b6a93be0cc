"""The guidance form as a partner embeds it: the page's form plus the page it was shown on."""

from __future__ import annotations

from django import forms

from partners.origins import PAGE_MAX_LENGTH
from routing.forms import GuidancePageForm


class EmbeddedGuidanceForm(GuidancePageForm):
    # The partner's page, as the embed code or the Referer gave it; checked again on POST against
    # the partner's registered origins (partners.origins.embedding_page), so a crafted value that
    # names another site is dropped.
    kilde = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean_kilde(self) -> str:
        return str(self.cleaned_data.get("kilde") or "")[: PAGE_MAX_LENGTH * 4]
