from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Vejledning og fordeling")

    def ready(self) -> None:
        from crm import outbox
        from routing.models import RoutingMail

        outbox.kinds_register(self.label, RoutingMail)
