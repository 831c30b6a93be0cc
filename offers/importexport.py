"""The catalogue's import and export under their former address.

The work lives in one module per idea: the format and its row checks in
``offers.catalogue_format``, importing in ``offers.importing``, the JSON and JSON Lines export in
``offers.exporting`` and the Open Referral tables in ``offers.hsds``. Code written against this
module (commands, scripts, other branches) keeps working through these names.
"""

from offers.catalogue_format import (
    ALL_FIELDS,
    EXTRA_FIELDS,
    FIELDS,
    REQUIRED_FIELDS,
    Reference,
    RowError,
    parse_offers,
)
from offers.exporting import export_json, export_jsonl, offer_records
from offers.hsds import (
    HSDS_COLUMNS,
    HSDS_FUNDING_COLUMNS,
    HSDS_ORGANIZATION_COLUMNS,
    HSDS_SERVICE_AREA_COLUMNS,
    HSDS_SERVICE_COLUMNS,
    HSDS_STATUS,
    export_hsds,
    hsds_tables,
)
from offers.importing import ImportFailed, ImportResult, import_offers

__all__ = [
    "ALL_FIELDS",
    "EXTRA_FIELDS",
    "FIELDS",
    "HSDS_COLUMNS",
    "HSDS_FUNDING_COLUMNS",
    "HSDS_ORGANIZATION_COLUMNS",
    "HSDS_SERVICE_AREA_COLUMNS",
    "HSDS_SERVICE_COLUMNS",
    "HSDS_STATUS",
    "REQUIRED_FIELDS",
    "ImportFailed",
    "ImportResult",
    "Reference",
    "RowError",
    "export_hsds",
    "export_json",
    "export_jsonl",
    "hsds_tables",
    "import_offers",
    "offer_records",
    "parse_offers",
]
