import pytest

from core.masking import EMAIL_MASK, NAME_MASK, PHONE_MASK, mask_person, mask_personal_data


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ring på +45 12 34 56 78 i morgen", f"Ring på {PHONE_MASK} i morgen"),
        ("mit nummer er 12345678.", f"mit nummer er {PHONE_MASK}."),
        ("skriv til a.b@c.dk, tak", f"skriv til {EMAIL_MASK}, tak"),
        ("(+45) 1234 5678", PHONE_MASK),
        ("0045 12-34-56-78", PHONE_MASK),
        ("+4512345678", PHONE_MASK),
        ("svensk: +46 70 123 45 67", f"svensk: {PHONE_MASK}"),
        ("jens.hansen+eksport@firma.co.uk", EMAIL_MASK),
    ],
)
def test_it_masks_danish_phone_numbers_and_email_addresses(typed, stored):
    assert mask_personal_data(typed) == stored


@pytest.mark.parametrize(
    "text",
    [
        "Vi har 250 ansatte og en omsætning på 10 000 000 kr.",
        "Jeg ledte efter eksportstøtte i 2026",
        "Tilbuddet gælder til 31-12-2026",
        "",
    ],
)
def test_it_leaves_text_without_contact_details_as_typed(text):
    assert mask_personal_data(text) == text


def test_it_masks_every_occurrence_in_a_longer_comment():
    text = "Kontakt mig på 11 22 33 44 eller 55667788 eller a@b.dk eller c@d.dk"
    masked = mask_personal_data(text)
    assert masked.count(PHONE_MASK) == 2
    assert masked.count(EMAIL_MASK) == 2
    assert not any(char.isdigit() for char in masked)


def test_it_masks_a_persons_name_whole_and_in_parts_as_whole_words():
    text = "Ole Hansen ringede. OLE vil eksportere; Olesen og Hansens er andre. Bo Li skrev også."
    assert mask_person(text, names=["Ole Hansen", "Bo Li"]) == (
        f"{NAME_MASK} ringede. {NAME_MASK} vil eksportere; Olesen og Hansens er andre. "
        f"{NAME_MASK} skrev også."
    )


def test_it_masks_hyphenated_and_danish_names_and_contact_details_together():
    assert mask_person("Mette-Marie Bæk, 12345678, mmb@firma.dk", names=["Mette-Marie Bæk"]) == (
        f"{NAME_MASK}, {PHONE_MASK}, {EMAIL_MASK}"
    )
    assert mask_person("Marie og Bæk", names=["Mette-Marie Bæk"]) == f"{NAME_MASK} og {NAME_MASK}"
    assert mask_person("Ingen navne her", names=["", "  "]) == "Ingen navne her"


def test_a_name_part_that_is_an_ordinary_word_is_masked_only_where_written_as_a_name():
    text = "Hans ringede om hans firma. 1.250 kr per måned. Per skrev. Tage vil tage med."
    assert mask_person(text, names=["Hans Per Tage"]) == (
        f"{NAME_MASK} ringede om hans firma. 1.250 kr per måned. {NAME_MASK} skrev. "
        f"{NAME_MASK} vil tage med."
    )


def test_punctuation_in_the_stored_name_does_not_hide_it():
    assert mask_person("Hansen og (Søren) ringede", names=["Hansen, Ole", "(Søren)"]) == (
        f"{NAME_MASK} og ({NAME_MASK}) ringede"
    )


def test_a_span_of_years_is_not_a_phone_number():
    assert mask_personal_data("Strategi for 2024-2025") == "Strategi for 2024-2025"
    assert mask_personal_data("Ring 1234-5678") == f"Ring {PHONE_MASK}"
