"""Industry sections of the Danish industry codes DB07 and DB25, from a code's first two digits.

The CVR register switched from DB07 (NACE rev. 2) to DB25 (NACE rev. 2.1) in 2025. The two share
the six-digit shape but not the sections: from division 58 on, DB25 shifts the letters (J is split
into J and K, so real estate is M instead of L, and V is new). A section letter is therefore only
comparable within one classification, and matching compares (classification, section) pairs.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from offers.db07 import DIVISIONS as _DB07_DIVISIONS

DB07: Final = "db07"
DB25: Final = "db25"
# The first register year coded in DB25.
DB25_FROM_YEAR: Final = 2025

# Section letter: inclusive ranges of two-digit divisions (DB07's are in offers.db07).
_DB25_DIVISIONS: Final = {
    "A": (1, 3),
    "B": (5, 9),
    "C": (10, 33),
    "D": (35, 35),
    "E": (36, 39),
    "F": (41, 43),
    "G": (46, 47),
    "H": (49, 53),
    "I": (55, 56),
    "J": (58, 60),
    "K": (61, 63),
    "L": (64, 66),
    "M": (68, 68),
    "N": (69, 75),
    "O": (77, 82),
    "P": (84, 84),
    "Q": (85, 85),
    "R": (86, 88),
    "S": (90, 93),
    "T": (94, 96),
    "U": (97, 98),
    "V": (99, 99),
}
SECTIONS: Final = {DB07: "ABCDEFGHIJKLMNOPQRSTU", DB25: "ABCDEFGHIJKLMNOPQRSTUV"}


def _division_table(divisions: dict[str, tuple[int, int]]) -> npt.NDArray[np.str_]:
    table = np.full(100, "", dtype="<U1")
    for letter, (first, last) in divisions.items():
        table[first : last + 1] = letter
    return table


# Index by the two-digit division; "" where the division does not exist.
DIVISION_TO_SECTION: Final = {
    DB07: _division_table(_DB07_DIVISIONS),
    DB25: _division_table(_DB25_DIVISIONS),
}
