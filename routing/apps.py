from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Vejledning og fordeling")

    def ready(self) -> None:
        from crm import outbox
        from crm.services import personal_data_register
        from routing.models import RoutingMail
        from routing.services import guidance_requests_erase, guidance_requests_export

        outbox.kinds_register(self.label, RoutingMail)
        personal_data_register(
            "routing.GuidanceRequest",
            key="guidance_requests",
            export=guidance_requests_export,
            erase=guidance_requests_erase,
        )
