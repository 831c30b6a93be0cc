"""The catalogue's version also moves when an offer's "cannot be combined with" list changes.

The guidance matching keeps each chosen offer's texts and that list with its copy of the catalogue
(``routing.catalogue``), reused for as long as the version stands; the list lives in a table of
its own, which the triggers of ``0006_catalogue_version`` did not watch.
"""

from django.db import migrations

TABLE = "offers_offer_cannot_combine_with"

FORWARD = f"""
CREATE TRIGGER {TABLE}_catalogue_changed
    AFTER INSERT OR UPDATE OR DELETE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION offers_catalogue_mark_changed();
CREATE CONSTRAINT TRIGGER {TABLE}_catalogue_bump
    AFTER INSERT OR UPDATE OR DELETE ON {TABLE}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION offers_catalogue_bump();
CREATE TRIGGER {TABLE}_catalogue_truncated
    AFTER TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION offers_catalogue_bump();
"""

BACKWARD = f"""
DROP TRIGGER IF EXISTS {TABLE}_catalogue_changed ON {TABLE};
DROP TRIGGER IF EXISTS {TABLE}_catalogue_bump ON {TABLE};
DROP TRIGGER IF EXISTS {TABLE}_catalogue_truncated ON {TABLE};
"""


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0012_offer_state_aid"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
