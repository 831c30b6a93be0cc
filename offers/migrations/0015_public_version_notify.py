"""Every change to what the public version is read from notifies the channel
``portal_public_version`` at its commit (``offers.public_cache.VersionListener``).

A web process that listens knows the version without asking PostgreSQL on every request: the
version read after its LISTEN stays the version until a notification arrives. Here the function
and the triggers of the two tables of this app (the catalogue's version row, which the catalogue's
own triggers move, and the organisations); each app that adds a source adds its table's trigger.
"""

from django.db import migrations

FUNCTION = """
CREATE FUNCTION public_version_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Delivered at commit, once per transaction and table however many statements ran.
    PERFORM pg_notify('portal_public_version', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
"""


def trigger(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_public_version_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION public_version_notify();
"""


def trigger_dropped(table: str) -> str:
    return f"DROP TRIGGER IF EXISTS {table}_public_version_notify ON {table};"


TABLES = ("offers_catalogue_version", "offers_organisation")


class Migration(migrations.Migration):
    dependencies = [("offers", "0014_matching_published_weights")]

    operations = [
        migrations.RunSQL(
            FUNCTION + "".join(trigger(table) for table in TABLES),
            "".join(trigger_dropped(table) for table in TABLES)
            + "DROP FUNCTION IF EXISTS public_version_notify();",
        ),
    ]
