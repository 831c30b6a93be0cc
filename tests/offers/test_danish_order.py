"""Danish alphabetical order (offers.fields.danish_sort_key): Æ, Ø and Å after Z."""

from __future__ import annotations

from offers.fields import danish_sort_key


def test_ae_oe_and_aa_come_after_every_z() -> None:
    names = ["Øko", "Zz Top", "Åben", "Æble", "Zone", "Aabenraa", "zebra"]

    assert sorted(names, key=danish_sort_key) == [
        "Aabenraa",
        "zebra",
        "Zone",
        "Zz Top",
        "Æble",
        "Øko",
        "Åben",
    ]
