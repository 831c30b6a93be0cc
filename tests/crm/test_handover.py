"""An adviser who leaves hands every open case to a colleague in one action."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crm import services
from crm.models import Case, Notification


@pytest.fixture
def colleague(make_user):
    return make_user(
        "anne", organisation="vaeksthus-midtjylland", role="Rådgiver", email="anne@vh.dk"
    )


def test_it_hands_every_open_case_to_the_colleague_with_an_entry_and_an_e_mail(
    make_case, adviser, colleague
):
    open_cases = [make_case(), make_case()]
    for case in open_cases:
        services.case_assign(case=case, adviser=adviser, actor=adviser)
    closed = make_case()
    services.case_assign(case=closed, adviser=adviser, actor=adviser)
    services.case_close(case=closed, outcome=Case.Outcome.GUIDED, actor=adviser)
    untouched = make_case()

    out = StringIO()
    call_command(
        "cases_hand_over", "--from", adviser.username, "--to", colleague.username, stdout=out
    )

    assert "2 open case(s) handed over." in out.getvalue()
    for case in open_cases:
        case.refresh_from_db()
        assert case.adviser == colleague
        entry = case.timeline.get(action="crm.case.handed_over")
        assert entry.is_public
        assert entry.payload == {"adviser": colleague.pk, "previous_adviser": adviser.pk}
        told = Notification.objects.filter(kind=Notification.Kind.CASE_ASSIGNED, case=case)
        assert "anne@vh.dk" in told.latest("id").body
    closed.refresh_from_db()
    assert closed.adviser == adviser
    untouched.refresh_from_db()
    assert untouched.adviser is None


def test_cases_go_only_to_an_active_adviser_of_the_same_hub(
    make_case, adviser, other_adviser, colleague
):
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])

    for target in (other_adviser, colleague, adviser):
        with pytest.raises(CommandError):
            call_command("cases_hand_over", "--from", adviser.username, "--to", target.username)

    case.refresh_from_db()
    assert case.adviser == adviser


def test_another_hubs_adviser_cannot_move_the_cases(make_case, adviser, other_adviser, colleague):
    case = make_case()
    services.case_assign(case=case, adviser=adviser, actor=adviser)

    with pytest.raises(services.CrmError):
        services.cases_hand_over(from_adviser=adviser, to_adviser=colleague, actor=other_adviser)

    case.refresh_from_db()
    assert case.adviser == adviser
