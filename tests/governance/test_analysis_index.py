"""/analyse/ lists the analysis pages a user may open, and only those."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from governance.analysis_index import PAGES

pytestmark = pytest.mark.django_db


def test_an_analyst_sees_every_analysis_page_and_each_opens(client: Client, make_user) -> None:
    analyst = make_user("analytiker", role="Analytiker")
    client.force_login(analyst)

    response = client.get("/analyse/")

    assert response.status_code == 200
    html = response.text
    opened = 0
    for page in PAGES:
        url = reverse(page.url_name)
        if page.may_open(analyst):
            assert f'href="{url}"' in html
            assert client.get(url).status_code == 200, url
            opened += 1
        else:
            assert f'href="{url}"' not in html
    assert opened >= 6


def test_an_editor_sees_only_the_pages_editors_may_open(client: Client, make_user) -> None:
    editor = make_user("redaktoer", organisation="region-midtjylland", role="Redaktør")
    client.force_login(editor)

    html = client.get("/analyse/").text

    listed = [page for page in PAGES if f'href="{reverse(page.url_name)}"' in html]
    assert listed, "an editor may open the division of labour and usage pages"
    for page in PAGES:
        url = reverse(page.url_name)
        status = client.get(url).status_code
        assert (page in listed) == (status == 200), (url, status)


def test_an_adviser_sees_only_the_referral_report_of_their_hub(client: Client, make_user) -> None:
    adviser = make_user("raadgiver", organisation="vaeksthus-midtjylland", role="Rådgiver")
    client.force_login(adviser)

    response = client.get("/analyse/")

    assert response.status_code == 200
    listed = [page for page in PAGES if f'href="{reverse(page.url_name)}"' in response.text]
    assert [page.url_name for page in listed] == ["governance:referral_report"]


def test_an_operator_is_told_that_no_analysis_is_open_to_them(client: Client, make_user) -> None:
    operator = make_user("operatoer", organisation="eksportraadet", role="Operatør")
    client.force_login(operator)

    response = client.get("/analyse/")

    assert response.status_code == 403
    assert "giver ikke adgang" in response.text
    assert client.get(reverse("governance:referral_report")).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client: Client) -> None:
    response = client.get("/analyse/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_admin_links_the_index(client: Client, make_user) -> None:
    client.force_login(make_user("analytiker", role="Analytiker"))
    assert 'href="/analyse/"' in client.get("/admin/").text
