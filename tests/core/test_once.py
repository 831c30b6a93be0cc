from __future__ import annotations

import pytest

from core.once import FormOnce, form_nonce


@pytest.fixture
def once(db):
    return FormOnce(scope="test:form", user_id=7, nonce=form_nonce())


def test_it_lets_the_first_post_through_and_stops_the_second(once):
    assert once.claim() is True
    assert FormOnce(scope="test:form", user_id=7, nonce=once.nonce).claim() is False


def test_the_second_post_finds_what_the_first_made_once_it_is_done(once):
    once.claim()
    assert once.result() is None
    once.done(42)
    assert once.result() == 42


def test_a_released_nonce_can_be_claimed_again(once):
    once.claim()
    once.release()
    assert once.claim() is True


def test_the_same_nonce_of_another_user_or_form_is_another_post(once):
    once.claim()
    assert FormOnce(scope="test:form", user_id=8, nonce=once.nonce).claim() is True
    assert FormOnce(scope="test:other", user_id=7, nonce=once.nonce).claim() is True


def test_a_form_without_a_nonce_is_not_guarded(db):
    empty = FormOnce(scope="test:form", user_id=7, nonce="")
    assert empty.claim() is True
    empty.done(1)
    assert empty.claim() is True
    assert empty.result() is None
