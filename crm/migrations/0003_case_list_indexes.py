from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_case_reference_sequence"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="case",
            name="crm_case_hub_status",
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["hub", "status", "first_response_due"],
                include=("id",),
                name="crm_case_hub_status",
            ),
        ),
        # The theme filter of the case list: WHERE theme_id = %s joined on case_id. Django's own
        # index on the many-to-many table has theme_id alone; this one makes the join (and the
        # list's COUNT(*)) an index-only scan. Not in the model state: the table is Django's.
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS crm_case_themes_theme_case "
            "ON crm_case_themes (theme_id, case_id)",
            "DROP INDEX IF EXISTS crm_case_themes_theme_case",
        ),
    ]
