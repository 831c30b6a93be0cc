"""seed_demo's register: a panel, participations in 40 demo offers and a computed run, once."""

from __future__ import annotations

import io

import pytest

from evaluation import demo
from evaluation.models import EffectEstimate, EffectRun, PanelRow, Participation
from offers import demo as offers_demo


@pytest.mark.django_db
def test_the_demo_computes_effects_once_and_a_second_load_changes_nothing(monkeypatch, client):
    # Half the companies keeps the test quick; every offer still finds its participants.
    monkeypatch.setattr(demo, "COMPANIES", 10_000)
    offers_demo.load(stdout=io.StringIO())

    demo.load(stdout=io.StringIO())

    run = EffectRun.objects.get()
    assert run.status == EffectRun.Status.COMPLETED
    assert run.offers_done == demo.OFFERS
    employment = EffectEstimate.objects.published().pooled().filter(indicator="employment")
    assert employment.filter(status="ok").count() >= 30
    assert employment.filter(status="too_few").exists()
    rows, participations = PanelRow.objects.count(), Participation.objects.count()
    assert rows > 60_000

    out = io.StringIO()
    demo.load(stdout=out)

    assert EffectRun.objects.count() == 1
    assert (PanelRow.objects.count(), Participation.objects.count()) == (rows, participations)
    assert "already loaded" in out.getvalue()
    assert "Beskæftigelse efter tilbud" in client.get("/effekter/").content.decode()
