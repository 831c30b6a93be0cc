"""The API's page numbers: ``?page=`` must be a whole number from 1, as the schema says.

Django REST framework reads an empty ``?page=`` as page 1; the OpenAPI schema declares ``page`` an
integer, so an empty or malformed value is answered 400 with the field's error (as the offers
search does), not quietly served. A page past the last stays DRF's 404.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class StrictPageNumberPagination(PageNumberPagination):
    def get_page_number(self, request: Request, paginator: Any) -> Any:
        values = request.query_params.getlist(self.page_query_param)
        if values and (len(values) > 1 or not values[-1].strip().isdigit() or int(values[-1]) < 1):
            raise ValidationError(
                {self.page_query_param: [_("Sidetallet skal være et helt tal fra 1.")]}
            )
        return super().get_page_number(request, paginator)
