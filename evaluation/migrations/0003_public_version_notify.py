"""Changes to ``evaluation_effectrun`` notify the public version's listeners
(``offers/0015``): the table is a source of the public version (``evaluation.apps``)."""

from django.db import migrations

TABLE = "evaluation_effectrun"


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0002_effect_segments"),
        ("offers", "0015_public_version_notify"),
    ]

    operations = [
        migrations.RunSQL(
            f"""
CREATE TRIGGER {TABLE}_public_version_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION public_version_notify();
""",
            f"DROP TRIGGER IF EXISTS {TABLE}_public_version_notify ON {TABLE};",
        ),
    ]
