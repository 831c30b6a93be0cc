"""The inventory of personal data (crm.services.privacy.PERSONAL_DATA) is complete and covered."""

from __future__ import annotations

import re

from django.apps import apps
from django.db import models

from crm.services import NOT_PERSONAL, PERSONAL_DATA
from crm.services.privacy import personal_data_handlers

_PERSONAL_FIELD = re.compile(r"(^|_)(e-?mail|name|first_name|last_name|username|phone)($|_)")


def _personal_looking_fields(model: type[models.Model]) -> list[str]:
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.EmailField) or _PERSONAL_FIELD.search(field.name)
    ]


def test_every_model_with_a_name_e_mail_or_phone_field_is_in_the_inventory():
    listed = {entry.model for entry in PERSONAL_DATA} | set(NOT_PERSONAL)
    missing = {
        model._meta.label: _personal_looking_fields(model)
        for model in apps.get_models()
        if _personal_looking_fields(model) and model._meta.label not in listed
    }
    assert missing == {}, (
        "Add these models to crm.services.privacy.PERSONAL_DATA (and cover them in "
        "person_export/person_erase) or to NOT_PERSONAL with the reason"
    )


def test_the_inventory_names_models_and_fields_that_exist():
    for entry in PERSONAL_DATA:
        model = apps.get_model(entry.model)
        names = {field.name for field in model._meta.get_fields()}
        assert set(entry.fields) <= names, entry.model
    for label in NOT_PERSONAL:
        apps.get_model(label)
    assert not {entry.model for entry in PERSONAL_DATA} & set(NOT_PERSONAL)


def test_every_entry_of_an_app_above_the_crm_has_its_handler_registered():
    handlers = personal_data_handlers()
    registered = {entry.model for entry in PERSONAL_DATA if entry.registered}
    assert registered == set(handlers)
    assert all(
        entry.model.split(".")[0] in {"routing", "governance"}
        for entry in PERSONAL_DATA
        if entry.registered
    )
