from __future__ import annotations

import threading

import pytest
from django.db import connection

from crm import services
from crm.models import Case
from offers.models import Organisation, Theme
from tests.crm.factories import CompanyFactory, ContactFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_get_the_same_reference():
    hub = Organisation.objects.get(slug="vaeksthus-syddanmark")
    contacts = [ContactFactory.create(company=CompanyFactory.create()) for _ in range(8)]
    barrier = threading.Barrier(len(contacts))
    errors: list[BaseException] = []

    def submit(contact):
        try:
            barrier.wait()
            services.case_create(
                company=contact.company,
                contact=contact,
                hub=hub,
                needs="Hjælp til vækst",
                themes=Theme.objects.filter(slug="growth"),
                source=Case.Source.WEB,
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(contact,)) for contact in contacts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    references = list(Case.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references)) == len(contacts)
