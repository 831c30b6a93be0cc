"""A demo partner: Vejle Municipality's business pages, managed by the demo user
``redaktoer-kommune`` (kommune-630), which may frame the embedded pages from a local test site
(http://localhost:8001). Idempotent."""

from __future__ import annotations

from typing import Any

from offers.models import Organisation
from partners.models import Partner


def load(*, stdout: Any) -> None:
    organisation = Organisation.objects.filter(slug="kommune-630").first()
    partner, created = Partner.objects.get_or_create(
        slug="vejle-erhverv",
        defaults={
            "name": "Vejle Kommune – Erhverv",
            "organisation": organisation,
            "origins": ["http://localhost:8001", "https://www.vejle.dk"],
            "accent_colour": "#005a31",
        },
    )
    stdout.write(
        f"partners: {'created' if created else 'kept'} {partner.slug}; its form at "
        f"/indlejret/{partner.slug}/vejledning/"
    )
