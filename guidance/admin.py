from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from guidance.models import Criterion, GuidanceDocument


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ("order", "code", "text", "mandatory", "forms_of_abuse")
    filter_horizontal = ("forms_of_abuse",)

    def get_queryset(self, request):
        # Each criterion's forms of abuse read at once, not one query per inline row.
        return super().get_queryset(request).prefetch_related("forms_of_abuse")


@admin.register(GuidanceDocument)
class GuidanceDocumentAdmin(SimpleHistoryAdmin):
    list_display = ("title", "series", "edition", "in_force_from", "date_verified")
    list_filter = ("series", "date_verified")
    inlines = [CriterionInline]


@admin.register(Criterion)
class CriterionAdmin(SimpleHistoryAdmin):
    list_display = ("code", "document", "mandatory")
    list_filter = ("document__series", "mandatory")
    filter_horizontal = ("forms_of_abuse",)
