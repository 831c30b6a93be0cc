from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who works in the portal: an adviser, an editor, an analyst or an operator.

    Every user belongs to one organisation (a Væksthus, a region, a municipality, a state agency,
    ...); what they may see and change is scoped by it.
    """

    class Role(models.TextChoices):
        ADVISER = "Rådgiver", _("Rådgiver")
        EDITOR = "Redaktør", _("Redaktør")
        ANALYST = "Analytiker", _("Analytiker")
        # Staff of an operator organisation: answer the referrals to it (crm.admin.operators).
        OPERATOR = "Operatør", _("Operatør")

    organisation = models.ForeignKey(
        "offers.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )

    class Meta:
        verbose_name = _("bruger")
        verbose_name_plural = _("brugere")

    @property
    def is_adviser(self) -> bool:
        return self.Role.ADVISER.value in self._group_names()

    @property
    def is_editor(self) -> bool:
        return self.Role.EDITOR.value in self._group_names()

    @property
    def is_analyst(self) -> bool:
        return self.Role.ANALYST.value in self._group_names()

    @property
    def is_operator(self) -> bool:
        return self.Role.OPERATOR.value in self._group_names()

    def _group_names(self) -> frozenset[str]:
        cached: frozenset[str] | None = getattr(self, "_group_names_cache", None)
        if cached is None:
            cached = frozenset(self.groups.values_list("name", flat=True))
            self._group_names_cache = cached
        return cached
