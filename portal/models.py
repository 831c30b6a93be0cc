"""Operational records of the portal itself (no domain models live here)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a named background process proved it was alive by running a task."""

    name = models.CharField(_("navn"), max_length=50, unique=True)
    seen_at = models.DateTimeField(_("sidst set"))

    class Meta:
        verbose_name = _("livstegn")
        verbose_name_plural = _("livstegn")

    def __str__(self) -> str:
        return self.name
