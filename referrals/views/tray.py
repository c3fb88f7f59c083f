"""The work tray and its CSV export."""

from __future__ import annotations

from django.views import View
from django.views.generic import TemplateView

from core.access_log import record_access_many
from core.exempt import field_labels
from core.models import AccessLogEntry
from core.permissions import CaseWorkRequiredMixin
from referrals import selectors
from referrals.exports import tray_csv_response
from referrals.filters import ReferralFilter
from referrals.imports import services as imports
from referrals.selectors import TrayView

# --- Work tray ----------------------------------------------------------------------------


class TrayListView(CaseWorkRequiredMixin, TemplateView):
    template_name = "referrals/referral_list.html"
    filterset_class = ReferralFilter  # its parameters are walked by tests/security/test_differential.py

    def get_context_data(self, **kwargs):
        user = self.request.user
        view = self.request.GET.get("view", TrayView.AWAITING)
        if view not in TrayView.LABELS:
            view = TrayView.AWAITING
        visible = selectors.referrals_visible_to(user=user)
        filterset = self.filterset_class(self.request.GET or None, queryset=visible, user=user)
        queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else visible
        # A search's results tell children of the same name apart: date of birth and school.
        searched = bool(filterset.is_bound and getattr(filterset, "search_term", ""))
        page = selectors.referral_tray(
            user=user, view=view, queryset=queryset, cursor=self.request.GET.get("cursor"), details=searched
        )
        record_access_many(
            request=self.request,
            user=user,
            records=[(r, r.reference) for r in page.identified],
            fields=field_labels(selectors.TRAY_SEARCH_SHOWS if searched else selectors.TRAY_SHOWS),
            channel=AccessLogEntry.Channel.PAGE,
        )
        query = self.request.GET.copy()
        query.pop("cursor", None)
        query.pop("view", None)
        # A search under one tab says how many more match in the others, so a child with a
        # referral elsewhere is never reported as not found.
        elsewhere = 0
        if filterset.is_bound and getattr(filterset, "search_term", "") and view != TrayView.ALL:
            elsewhere = max(selectors.tray_match_count(queryset=queryset) - page.count, 0)
        return {
            **super().get_context_data(**kwargs),
            "filter": filterset,
            "filter_forms": [filterset.form] if filterset.is_bound else [],
            "page": page,
            "view": view,
            "views": TrayView.LABELS,
            "counts": selectors.tray_counts(user=user, queryset=visible),
            "filter_query": query.urlencode(),
            "filters_applied": bool(query),
            # The filters other than the search, folded away unless one is in use.
            "more_filters_applied": any(value for key in query if key != "q" for value in query.getlist(key)),
            "can_import": imports.can_import(user),
            "name_match_cap": selectors.NAME_MATCH_CAP,
            "elsewhere": elsewhere,
        }


class TrayExportView(CaseWorkRequiredMixin, View):
    filterset_class = ReferralFilter
    """The work tray's rows as CSV, with identities only for rows the user may see (logged)."""

    def get(self, request):
        user = request.user
        visible = selectors.referrals_visible_to(user=user)
        filterset = self.filterset_class(request.GET or None, queryset=visible, user=user)
        queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else visible
        return tray_csv_response(request=request, user=user, queryset=queryset)
