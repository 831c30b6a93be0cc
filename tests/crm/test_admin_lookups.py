"""An admin list is filtered only the ways its filters offer (``core.admin.DeclaredLookupsOnly``).

Django's admin accepts a query-string filter on any field of the listed model: whether a row is
then listed tells whether a field the user may not see contains a guess, and a status token can be
read a character at a time. Each probe below worked before the rule: it listed the row for the
right guess and not for a wrong one.
"""

from __future__ import annotations

import html
import re

import pytest
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from core.admin import DeclaredLookupsOnly
from crm import services as crm_services
from routing.services import guidance_request_submit
from tests.crm.factories import CaseFactory, CompanyFactory
from tests.routing.factories import submission

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "offers", "crm", "routing", "evaluation", "governance", "partners"}


def _project_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in PROJECT_APPS
    ]


def test_every_admin_of_the_portal_keeps_to_its_filters():
    admins = _project_admins()
    assert len(admins) > 20
    # DeclaredLookupsOnly, or (the offers' history admin) its rule in a lookup_allowed of its own.
    assert [
        model._meta.label
        for model, model_admin in admins
        if not isinstance(model_admin, DeclaredLookupsOnly)
        and type(model_admin).lookup_allowed is admin.ModelAdmin.lookup_allowed
    ] == []


def test_no_admin_list_can_be_searched_by_a_text_field_through_the_query_string(superuser):
    request = RequestFactory().get("/")
    request.user = superuser
    allowed = []
    for model, model_admin in _project_admins():
        filtered = {
            item if isinstance(item, str) else item[0]
            for item in model_admin.get_list_filter(request)
            if isinstance(item, (str, list, tuple))
        }
        for field in model._meta.get_fields():
            if (
                isinstance(field, (models.CharField, models.TextField))
                and field.name not in filtered
            ):
                for lookup in (f"{field.name}__icontains", f"{field.name}__startswith"):
                    if model_admin.lookup_allowed(lookup, "a", request):
                        allowed.append(f"{model._meta.label}: {lookup}")
    assert allowed == []


def test_the_filters_offered_still_filter(logged_in, adviser, hub):
    CaseFactory(hub=hub)
    client = logged_in(adviser)
    url = reverse("admin:crm_case_changelist")
    for query in ({"status": "all"}, {"hub": "all", "status": "all"}, {"q": "eksport"}):
        assert client.get(url, query).status_code == 200, query


def test_an_analyst_cannot_search_case_needs_through_the_list(logged_in, analyst, hub):
    CaseFactory(hub=hub, needs="Direktøren er syg, ring 22334455")
    client = logged_in(analyst)
    url = reverse("admin:crm_case_changelist")
    answer = client.get(url, {"hub": "all", "status": "all", "needs__icontains": "syg"})
    assert answer.status_code == 400
    assert b"22334455" not in answer.content


def test_another_hubs_adviser_cannot_search_a_shared_companys_needs(
    logged_in, make_case, other_adviser, other_hub
):
    company = CompanyFactory()
    make_case(company=company, needs="Ejeren vil sælge, ring 22334455")
    make_case(company=company, hub=other_hub, needs="Eksport")
    client = logged_in(other_adviser)
    url = reverse("admin:crm_case_changelist")
    for lookup in ("needs__contains", "outcome_text__icontains"):
        answer = client.get(url, {"hub": "all", "status": "all", lookup: "22334455"})
        assert answer.status_code == 400, lookup


def test_an_operator_cannot_search_the_referral_note_it_is_not_shown(
    logged_in, make_user, make_case, adviser, offer
):
    case = make_case()
    crm_services.case_assign(case=case, adviser=adviser, actor=adviser)
    crm_services.referral_create(
        case=case, offer=offer, actor=adviser, note="Direktøren er syg, ring kun på 22334455"
    )
    operator = make_user("eksport-anna", organisation="eksportraadet", role="Operatør")
    client = logged_in(operator)
    url = reverse("admin:crm_operatorreferral_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"note__contains": "22334455"}).status_code == 400


def test_a_status_token_cannot_be_read_off_the_request_list(logged_in, analyst):
    guidance_request = guidance_request_submit(submission=submission(), channel="form")
    client = logged_in(analyst)
    url = reverse("admin:routing_guidancerequest_changelist")
    assert client.get(url).status_code == 200
    for query in (
        {"token__startswith": guidance_request.token[:1]},
        {"token_hash__startswith": guidance_request.token_hash[:1]},
        {"case__id__exact": guidance_request.case_id},
    ):
        answer = client.get(url, query)
        assert answer.status_code == 400, query


def test_every_filter_link_of_every_list_still_answers(client, superuser, make_case, adviser):
    # Rows for the filters to offer choices from (reference data gives regions, municipalities,
    # organisations and themes; a case gives the CRM's).
    make_case()
    client.force_login(superuser)
    refused = []
    followed = 0
    for model, _model_admin in _project_admins():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page = client.get(url)
        if page.status_code != 200:
            continue
        links = sorted(set(re.findall(r'href="(\?[^"#]+)"', page.content.decode())))
        for link in links[:25]:
            answer = client.get(url + html.unescape(link))
            followed += 1
            if answer.status_code == 400 or "?e=1" in answer.get("Location", ""):
                refused.append(f"{url}{html.unescape(link)}")
    assert followed > 100
    assert refused == []
