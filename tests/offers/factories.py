from __future__ import annotations

from typing import Any

import factory

from offers.models import Offer, Organisation, StrengthPosition, Theme
from offers.search import refresh_search_vectors


class OfferFactory(factory.django.DjangoModelFactory[Offer]):
    """A published, nationwide state offer, indexed for search once created.

    Pass ``themes=["export", ...]`` (slugs) and any field; ``owner``/``operator`` take slugs too.
    """

    # A subclass whose tests index the whole catalogue once, after creating it, sets this False.
    _index_on_create = True

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
    def themes(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.themes.set(Theme.objects.filter(slug__in=list(extracted)))

    @classmethod
    def _after_postgeneration(cls, instance: Offer, create: bool, results: Any = None) -> None:
        super()._after_postgeneration(instance, create, results)
        if create and cls._index_on_create:
            refresh_search_vectors(offer_ids=[instance.pk])


REGION_OWNERS = {
    1081: "region-nordjylland",
    1082: "region-midtjylland",
    1083: "region-syddanmark",
    1084: "region-hovedstaden",
    1085: "region-sjaelland",
}


def local_to(municipality: int) -> dict[str, Any]:
    """The fields of a municipality's own offer, open only in that municipality."""
    return {
        "level": "municipality",
        "owner": f"kommune-{municipality}",
        "nationwide": False,
        "municipalities": [municipality],
    }


def regional_in(region: int) -> dict[str, Any]:
    """The fields of a region's own offer, open only in that region."""
    return {
        "level": "region",
        "owner": REGION_OWNERS[region],
        "nationwide": False,
        "regions": [region],
    }


def make_offer(**fields: Any) -> Offer:
    """An indexed offer (typed, unlike calling the factory class)."""
    return OfferFactory.create(**fields)


def make_export_start(**fields: Any) -> Offer:
    """Eksportrådet's published export offer for small, growing companies."""
    return make_offer(
        **{
            "external_id": "eksportstart",
            "title": "Eksportstart for små virksomheder",
            "themes": ["export"],
            "summary": "De første skridt på et nyt eksportmarked.",
            "owner": "eksportraadet",
            **fields,
        }
    )


def new_offer(**changes: Any) -> dict[str, Any]:
    """A new regional offer as the API and the import take it (slugs and codes)."""
    data: dict[str, Any] = {
        "external_id": "midt-digital-start",
        "title": "Digital start",
        "summary": "Sparring om jeres første digitale skridt.",
        "level": "region",
        "owner": "region-midtjylland",
        "operator": "vaeksthus-midtjylland",
        "themes": ["digitalisation"],
        "phases": ["startup"],
        "company_sizes": ["micro"],
        "industries": [],
        "nationwide": True,
        "regions": [],
        "municipalities": [],
        "price": "free",
        "status": "published",
    }
    data.update(changes)
    return data


def make_export_advice(**fields: Any) -> Offer:
    """Eksportrådet's free advice for small companies on their first export market."""
    return make_offer(
        **{
            "external_id": "eksport",
            "themes": ["export"],
            "title": "Eksportrådgivning til små virksomheder",
            "summary": "Gratis sparring om jeres første eksportmarked.",
            "owner": "eksportraadet",
            "price": "free",
            **fields,
        }
    )


def make_midt_digital(**fields: Any) -> Offer:
    """Region Midtjylland's digitalisation offer, run by its Væksthus, open nationwide."""
    return make_offer(
        **{
            "external_id": "midt-digital",
            "title": "Digitalt løft i Midtjylland",
            "level": "region",
            "themes": ["digitalisation"],
            "owner": "region-midtjylland",
            "operator": "vaeksthus-midtjylland",
            **fields,
        }
    )


def make_cluster(slug: str, name: str, *, position: str, **fields: Any) -> Organisation:
    """A cluster organisation for the strength position with slug ``position`` (state level
    and not publicly funded unless given)."""
    fields.setdefault("level", "state")
    return Organisation.objects.create(
        slug=slug,
        name=name,
        kind="cluster",
        strength_position=StrengthPosition.objects.get(slug=position),
        **fields,
    )


def make_export_offers(count: int) -> None:
    """``count`` export and capital offers, their owners taking turns (for query counts)."""
    for number in range(count):
        make_offer(
            title=f"Eksportrådgivning {number}",
            themes=["export", "capital"],
            owner="eksportraadet" if number % 2 else "vaekstfonden",
        )
