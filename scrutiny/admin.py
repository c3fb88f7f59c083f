"""Reference data for scrutiny: committees, meetings and agenda items (with history)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from scrutiny.models import AgendaEntry, AgendaItem, Committee, Meeting


@admin.register(Committee)
class CommitteeAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind")


@admin.register(Meeting)
class MeetingAdmin(SimpleHistoryAdmin):
    list_display = ("committee", "date")
    list_filter = ("committee",)


class AgendaEntryInline(admin.TabularInline):
    model = AgendaEntry
    extra = 1


@admin.register(AgendaItem)
class AgendaItemAdmin(SimpleHistoryAdmin):
    list_display = ("title",)
    inlines = [AgendaEntryInline]
