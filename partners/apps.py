from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partnere")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from offers.public_cache import add_version_source
        from partners import schema  # noqa: F401  (registers the API key's security scheme)

        # An embedded page shows the partner's name and colour: kept answers change with them.
        add_version_source(
            "(SELECT count(*)::text || ':' || coalesce(max(xmin::text::bigint), 0)::text"
            " FROM partners_partner)",
            table="partners_partner",
        )
