"""Findings, the review report (cabinet Appendix 1) and case details (Appendix 3)."""

from django.http import Http404
from django.views import View

from reviews.views.workflow import ReviewMixin


class FindingsView(ReviewMixin, View):
    def get(self, request, pk):
        raise Http404("Not built yet")


class ReviewReportView(FindingsView):
    pass


class CaseDetailsView(FindingsView):
    pass
