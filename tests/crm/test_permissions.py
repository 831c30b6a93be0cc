from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from crm.models import Case
from crm.permissions import (
    adviser_hub_id,
    cases_found_by_contact,
    may_take,
    sees_all_cases,
    sees_contact_of,
    works_cases,
)


def test_an_adviser_works_for_their_own_hub_only(adviser, other_adviser, hub, other_hub):
    assert adviser_hub_id(adviser) == hub.pk
    assert adviser_hub_id(other_adviser) == other_hub.pk


def test_editors_analysts_and_visitors_are_no_hub_s_advisers(editor, analyst):
    for user in (editor, analyst, AnonymousUser()):
        assert adviser_hub_id(user) is None


def test_an_inactive_adviser_works_for_no_hub(adviser):
    adviser.is_active = False
    assert adviser_hub_id(adviser) is None
    assert not works_cases(adviser)


def test_analysts_and_superusers_read_every_case_advisers_and_editors_do_not(
    analyst, superuser, adviser, editor
):
    assert sees_all_cases(analyst)
    assert sees_all_cases(superuser)
    assert not sees_all_cases(adviser)
    assert not sees_all_cases(editor)


def test_only_advisers_and_superusers_work_cases(adviser, superuser, analyst, editor):
    assert works_cases(adviser)
    assert works_cases(superuser)
    assert not works_cases(analyst)
    assert not works_cases(editor)


def test_contact_details_only_for_the_case_s_own_hub(
    make_case, adviser, other_adviser, analyst, superuser
):
    case = make_case()
    assert sees_contact_of(adviser, case)
    assert sees_contact_of(superuser, case)
    assert not sees_contact_of(other_adviser, case)
    assert not sees_contact_of(analyst, case)


def test_an_adviser_of_the_hub_may_take_a_case_that_is_not_theirs(
    make_case, adviser, other_adviser, superuser
):
    case = make_case()
    assert may_take(adviser, case)
    assert not may_take(other_adviser, case)
    assert not may_take(superuser, case)
    case.adviser = adviser
    assert not may_take(adviser, case)


def test_cases_are_found_by_contact_name_only_within_the_own_hub(
    make_case, adviser, other_adviser, analyst, superuser, other_hub
):
    here, there = make_case(), make_case(hub=other_hub)
    everything = Case.objects.filter(pk__in=[here.pk, there.pk])

    def found(user) -> set[Case] | None:
        cases = cases_found_by_contact(user, everything)
        return None if cases is None else set(cases)

    assert found(superuser) == {here, there}
    assert found(adviser) == {here}
    assert found(other_adviser) == {there}
    assert found(analyst) is None
