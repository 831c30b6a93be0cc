from __future__ import annotations

from typing import Any

import factory

from offers.models import Offer, Organisation, Theme
from offers.search import refresh_search_vectors


class OfferFactory(factory.django.DjangoModelFactory[Offer]):
    """A published, nationwide state offer, indexed for search once created.

    Pass ``themes=["export", ...]`` (slugs) and any field; ``owner``/``operator`` take slugs too.
    """

    class Meta:
        model = Offer
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"testtilbud-{n}")
    title = factory.Sequence(lambda n: f"Testtilbud {n}")
    summary = "Et tilbud til virksomheder."
    description = ""
    level = "state"
    owner = factory.LazyFunction(lambda: Organisation.objects.get(slug="erhvervsstyrelsen"))
    operator = factory.SelfAttribute("owner")
    phases = factory.LazyFunction(lambda: ["growth"])
    company_sizes = factory.LazyFunction(lambda: ["small"])
    price = "free"
    status = "published"
    nationwide = True

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        for key in ("owner", "operator"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = Organisation.objects.get(slug=kwargs[key])
        return kwargs

    @factory.post_generation
    def themes(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted:
            self.themes.set(Theme.objects.filter(slug__in=extracted))
        refresh_search_vectors(offer_ids=[self.pk])  # type: ignore[attr-defined]


def make_offer(**fields: Any) -> Offer:
    """An indexed offer (typed, unlike calling the factory class)."""
    return OfferFactory.create(**fields)
