from django.contrib import admin

from crm.models import Case


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("reference", "company", "status", "first_response_due")
    list_select_related = ("company",)
