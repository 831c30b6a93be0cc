"""The sequence case references are drawn from (EF-<year>-<number>).

One sequence for all years: numbers are never reused, even across a new year, so a reference is
unique on its own and concurrent requests never collide.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS crm_case_reference_seq START 1",
            "DROP SEQUENCE IF EXISTS crm_case_reference_seq",
        ),
    ]
