"""Handover: an adviser who leaves hands all open cases to a colleague of the same hub, in one
action, after a confirmation page that lists the cases (``services.cases_hand_over``, the same
service as ``manage.py cases_hand_over``).

The adviser hands over their own cases; a hub's lead any adviser's of the hub; a superuser
anyone's. The colleague must be an active adviser of the same hub: a crafted POST naming
someone else gets a field error, and the service checks again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import services
from crm.admin.display import adviser_label
from crm.hub_words import hub_text
from crm.models import Case
from crm.permissions import adviser_hub_id, is_active_superuser, works_cases


class _AdviserField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        hub = obj.organisation.name if obj.organisation_id else ""
        return f"{adviser_label(obj)} ({hub})" if hub else adviser_label(obj)


class HandoverForm(forms.Form):
    from_adviser = _AdviserField(
        label=_("Rådgiveren, der overdrager sine sager"), queryset=get_user_model().objects.none()
    )
    to_adviser = _AdviserField(
        label=_("Kollegaen, der overtager sagerne"), queryset=get_user_model().objects.none()
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.select_related("organisation")
        order = ("first_name", "last_name", "username")
        self.fields["from_adviser"].queryset = (  # type: ignore[attr-defined]
            services.absence_advisers(actor).select_related("organisation").order_by(*order)
        )
        colleagues = users.filter(
            is_active=True,
            organisation__kind="business_hub",
            groups__name=get_user_model().Role.ADVISER.value,
        ).distinct()
        if not is_active_superuser(actor):
            colleagues = colleagues.filter(organisation_id=adviser_hub_id(actor) or 0)
        self.fields["to_adviser"].queryset = colleagues.order_by(*order)  # type: ignore[attr-defined]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        giver, taker = cleaned.get("from_adviser"), cleaned.get("to_adviser")
        if giver is not None and taker is not None:
            if giver.pk == taker.pk:
                self.add_error("to_adviser", _("Vælg en anden rådgiver."))
            elif giver.organisation_id != taker.organisation_id:
                self.add_error(
                    "to_adviser",
                    hub_text(
                        _("Sagerne kan kun overdrages til en aktiv rådgiver i samme %(hub)s.")
                    ),
                )
        return cleaned


def handover_view(request: HttpRequest, *, admin_context: dict[str, Any]) -> HttpResponse:
    """Step 1 (GET, or POST without ``confirm``): choose; step 2: the list to confirm; then go."""
    if not works_cases(request.user):
        raise PermissionDenied
    actor = request.user
    form = HandoverForm(request.POST or None, actor=actor, initial={"from_adviser": actor.pk})
    cases: list[Case] = []
    if request.method == "POST" and form.is_valid():
        giver, taker = form.cleaned_data["from_adviser"], form.cleaned_data["to_adviser"]
        if request.POST.get("confirm") == "1":
            try:
                moved = services.cases_hand_over(
                    from_adviser=giver,
                    to_adviser=taker,
                    actor=actor,  # type: ignore[arg-type]
                )
            except services.CrmError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request,
                    gettext("%(count)s åbne sager er overdraget til %(name)s.")
                    % {"count": moved, "name": adviser_label(taker)},
                )
                return HttpResponseRedirect(reverse("admin:crm_case_changelist"))
        if form.is_valid():
            cases = list(
                Case.objects.open()
                .filter(adviser=giver)
                .select_related("company")
                .order_by("first_response_due", "id")
            )
    confirming = request.method == "POST" and form.is_valid()
    context = {
        **admin_context,
        "title": gettext("Overdrag sager"),
        "form": form,
        "confirming": confirming,
        "cases": cases,
    }
    return TemplateResponse(request, "admin/crm/absence/handover.html", context)
