"""Grouping repeated import errors by kind (pure, no database)."""

from core.errorgroups import ErrorGroups, group_errors, kind_of


def test_it_takes_quoted_values_and_numbers_out_of_a_message():
    assert kind_of("ukendt kommunekode “999” (tre cifre)") == kind_of(
        "ukendt kommunekode “101” (tre cifre)"
    )
    assert kind_of("forventede 8 kolonner, fandt 7") == kind_of("forventede 8 kolonner, fandt 9")
    assert kind_of("ukendt tema 'rumfart'") != kind_of("ukendt organisation 'rumfart'")


def test_it_keeps_the_first_examples_of_each_kind_and_counts_the_rest():
    errors = [(line, "owner" if line % 2 else "price", f"fejl {line}") for line in range(1, 11)]

    groups = group_errors(
        errors, column=lambda e: e[1], message=lambda e: e[2], line=lambda e: e[0]
    )

    ordered = groups.ordered(lambda e: e[0])
    assert [(g.column, [e[0] for e in g.examples], g.more) for g in ordered] == [
        ("owner", [1, 3, 5], 2),
        ("price", [2, 4, 6], 2),
    ]
    assert groups.total == 10


def test_kinds_beyond_the_cap_are_counted_but_not_shown():
    groups: ErrorGroups[int] = ErrorGroups(max_kinds=2)
    for n in range(4):
        groups.add(f"kolonne{n}", "kind", n)

    assert groups.total == 4
    assert len(groups.groups) == 2
    assert groups.uncounted_kinds == 2
