from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Sager og virksomheder")

    def ready(self) -> None:
        from crm import checks, outbox  # noqa: F401 - checks registers itself
        from crm.models import Notification

        outbox.kinds_register(self.label, Notification.Kind)

        from crm.offer_notes import add_offer_note_source
        from crm.services.state_aid import state_aid_notes

        add_offer_note_source(state_aid_notes)
