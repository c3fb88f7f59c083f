from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from guidance import selectors
from guidance.forms import InForceForm


class TimelineView(LoginRequiredMixin, TemplateView):
    """Which DfE documents were in force when, and what applied on a chosen date."""

    template_name = "guidance/guidance_timeline.html"
    search_form_class = InForceForm

    def get_context_data(self, **kwargs):
        form = self.search_form_class(self.request.GET or None)
        on = form.cleaned_data["on"] if form.is_bound and form.is_valid() else None
        return {
            **super().get_context_data(**kwargs),
            "rows": selectors.guidance_timeline(),
            "form": form,
            "error_forms": [form] if form.is_bound else [],
            "on": on,
            "documents": list(selectors.documents_in_force(on=on)) if on else [],
            "criteria": list(selectors.criteria_in_force(on=on).prefetch_related("forms_of_abuse"))
            if on
            else [],
        }


class DefinitionsView(TemplateView):
    """Appendix 7, "What is peer on peer abuse", from the forms-of-abuse taxonomy (public)."""

    template_name = "guidance/definitions.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "forms": list(selectors.abuse_forms_with_guidance())}
