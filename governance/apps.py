from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Styring og brugerindflydelse")

    def ready(self) -> None:
        from crm import outbox
        from crm.services import personal_data_register
        from governance import services
        from governance.models import GovernanceMail

        outbox.kinds_register(self.label, GovernanceMail, on_sent=services.digest_mark_sent)
        personal_data_register(
            "governance.SavedSearch",
            key="saved_searches",
            export=services.saved_searches_export,
            erase=services.saved_searches_erase,
        )
        # Digests are part of their saved search: exported and deleted with it.
        personal_data_register(
            "governance.DigestDelivery",
            key="saved_search_digests",
            export=lambda person: [],
            erase=lambda person: 0,
        )
        personal_data_register(
            "governance.PageFeedback",
            key="page_feedback",
            export=services.page_feedback_export,
            erase=services.page_feedback_erase,
        )
