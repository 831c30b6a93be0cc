"""The guidance form as a partner embeds it: the page's form plus the page it was shown on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from partners.origins import PAGE_MAX_LENGTH
from routing.forms import GuidancePageForm


class EmbeddedGuidanceForm(GuidancePageForm):
    # The partner's page, as the embed code or the Referer gave it; checked again on POST against
    # the partner's registered origins (partners.origins.embedding_page), so a crafted value that
    # names another site is dropped.
    kilde = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The privacy page refuses framing: it opens in a new tab.
        self.fields["consent"].help_text = format_html(
            '{} <a href="{}" target="_blank" rel="noopener">{}</a>.',
            gettext("Vi gemmer kun det, du skriver her, og sletter det senest 36 måneder efter."),
            reverse("privacy"),
            gettext("Læs, hvordan vi behandler dine oplysninger (åbner i et nyt vindue)"),
        )

    def clean_kilde(self) -> str:
        return str(self.cleaned_data.get("kilde") or "")[: PAGE_MAX_LENGTH * 4]
