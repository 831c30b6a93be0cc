"""A version number for the catalogue, kept by PostgreSQL, so a process may cache what it derives
from the offers and know exactly when that copy is out of date (see ``offers.catalogue_version``).

- ``offers_catalogue_version`` holds one row whose value changes, at commit, in every transaction
  that changed ``offers_offer``, ``offers_offer_themes`` or ``offers_theme``. The new value comes
  from a sequence, so a value is never used twice: a rolled-back change leaves the old value, and
  nothing cached under the rolled-back one can ever look current.
- The value is written by a deferred constraint trigger, once per transaction (a transaction-local
  setting remembers it was done), so the row is locked only in the last moment before commit and
  never while the transaction still waits for offer rows (no deadlock with other writers).
- A statement trigger marks the transaction itself (setting ``offers.catalogue_changed``): until it
  commits, its own changes are visible only to itself and the version has not moved yet, so a
  reader in that transaction must not use a cached copy.
- TRUNCATE (tests empty tables that way) moves the value at once.

Not a Django model on purpose: the test runner empties every model's table between tests, and this
value must never go back to one it had before.

``offers_matching_published(query)`` returns the published offers whose search vector matches a
``tsquery``, with ``ts_rank``, always through the GIN index: PostgreSQL prices ``@@`` as nearly
free and would rather test every row, which is ten times slower here because each test unpacks a
stored vector (measured at 10,000 offers).
"""

from django.db import migrations

FORWARD = """
CREATE SEQUENCE offers_catalogue_version_seq;
CREATE TABLE offers_catalogue_version (
    id smallint PRIMARY KEY CHECK (id = 1),
    value bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO offers_catalogue_version (id, value) VALUES (1, nextval('offers_catalogue_version_seq'));

CREATE FUNCTION offers_catalogue_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('offers.catalogue_changed', 'on', true);
    RETURN NULL;
END $$;

CREATE FUNCTION offers_catalogue_bump() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE FUNCTION offers_matching_published(query tsquery)
RETURNS TABLE (id bigint, rank real)
LANGUAGE sql STABLE
SET enable_seqscan = off
AS $$
    SELECT o.id, ts_rank(o.search_vector, query)
    FROM offers_offer o
    WHERE o.status = 'published' AND o.search_vector @@ query
$$;
"""

TABLES = ("offers_offer", "offers_offer_themes", "offers_theme")

TRIGGERS = "".join(
    f"""
CREATE TRIGGER {table}_catalogue_changed
    AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION offers_catalogue_mark_changed();
CREATE CONSTRAINT TRIGGER {table}_catalogue_bump
    AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION offers_catalogue_bump();
CREATE TRIGGER {table}_catalogue_truncated
    AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION offers_catalogue_bump();
"""
    for table in TABLES
)

BACKWARD = (
    "".join(
        f"""
DROP TRIGGER IF EXISTS {table}_catalogue_changed ON {table};
DROP TRIGGER IF EXISTS {table}_catalogue_bump ON {table};
DROP TRIGGER IF EXISTS {table}_catalogue_truncated ON {table};
"""
        for table in TABLES
    )
    + """
DROP FUNCTION IF EXISTS offers_matching_published(tsquery);
DROP FUNCTION IF EXISTS offers_catalogue_bump();
DROP FUNCTION IF EXISTS offers_catalogue_mark_changed();
DROP TABLE IF EXISTS offers_catalogue_version;
DROP SEQUENCE IF EXISTS offers_catalogue_version_seq;
"""
)


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0005_search_term_trigram_on_lower"),
    ]

    operations = [
        migrations.RunSQL(FORWARD + TRIGGERS, BACKWARD),
    ]
