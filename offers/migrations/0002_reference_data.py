"""Reference data every database needs: geography, core organisations, themes, strength positions.

The municipality list is the official one (Danmarks Statistik / DAWA codes) in
offers/reference/municipalities.csv. Loaded here, not by seed_demo, so that every migrated database
(production included) can route a guidance request from any of the 98 municipalities.
"""

import csv
from pathlib import Path

from django.db import migrations

REFERENCE = Path(__file__).resolve().parent.parent / "reference"

REGIONS = [
    (1081, "Region Nordjylland", "nordjylland", "Aalborg"),
    (1082, "Region Midtjylland", "midtjylland", "Viborg"),
    (1083, "Region Syddanmark", "syddanmark", "Vejle"),
    (1084, "Region Hovedstaden", "hovedstaden", "Hillerød"),
    (1085, "Region Sjælland", "sjaelland", "Sorø"),
]

# Væksthus (business hub) per region: name, address, phone.
HUBS = {
    1081: ("Væksthus Nordjylland", "Niels Jernes Vej 10, 9220 Aalborg Ø", "+45 96 35 44 00"),
    1082: ("Væksthus Midtjylland", "Birk Centerpark 40, 7400 Herning", "+45 88 88 88 50"),
    1083: ("Væksthus Syddanmark", "Vesterballevej 5, 7000 Fredericia", "+45 76 10 10 00"),
    1084: ("Væksthus Hovedstaden", "Gyngemose Parkvej 50, 2860 Søborg", "+45 38 17 17 17"),
    1085: ("Væksthus Sjælland", "Ahorn Allé 3-5, 4100 Ringsted", "+45 70 15 16 10"),
}

STATE_AGENCIES = [
    ("erhvervsstyrelsen", "Erhvervsstyrelsen", "https://erhvervsstyrelsen.dk"),
    ("eksportraadet", "Eksportrådet", "https://www.eksportraadet.dk"),
    ("innovationsfonden", "Innovationsfonden", "https://innovationsfonden.dk"),
    ("vaekstfonden", "Vækstfonden", "https://www.vf.dk"),
    ("eifo", "EIFO – Danmarks Eksport- og Investeringsfond", "https://www.eifo.dk"),
    ("energistyrelsen", "Energistyrelsen", "https://ens.dk"),
    ("miljoestyrelsen", "Miljøstyrelsen", "https://mst.dk"),
    ("patent-og-varemaerkestyrelsen", "Patent- og Varemærkestyrelsen", "https://www.dkpto.dk"),
    ("digitaliseringsstyrelsen", "Digitaliseringsstyrelsen", "https://digst.dk"),
    ("danmarks-erhvervsfremmebestyrelse", "Danmarks Erhvervsfremmebestyrelse", ""),
]

KNOWLEDGE_INSTITUTIONS = [
    ("aarhus-universitet", "Aarhus Universitet", 1082),
    ("dtu", "Danmarks Tekniske Universitet (DTU)", 1084),
    ("aalborg-universitet", "Aalborg Universitet", 1081),
    ("syddansk-universitet", "Syddansk Universitet", 1083),
    ("kobenhavns-universitet", "Københavns Universitet", 1084),
    ("teknologisk-institut", "Teknologisk Institut", 1082),
]

THEMES = [
    # slug, Danish name, English name, responsible level
    ("export", "Eksport", "Export", "state"),
    ("investment", "Udenlandske investeringer", "Foreign investment", "state"),
    ("capital", "Kapital og finansiering", "Capital and finance", "state"),
    ("research", "Forskning og innovation", "Research and innovation", "state"),
    ("digitalisation", "Digitalisering og automatisering", "Digitalisation and automation", "region"),
    ("growth", "Accelereret vækst", "Accelerated growth", "region"),
    ("clusters", "Klynger og netværk", "Clusters and networks", "region"),
    ("knowledge", "Samarbejde med videninstitutioner", "Collaboration with universities", "region"),
    ("authority", "Myndighedsopgaver", "Permits and local plans", "municipality"),
    ("business-service", "Lokal erhvervsservice", "Local business service", "municipality"),
    ("startup", "Iværksætteri", "Starting a business", "municipality"),
]

