"""Changes to ``routing_vocabularyword`` notify the public version's listeners
(``offers/0015``): the table is a source of the public version (``routing.apps``)."""

from django.db import migrations

TABLE = "routing_vocabularyword"


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0006_repeat_request_partner"),
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
