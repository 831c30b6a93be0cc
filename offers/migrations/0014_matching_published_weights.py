"""``offers_matching_published_weights(query)``: ``offers_matching_published`` with, for each
offer, how many positions of each weight class (D, C, B, A) match the query.

The guidance matching keeps these counts per word with its copy of the catalogue and computes
``ts_rank_cd`` of a query ORing words from them (``routing.catalogue.Catalogue.cover_density``).
Like ``offers_matching_published`` it always goes through the GIN index: joined to the offers
outside a function, PostgreSQL would read the whole table for a rare word.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION offers_matching_published_weights(query tsquery)
RETURNS TABLE (id bigint, rank real, d real, c real, b real, a real)
LANGUAGE sql STABLE
SET enable_seqscan = off
AS $$
    SELECT o.id, ts_rank(o.search_vector, query),
           ts_rank_cd('{1,0,0,0}', o.search_vector, query),
           ts_rank_cd('{0,1,0,0}', o.search_vector, query),
           ts_rank_cd('{0,0,1,0}', o.search_vector, query),
           ts_rank_cd('{0,0,0,1}', o.search_vector, query)
    FROM offers_offer o
    WHERE o.status = 'published' AND o.search_vector @@ query
$$;
"""

BACKWARD = "DROP FUNCTION IF EXISTS offers_matching_published_weights(tsquery);"


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0013_catalogue_version_cannot_combine"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
