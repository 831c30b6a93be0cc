"""The catalogue version's triggers remember their transaction by its id instead of a plain
``on``: a setting made for a whole session or role (``SET offers.catalogue_bumped = 'on'``,
``ALTER ROLE ... SET``) can then neither stop the version from moving nor make a transaction look
as if it had changed the catalogue. Readers compare ``offers.catalogue_changed`` with their own
transaction id (``offers.catalogue_version``)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION offers_catalogue_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('offers.catalogue_changed', pg_current_xact_id()::text, true);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION offers_catalogue_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'TRUNCATE' AND current_setting('offers.catalogue_bumped', true)
            IS NOT DISTINCT FROM pg_current_xact_id()::text THEN
        RETURN NULL;
    END IF;
    UPDATE offers_catalogue_version
       SET value = nextval('offers_catalogue_version_seq'), changed_at = now()
     WHERE id = 1;
    IF TG_OP <> 'TRUNCATE' THEN
        PERFORM set_config('offers.catalogue_bumped', pg_current_xact_id()::text, true);
    END IF;
    RETURN NULL;
END $$;
"""

BACKWARD = """
CREATE OR REPLACE FUNCTION offers_catalogue_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('offers.catalogue_changed', 'on', true);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION offers_catalogue_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'TRUNCATE'
       AND current_setting('offers.catalogue_bumped', true) IS NOT DISTINCT FROM 'on' THEN
        RETURN NULL;
    END IF;
    UPDATE offers_catalogue_version
       SET value = nextval('offers_catalogue_version_seq'), changed_at = now()
     WHERE id = 1;
    IF TG_OP <> 'TRUNCATE' THEN
        PERFORM set_config('offers.catalogue_bumped', 'on', true);
    END IF;
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0006_catalogue_version"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
