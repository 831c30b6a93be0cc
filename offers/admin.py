from django.contrib import admin

from offers.models import Municipality, Organisation, Region, StrengthPosition, Theme


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "slug")
    search_fields = ("name",)


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("name", "code")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "level", "region", "strength_position")
    list_filter = ("kind", "level", "region")
    list_select_related = ("region", "strength_position")
    search_fields = ("name", "slug")
    autocomplete_fields = ("municipality", "strength_position")
    filter_horizontal = ("member_municipalities",)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "responsible_level", "position")
    list_editable = ("position",)
    search_fields = ("name", "slug")


@admin.register(StrengthPosition)
class StrengthPositionAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
