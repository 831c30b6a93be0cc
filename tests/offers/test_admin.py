import datetime as dt
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from offers.admin_forms import OFFER_FORM_FIELDS
from offers.catalogue_format import ALL_FIELDS
from offers.models import Offer, Organisation, StrengthPosition, Theme
from tests.offers.catalogue_factories import found_by_search
from tests.offers.factories import local_to, make_midt_digital, make_offer

CHANGELIST = reverse("admin:offers_offer_changelist")
ADD = reverse("admin:offers_offer_add")
IMPORT = reverse("admin:offers_offer_import")


def change_url(offer):
    return reverse("admin:offers_offer_change", args=[offer.pk])


def changelist_as(client, user, query: dict[str, str] | None = None) -> str:
    """The offer list as ``user`` sees it."""
    client.force_login(user)
    return client.get(CHANGELIST, query).content.decode()


@pytest.fixture
def regional_offer(db):
    return make_midt_digital(last_reviewed=dt.date(2024, 1, 1))


@pytest.fixture
def municipal_offer(db):
    return make_offer(
        external_id="aarhus-byggesag",
        title="Hurtig byggesag i Aarhus",
        themes=["authority"],
        last_reviewed=timezone.localdate(),
        **local_to(751),
    )


def form_data(**overrides):
    owner = Organisation.objects.get(slug="region-midtjylland")
    data = {
        "title": "Automatiseringstjek",
        "external_id": "midt-automatisering",
        "summary": "Et tjek af jeres muligheder for automatisering.",
        "description": "",
        "expected_result": "",
        "how_to_apply": "",
        "delivery_time": "",
        "languages": "da",
        "level": "region",
        "owner": owner.pk,
        "operator": owner.pk,
        "themes": [Theme.objects.get(slug="digitalisation").pk],
        "phases": ["growth"],
        "company_sizes": ["small", "medium"],
        "nationwide": "on",
        "price": "free",
        "url": "",
        "contact_email": "",
        "contact_phone": "",
        "status": "draft",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_an_editor_sees_only_offers_of_their_own_organisation(
    client, editor, regional_offer, municipal_offer
):
    body = changelist_as(client, editor)

    assert "Digitalt løft i Midtjylland" in body
    assert "Hurtig byggesag i Aarhus" not in body


def test_an_editor_cannot_open_or_change_another_organisations_offer(
    client, editor, municipal_offer
):
    client.force_login(editor)

    assert client.get(change_url(municipal_offer)).status_code == 302
    response = client.post(change_url(municipal_offer), form_data(title="Kapret"))
    assert response.status_code == 302
    assert Offer.objects.get(pk=municipal_offer.pk).title == "Hurtig byggesag i Aarhus"
    history = reverse("admin:offers_offer_history", args=[municipal_offer.pk])
    assert client.get(history).status_code in (403, 404)


def test_an_operator_sees_the_offers_it_runs_for_another_owner(
    client, make_user, regional_offer, municipal_offer
):
    hub_editor = make_user("vaeksthus", organisation="vaeksthus-midtjylland", role="Redaktør")
    body = changelist_as(client, hub_editor)

    assert "Digitalt løft i Midtjylland" in body
    assert "Hurtig byggesag i Aarhus" not in body


def test_an_adviser_may_look_at_their_own_organisations_offers_but_not_change_them(
    client, make_user, regional_offer, municipal_offer
):
    adviser = make_user("raadgiver", organisation="vaeksthus-midtjylland", role="Rådgiver")
    body = changelist_as(client, adviser)
    assert "Digitalt løft i Midtjylland" in body
    assert "Hurtig byggesag i Aarhus" not in body
    assert "Importér tilbud" not in body
    client.post(change_url(regional_offer), form_data(title="Ændret"))
    assert Offer.objects.get(pk=regional_offer.pk).title == "Digitalt løft i Midtjylland"
    assert client.get(IMPORT).status_code == 403


def test_an_analyst_without_an_organisations_offers_sees_an_empty_list(
    client, make_user, regional_offer
):
    analyst = make_user("analytiker", organisation="erhvervsstyrelsen", role="Analytiker")
    body = changelist_as(client, analyst)

    assert "Digitalt løft i Midtjylland" not in body


def test_a_superuser_sees_every_offer(client, make_user, regional_offer, municipal_offer):
    body = changelist_as(client, make_user("admin", is_superuser=True))

    assert "Digitalt løft i Midtjylland" in body
    assert "Hurtig byggesag i Aarhus" in body


def test_the_offer_list_shows_status_review_and_stale_flag_in_few_queries(
    client, editor, django_assert_max_num_queries
):
    for number in range(30):
        make_offer(
            owner="region-midtjylland",
            operator="vaeksthus-midtjylland" if number % 2 else "region-midtjylland",
            level="region",
            themes=["growth"],
            last_reviewed=None if number % 3 else timezone.localdate(),
        )
    client.force_login(editor)
    client.get(CHANGELIST)  # warm the session and permission caches

    # One more than before the partners' admin: the menu asks once whether the user manages one.
    with django_assert_max_num_queries(11):
        response = client.get(CHANGELIST)

    body = response.content.decode()
    assert body.count('class="field-offer_title"') == 30
    assert "Væksthus Midtjylland" in body


def test_in_english_the_offer_list_and_form_mark_the_offers_texts_as_danish(
    client, editor, regional_offer
):
    client.force_login(editor)
    english = {"accept-language": "en"}

    listing = client.get(CHANGELIST, headers=english).text
    form = client.get(change_url(regional_offer), headers=english).text

    assert f'<span lang="da">{regional_offer.title}</span>' in listing
    # An offer with no theme is found under a name, not under Django's "-".
    assert ">No theme</a>" in listing
    assert re.search(r'<input type="text" name="title"[^>]* lang="da"', form)
    assert re.search(r'<textarea name="description"[^>]* lang="da"', form)


def test_the_stale_filter_lists_offers_not_reviewed_for_twelve_months(
    client, editor, regional_offer
):
    make_offer(
        title="Nyligt gennemgået",
        owner="region-midtjylland",
        level="region",
        last_reviewed=timezone.localdate(),
    )
    body = changelist_as(client, editor, {"stale": "yes"})

    assert "Ikke gennemgået i 12 måneder" in body
    assert "Digitalt løft i Midtjylland" in body
    assert "Nyligt gennemgået" not in body


def test_the_open_filter_hides_closed_offers(client, editor, regional_offer):
    make_offer(
        title="Lukket pulje",
        owner="region-midtjylland",
        level="region",
        application_deadline=dt.date(2020, 1, 1),
    )
    body = changelist_as(client, editor, {"open": "yes"})

    assert "Digitalt løft i Midtjylland" in body
    assert "Lukket pulje" not in body


def test_an_editor_creates_an_offer_owned_by_their_organisation(client, editor):
    client.force_login(editor)
    form = client.get(ADD).context["adminform"].form
    assert list(form.fields["owner"].queryset.values_list("slug", flat=True)) == [
        "region-midtjylland"
    ]
    assert form.initial["owner"] == editor.organisation_id
    assert form.initial["nationwide"] is True

    response = client.post(ADD, form_data())

    assert response.status_code == 302, response.context["adminform"].form.errors
    offer = Offer.objects.get(external_id="midt-automatisering")
    assert offer.company_sizes == ["small", "medium"]
    assert list(offer.themes.values_list("slug", flat=True)) == ["digitalisation"]
    # Indexed for search by the admin save, themes included.
    assert found_by_search(offer, "automatiseringstjek")
    assert offer.history.first().history_user == editor


def test_an_editor_cannot_create_an_offer_for_another_organisation(client, editor):
    client.force_login(editor)
    other = Organisation.objects.get(slug="eksportraadet")

    response = client.post(ADD, form_data(owner=other.pk, operator=other.pk))

    assert response.status_code == 200
    assert "owner" in response.context["adminform"].form.errors
    assert not Offer.objects.exists()


def test_a_broken_rule_is_shown_in_danish_next_to_its_field(client, editor):
    client.force_login(editor)

    response = client.post(
        ADD,
        form_data(valid_from="2026-05-01", application_deadline="2026-04-01"),
    )

    errors = response.context["adminform"].form.errors
    assert errors["application_deadline"] == ["Ansøgningsfristen kan ikke ligge før gyldig fra."]
    assert "__all__" not in errors


def test_a_municipal_offer_without_municipalities_gets_an_error_on_that_field(client, make_user):
    kommune_editor = make_user("aarhus", organisation="kommune-751", role="Redaktør")
    client.force_login(kommune_editor)
    aarhus = Organisation.objects.get(slug="kommune-751")

    response = client.post(
        ADD,
        form_data(level="municipality", owner=aarhus.pk, operator=aarhus.pk),
    )

    errors = response.context["adminform"].form.errors
    assert errors["municipalities"] == ["Et kommunalt tilbud skal angive sine kommuner."]


def test_a_cluster_offer_must_stay_nationwide(client, make_user):
    cluster_editor = make_user("klynge", organisation="cluster-energi", role="Redaktør")
    client.force_login(cluster_editor)
    cluster = Organisation.objects.get(slug="cluster-energi")

    response = client.post(
        ADD,
        form_data(
            level="state", owner=cluster.pk, operator=cluster.pk, nationwide=None, regions=["1083"]
        ),
    )

    errors = response.context["adminform"].form.errors
    assert "Klyngers tilbud gælder altid i hele landet." in errors["nationwide"]


def test_editing_an_offer_keeps_its_external_id(client, editor, regional_offer):
    client.force_login(editor)

    response = client.post(
        change_url(regional_offer),
        form_data(
            title="Digitalt løft 2027",
            external_id="nyt-id",
            operator=Organisation.objects.get(slug="vaeksthus-midtjylland").pk,
            status="published",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    regional_offer.refresh_from_db()
    assert regional_offer.title == "Digitalt løft 2027"
    assert regional_offer.external_id == "midt-digital"
    assert found_by_search(regional_offer, "2027")


def test_a_published_offer_cannot_be_set_back_to_draft_in_the_form(client, editor, regional_offer):
    client.force_login(editor)

    form = client.get(change_url(regional_offer)).context["adminform"].form

    assert [value for value, _label in form.fields["status"].choices] == ["published", "archived"]


def test_the_actions_publish_archive_and_mark_reviewed_through_the_services(
    client, editor, regional_offer
):
    draft = make_offer(owner="region-midtjylland", level="region", status="draft")
    client.force_login(editor)

    client.post(CHANGELIST, {"action": "publish_offers", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "published"
    assert draft.published_by == editor

    client.post(
        CHANGELIST, {"action": "mark_offers_reviewed", "_selected_action": [regional_offer.pk]}
    )
    regional_offer.refresh_from_db()
    assert regional_offer.last_reviewed == timezone.localdate()

    response = client.post(
        CHANGELIST,
        {"action": "archive_offers", "_selected_action": [draft.pk, regional_offer.pk]},
        follow=True,
    )
    assert "2 tilbud er arkiveret." in response.content.decode()
    assert set(Offer.objects.values_list("status", flat=True)) == {"archived"}


def test_an_action_cannot_reach_another_organisations_offer(client, editor, municipal_offer):
    client.force_login(editor)

    client.post(CHANGELIST, {"action": "archive_offers", "_selected_action": [municipal_offer.pk]})

    assert Offer.objects.get(pk=municipal_offer.pk).status == "published"


def _upload(rows):
    content = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return SimpleUploadedFile("tilbud.jsonl", content.encode(), content_type="application/json")


def _row(**overrides):
    data = {
        "external_id": "midt-vaekst",
        "title": "Vækstforløb",
        "summary": "Et forløb for virksomheder med vækstambitioner.",
        "level": "region",
        "owner": "region-midtjylland",
        "operator": "vaeksthus-midtjylland",
        "themes": ["growth"],
        "phases": ["growth"],
        "company_sizes": ["small"],
        "price": "free",
        "status": "published",
    }
    data.update(overrides)
    return data


def test_an_editor_imports_offers_after_a_preview(client, editor):
    client.force_login(editor)
    assert "Importér tilbud" in client.get(CHANGELIST).content.decode()

    preview = client.post(IMPORT, {"file": _upload([_row()])})

    body = preview.content.decode()
    assert "Bekræft import" in body
    assert not Offer.objects.exists()

    done = client.post(IMPORT, {"token": preview.context["token"]}, follow=True)

    assert "1 nye" in done.content.decode()
    offer = Offer.objects.get(external_id="midt-vaekst")
    assert offer.published_by == editor


def test_the_import_rejects_rows_for_other_organisations_by_line(client, editor, municipal_offer):
    client.force_login(editor)

    response = client.post(
        IMPORT,
        {
            "file": _upload(
                [
                    _row(),
                    _row(
                        external_id="andres",
                        owner="eksportraadet",
                        operator="eksportraadet",
                        level="state",
                    ),
                    _row(external_id="aarhus-byggesag"),
                ]
            )
        },
    )

    body = response.content.decode()
    assert "linje 2, felt owner: din organisation hverken ejer eller driver tilbuddet" in body
    assert "linje 3, felt external_id: tilbuddet &#x27;aarhus-byggesag&#x27; tilhører" in body
    assert "Bekræft import" not in body
    assert Offer.objects.count() == 1


def test_the_import_confirmation_belongs_to_the_user_who_previewed(client, editor, make_user):
    client.force_login(editor)
    token = client.post(IMPORT, {"file": _upload([_row()])}).context["token"]
    other = make_user("anden", organisation="region-midtjylland", role="Redaktør")
    client.force_login(other)

    response = client.post(IMPORT, {"token": token}, follow=True)

    assert "Kontrollen er udløbet" in response.content.decode()
    assert not Offer.objects.exists()


def test_a_second_funded_cluster_for_a_strength_position_is_a_clear_admin_error(client, make_user):
    client.force_login(make_user("admin", is_superuser=True))
    position = StrengthPosition.objects.get(slug="energi")
    url = reverse("admin:offers_organisation_add")

    response = client.post(
        url,
        {
            "slug": "cluster-energi-vest",
            "name": "Energiklynge Vest",
            "kind": "cluster",
            "level": "state",
            "strength_position": position.pk,
            "publicly_funded": "on",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["publicly_funded"] == [
        "Der er allerede en offentligt finansieret national klynge for denne styrkeposition."
    ]
    assert not Organisation.objects.filter(slug="cluster-energi-vest").exists()


def save_in_admin(client, user, obj, data: dict) -> None:
    """``user`` saves ``obj``'s change form in the admin with ``data``."""
    client.force_login(user)
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors


def test_renaming_an_operator_refreshes_the_search_text_of_its_offers(
    client, superuser, regional_offer
):
    hub = Organisation.objects.get(slug="vaeksthus-midtjylland")
    kept = ["slug", "kind", "level", "website", "contact_email", "contact_phone", "address"]
    data = {name: getattr(hub, name) for name in [*kept, "inbox_email"]}

    save_in_admin(
        client, superuser, hub, {**data, "region": hub.region_id, "name": "Erhvervshus Midtjylland"}
    )

    regional_offer.refresh_from_db()
    assert found_by_search(regional_offer, "erhvervshus")


def test_renaming_a_theme_refreshes_the_search_text_of_its_offers(
    client, superuser, regional_offer
):
    theme = Theme.objects.get(slug="digitalisation")
    data = {
        name: getattr(theme, name) for name in ["slug", "name_en", "responsible_level", "position"]
    }
    assert not found_by_search(regional_offer, "kvanteteknologi")

    save_in_admin(client, superuser, theme, {**data, "name": "Kvanteteknologi"})

    assert found_by_search(regional_offer, "kvanteteknologi")


def test_the_offer_form_has_every_field_of_the_catalogue_format_but_the_review_date():
    # An editor can change in the admin whatever an import can, except the review date, which
    # only the review action sets.
    assert sorted(OFFER_FORM_FIELDS) == sorted(set(ALL_FIELDS) - {"last_reviewed"})


def test_the_not_combinable_picker_offers_only_offers_the_editor_may_edit(
    client, editor, regional_offer, municipal_offer
):
    # A pair shows on both offers' public pages, so another organisation's offer is not offered.
    make_offer(title="Digital kladde", owner="region-midtjylland", level="region", status="draft")
    client.force_login(editor)

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "offers",
            "model_name": "offer",
            "field_name": "cannot_combine_with",
            "term": "i",
        },
    )

    assert sorted(item["text"] for item in response.json()["results"]) == [
        "Digital kladde",
        "Digitalt løft i Midtjylland",
    ]


def test_the_import_explains_a_file_that_is_not_utf8(client, editor):
    client.force_login(editor)
    upload = SimpleUploadedFile("tilbud.json", '[{"title": "Væks"}]'.encode("latin-1"))

    response = client.post(IMPORT, {"file": upload})

    assert "Filen skal være gemt som UTF-8." in response.content.decode()


# --- The editor's form: made for the job -------------------------------------------------------


def test_saving_with_the_review_box_ticked_marks_the_offer_reviewed_today(
    client, editor, regional_offer
):
    client.force_login(editor)
    form = client.get(change_url(regional_offer)).content.decode()
    box = form[form.rindex("<input", 0, form.index('name="mark_reviewed"')) :]
    assert " checked" in box[: box.index(">")]

    status = regional_offer.status
    response = client.post(change_url(regional_offer), form_data(mark_reviewed="on", status=status))
    assert response.status_code == 302
    regional_offer.refresh_from_db()
    assert regional_offer.last_reviewed == timezone.localdate()

    regional_offer.last_reviewed = dt.date(2024, 1, 1)
    regional_offer.save(update_fields=["last_reviewed"])
    client.post(change_url(regional_offer), form_data(status=status))  # the box left empty
    regional_offer.refresh_from_db()
    assert regional_offer.last_reviewed == dt.date(2024, 1, 1)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("published", "vises nu på portalen"),
        ("draft", "er gemt som kladde. Virksomhederne kan ikke se det"),
    ],
)
def test_the_message_after_saving_says_whether_companies_see_the_offer(
    client, editor, status, expected
):
    client.force_login(editor)

    response = client.post(ADD, form_data(status=status), follow=True)

    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1
    assert "Automatiseringstjek" in messages[0] and expected in messages[0]
    if status == "published":
        assert 'href="/tilbud/midt-automatisering/"' in messages[0]


def test_the_form_has_language_boxes_date_inputs_help_and_capitalised_labels(
    client, editor, regional_offer
):
    regional_offer.languages = ["da", "fo"]  # an imported code the boxes do not list
    regional_offer.save(update_fields=["languages"])
    client.force_login(editor)

    html = client.get(change_url(regional_offer)).content.decode()

    assert 'type="checkbox" name="languages" value="en"' in html
    assert 'name="languages" value="fo"' in html  # kept, not silently dropped
    assert 'type="date" name="valid_from"' in html
    assert "Hvad står virksomheden med bagefter?" in html
    assert "Trin for trin" in html
    labels = re.findall(r"<(?:label|legend)[^>]*>([^<:]+)", html)
    for label in ("Faser", "Virksomhedsstørrelser", "Regioner", "Kommuner", "Sprog"):
        assert label in labels
    assert not [label for label in labels if label[:1].islower()]

    client.post(
        change_url(regional_offer), form_data(languages=["en", "fo", "da"], status="published")
    )
    regional_offer.refresh_from_db()
    assert regional_offer.languages == ["da", "en", "fo"]


def test_the_offer_list_names_owner_and_operator_in_one_column(client, editor, regional_offer):
    client.force_login(editor)

    body = client.get(CHANGELIST).content.decode()

    assert "Region Midtjylland, drives af Væksthus Midtjylland" in body
    assert 'class="column-external_id' not in body
    # Reviewed 1 January 2024: due, said in words beside the date.
    assert "1. januar 2024" in body and "skal gennemgås" in body


# --- Preview before saving --------------------------------------------------------------------


def test_the_preview_shows_the_public_page_with_the_forms_changes_and_saves_nothing(
    client, editor, regional_offer
):
    client.force_login(editor)
    form_page = client.get(change_url(regional_offer)).content.decode()
    preview_url = reverse("admin:offers_offer_preview", args=[regional_offer.pk])
    assert f'formaction="{preview_url}"' in form_page

    response = client.post(
        preview_url,
        form_data(title="Digitalt løft 2028", price_details="Du betaler 25 %", status="published"),
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert '<h1 lang="da">Digitalt løft 2028</h1>' in body
    assert "Forhåndsvisning" in body and "Du betaler 25 %" in body
    assert "Digitalisering" in body  # the theme chosen in the form
    assert "no-store" in response["Cache-Control"]
    regional_offer.refresh_from_db()
    assert regional_offer.title == "Digitalt løft i Midtjylland"


def test_a_new_offer_can_be_previewed_before_it_exists(client, editor):
    client.force_login(editor)

    response = client.post(reverse("admin:offers_offer_preview_new"), form_data())

    assert response.status_code == 200
    body = response.content.decode()
    assert "Automatiseringstjek" in body
    # A draft is shown as it will look once published, not as closed.
    assert "Tilbuddet er ikke åbent for ansøgninger lige nu" not in body
    assert not Offer.objects.filter(external_id="midt-automatisering").exists()


def test_a_preview_of_a_bad_form_lists_its_errors(client, editor, regional_offer):
    client.force_login(editor)
    url = reverse("admin:offers_offer_preview", args=[regional_offer.pk])

    response = client.post(url, form_data(title=""))

    assert response.status_code == 400
    assert "Formularen har fejl" in response.content.decode()
    assert client.get(url).status_code == 405


def test_another_organisation_cannot_preview_an_offer_it_may_not_edit(
    client, make_user, municipal_offer
):
    client.force_login(
        make_user("redaktoer-syd", organisation="region-syddanmark", role="Redaktør")
    )

    response = client.post(
        reverse("admin:offers_offer_preview", args=[municipal_offer.pk]),
        form_data(title="Kapret"),
    )

    assert response.status_code in (403, 404)
    assert "Kapret" not in response.content.decode()
