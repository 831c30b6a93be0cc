from django.apps import AppConfig
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def english_search_expansion(query: str) -> list[str]:
    """The catalogue search's extra words for a query on the English site: the Danish search
    words of the needs it names, from the needs vocabulary ("export" → eksport, "funding" →
    finansiering). Danish queries are left alone: the catalogue's stemming serves them."""
    from routing.vocabulary import default_vocabulary

    if not (get_language() or "").startswith("en"):
        return []
    return default_vocabulary().expansion(query)


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Vejledning og fordeling")

    def ready(self) -> None:
        from crm import outbox
        from crm.services import personal_data_register
        from offers.search import query
        from routing.models import RoutingMail
        from routing.services import guidance_requests_erase, guidance_requests_export

        outbox.kinds_register(self.label, RoutingMail)
        if english_search_expansion not in query.query_expanders:
            query.query_expanders.append(english_search_expansion)
        personal_data_register(
            "routing.GuidanceRequest",
            key="guidance_requests",
            export=guidance_requests_export,
            erase=guidance_requests_erase,
        )
