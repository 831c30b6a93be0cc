from django.apps import AppConfig
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

#: The version of the words editors added to the needs vocabulary, as SQL (text): a kept public
#: answer of the English search was expanded through them, so it changes with them.
VOCABULARY_VERSION_SQL = (
    "(SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text"
    " FROM routing_vocabularyword)"
)


def english_search_expansion(query: str) -> list[str]:
    """The catalogue search's extra words for a query on the English site: the Danish search
    words of the needs it names, from the needs vocabulary as matching uses it, the file with
    the words editors added ("export" → eksport, "funding" → finansiering). Danish queries are
    left alone: the catalogue's stemming serves them.

    The vocabulary's version is read anew (one small query, only when the search is not served
    from the kept answers): an answer kept under the public version that includes
    :data:`VOCABULARY_VERSION_SQL` must have been expanded through that very vocabulary."""
    from routing.vocabulary_store import current_vocabulary

    if not (get_language() or "").startswith("en"):
        return []
    return current_vocabulary(max_age=0).expansion(query)


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Vejledning og fordeling")

    def ready(self) -> None:
        from crm import outbox
        from crm.services import personal_data_register
        from crm.suggestions import wording_register
        from offers.public_cache import add_version_source
        from offers.search import query
        from routing.models import RoutingMail
        from routing.reasons import stored_reasons_html
        from routing.services import (
            guidance_requests_erase,
            guidance_requests_export,
            repeat_requests_erase,
            repeat_requests_export,
        )

        outbox.kinds_register(self.label, RoutingMail)
        wording_register(stored_reasons_html)
        if english_search_expansion not in query.query_expanders:
            query.query_expanders.append(english_search_expansion)
        add_version_source(VOCABULARY_VERSION_SQL, table="routing_vocabularyword")
        personal_data_register(
            "routing.GuidanceRequest",
            key="guidance_requests",
            export=guidance_requests_export,
            erase=guidance_requests_erase,
        )
        personal_data_register(
            "routing.RepeatRequest",
            key="repeat_requests",
            export=repeat_requests_export,
            erase=repeat_requests_erase,
        )
