from __future__ import annotations

import datetime as dt

import factory

from governance.models import Commitment, GrowthAgreement, GrowthStrategy
from offers.models import Region


class GrowthStrategyFactory(factory.django.DjangoModelFactory[GrowthStrategy]):
    class Meta:
        model = GrowthStrategy

    region = factory.LazyFunction(lambda: Region.objects.get(slug="midtjylland"))
    title = factory.Sequence(lambda n: f"Strategi {n}")
    summary = "Grøn omstilling og digitalisering."
    period_start = 2024
    period_end = 2027


class GrowthAgreementFactory(factory.django.DjangoModelFactory[GrowthAgreement]):
    class Meta:
        model = GrowthAgreement

    region = factory.LazyFunction(lambda: Region.objects.get(slug="midtjylland"))
    year = 2026
    title = factory.LazyAttribute(lambda o: f"Vækstpartnerskabsaftale {o.year}")
    status = GrowthAgreement.Status.SIGNED
    signed_on = factory.LazyAttribute(
        lambda o: dt.date(o.year, 2, 1) if o.status != GrowthAgreement.Status.DRAFT else None
    )


class CommitmentFactory(factory.django.DjangoModelFactory[Commitment]):
    class Meta:
        model = Commitment
        skip_postgeneration_save = True

    agreement = factory.SubFactory(GrowthAgreementFactory)
    text = factory.Sequence(lambda n: f"Initiativ {n}")
    status = Commitment.Status.IN_PROGRESS

    @factory.post_generation
    def offers(self, create, extracted, **kwargs):
        if create and extracted:
            self.offers.set(extracted)