# Strength positions with their national cluster (slug, name).
STRENGTH_POSITIONS = [
    ("life-science", "Life science og velfærdsteknologi", "Life science and welfare technology",
     "cluster-life-science", "Danish Life Science Cluster"),
    ("energi", "Energiteknologi", "Energy technology", "cluster-energi", "Energy Cluster Denmark"),
    ("foedevarer", "Fødevarer og bioressourcer", "Food and bioresources",
     "cluster-foedevarer", "Food & Bio Cluster Denmark"),
    ("robotter", "Robotter og automatisering", "Robotics and automation",
     "cluster-robotter", "Odense Robotics"),
    ("digitale-teknologier", "Digitale teknologier", "Digital technologies",
     "cluster-digital", "Digital Lead"),
    ("maritime", "Det Blå Danmark og logistik", "Maritime and logistics",
     "cluster-maritime", "MARLOG – Det Blå Danmark"),
    ("byggeri", "Byggeri og byudvikling", "Construction and urban development",
     "cluster-byggeri", "BLOXHUB – Danish Construction Cluster"),
    ("vand-miljoe", "Vand og miljø", "Water and environment",
     "cluster-vand", "CLEAN – Danish Water & Environment Cluster"),
    ("design", "Livsstil og design", "Lifestyle and design",
     "cluster-design", "Lifestyle & Design Cluster"),
    ("turisme", "Turisme og oplevelser", "Tourism and experiences",
     "cluster-turisme", "Dansk Turisme Klynge"),
    ("innovativ-produktion", "Innovativ produktion", "Advanced manufacturing", "", ""),
    ("materialer", "Materialer og kemi", "Materials and chemistry", "", ""),
]


def load(apps, schema_editor):
    Region = apps.get_model("offers", "Region")
    Municipality = apps.get_model("offers", "Municipality")
    Organisation = apps.get_model("offers", "Organisation")
    Theme = apps.get_model("offers", "Theme")
    StrengthPosition = apps.get_model("offers", "StrengthPosition")

    regions = {}
    for code, name, slug, _seat in REGIONS:
        regions[code], _ = Region.objects.update_or_create(
            code=code, defaults={"name": name, "slug": slug}
        )
        Organisation.objects.update_or_create(
            slug=f"region-{slug}",
            defaults={
                "name": name,
                "kind": "region",
                "level": "region",
                "region": regions[code],
                "website": f"https://www.region{slug}.dk",
            },
        )
        hub_name, address, phone = HUBS[code]
        Organisation.objects.update_or_create(
            slug=f"vaeksthus-{slug}",
            defaults={
                "name": hub_name,
                "kind": "business_hub",
                "level": "region",
                "region": regions[code],
                "address": address,
                "contact_phone": phone,
                "contact_email": f"kontakt@vaeksthus-{slug}.dk",
                "inbox_email": f"nye-sager@vaeksthus-{slug}.dk",
                "website": f"https://www.vaeksthus-{slug}.dk",
            },
        )

    with (REFERENCE / "municipalities.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = int(row["code"])
            municipality, _ = Municipality.objects.update_or_create(
                code=code,
                defaults={"name": row["name"], "region": regions[int(row["region_code"])]},
            )
            Organisation.objects.update_or_create(
                slug=f"kommune-{code}",
                defaults={
                    # Bornholm's official name is "Bornholms Regionskommune" (see 0008).
                    "name": (
                        "Bornholms Regionskommune" if code == 400 else f"{row['name']} Kommune"
                    ),
                    "kind": "municipality",
                    "level": "municipality",
                    "region": regions[int(row["region_code"])],
                    "municipality": municipality,
                },
            )

    for slug, name, website in STATE_AGENCIES:
        Organisation.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "kind": "state_agency", "level": "state", "website": website},
        )
    for slug, name, region_code in KNOWLEDGE_INSTITUTIONS:
        Organisation.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "kind": "knowledge_institution",
                "level": "state",
                "region": regions[region_code],
            },
        )
    for position, (slug, name, name_en, level) in enumerate(THEMES):
        Theme.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "name_en": name_en,
                "responsible_level": level,
                "position": position,
            },
        )
    for slug, name, name_en, cluster_slug, cluster_name in STRENGTH_POSITIONS:
        strength, _ = StrengthPosition.objects.update_or_create(
            slug=slug, defaults={"name": name, "name_en": name_en}
        )
        if cluster_slug:
            Organisation.objects.update_or_create(
                slug=cluster_slug,
                defaults={
                    "name": cluster_name,
                    "kind": "cluster",
                    "level": "state",
                    "strength_position": strength,
                    "publicly_funded": True,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("offers", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
