"""Bornholm's municipality is "Bornholms Regionskommune", not "Bornholm Kommune" (the name
0002_reference_data gave its organisation)."""

from typing import Any

from django.db import migrations

OFFICIAL = "Bornholms Regionskommune"


def forward(apps: Any, schema_editor: Any) -> None:
    Organisation = apps.get_model("offers", "Organisation")
    Organisation.objects.filter(slug="kommune-400", name="Bornholm Kommune").update(name=OFFICIAL)


def backward(apps: Any, schema_editor: Any) -> None:
    Organisation = apps.get_model("offers", "Organisation")
    Organisation.objects.filter(slug="kommune-400", name=OFFICIAL).update(name="Bornholm Kommune")


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0007_catalogue_version_per_transaction"),
    ]

    operations = [migrations.RunPython(forward, backward)]
