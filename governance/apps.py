from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Styring og brugerindflydelse")

    def ready(self) -> None:
        from crm import outbox
        from governance.models import GovernanceMail
        from governance.services import digest_mark_sent

        outbox.kinds_register(self.label, GovernanceMail, on_sent=digest_mark_sent)
