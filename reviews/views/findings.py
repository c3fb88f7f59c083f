"""Findings, the review report (cabinet Appendix 1) and case details (Appendix 3).

None of these pages shows exempt information, so none writes to the access log: figures,
references, themes and recommendations only. The findings page shows the figures in
full to everyone who may see the review (it is OFFICIAL-SENSITIVE and never published); the
two appendices are for publication, so their figures come through the review's publication
(reviews.disclosure), the same for everyone.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import TemplateView

from core.forms import apply_service_errors
from reviews import figures, panels, selectors, services
from reviews.forms import RecommendationForm, ThemeForm
from reviews.models import CriterionRating, Review
from reviews.views.workflow import ReviewMixin


def _threshold() -> int:
    return settings.REVIEW_SUPPRESSION_THRESHOLD


def _tables(findings: selectors.Findings, *, user):
    """(table, charts) for each period, in full: the findings page is for those who may see the
    review (OFFICIAL-SENSITIVE), never published. A count links to its cases only where the
    viewer may see every case behind the period's table."""
    made = []
    for index, period in enumerate(findings.periods, start=1):
        ids = figures.period_referral_ids(findings, period)
        may_list = selectors.can_see_all_cases(user=user, referral_ids=ids)
        table = figures.compliance_table(
            findings, period=period, suppressed=False, threshold=_threshold(), drill_down=may_list
        )
        table.may_list = may_list
        made.append((table, figures.compliance_charts(table, chart_id=f"chart-{index}")))
    return made


class FindingsView(ReviewMixin, TemplateView):
    """Compliance by criterion and period, a drill-down to the cases behind a count, and the
    lead reviewer's themes and recommendations."""

    template_name = "reviews/review_findings.html"

    def get(self, request, pk):
        return self.render()

    def post(self, request, pk):
        self.require_lead()
        action = request.POST.get("action", "")
        user, review_id = request.user, self.review.pk
        forms = {"theme": ThemeForm, "recommendation": RecommendationForm}
        try:
            if action in forms:
                form = forms[action](request.POST)
                if not form.is_valid():
                    return self.render(**{f"{action}_form": form}, status=400)
                data = form.cleaned_data
                try:
                    if action == "theme":
                        services.review_theme_save(
                            user=user,
                            review_id=review_id,
                            title=data["title"],
                            text=data["text"],
                            theme_id=data.get("theme_id"),
                        )
                    else:
                        services.review_recommendation_save(
                            user=user,
                            review_id=review_id,
                            text=data["text"],
                            number=data.get("number"),
                            recommendation_id=data.get("recommendation_id"),
                        )
                except ValidationError as error:
                    if not hasattr(error, "error_dict"):
                        raise  # not about a field (the review has closed, say): said below
                    apply_service_errors(form, error)
                    return self.render(**{f"{action}_form": form}, status=400)
                messages.success(request, "Theme saved" if action == "theme" else "Recommendation saved")
            elif action == "remove_theme":
                services.review_theme_delete(
                    user=user, review_id=review_id, theme_id=_int(request.POST, "id")
                )
                messages.success(request, "Theme removed")
            elif action == "remove_recommendation":
                services.review_recommendation_delete(
                    user=user, review_id=review_id, recommendation_id=_int(request.POST, "id")
                )
                messages.success(request, "Recommendation removed")
            else:
                raise Http404("Page not found")
        except ObjectDoesNotExist as missing:
            raise Http404("Page not found") from missing
        except ValidationError as error:  # nothing to correct on a form
            messages.error(request, " ".join(error.messages))
        anchor = "themes" if "theme" in action else "recommendations"
        return redirect(f"{reverse('reviews:findings', args=[review_id])}#{anchor}")

    def render(self, *, theme_form=None, recommendation_form=None, status=200):
        review, user = self.review, self.request.user
        findings = selectors.review_findings(review=review)
        tables = _tables(findings, user=user)
        can_edit = self.is_lead and review.status != Review.Status.CLOSED
        themes = list(review.themes.all())
        recommendations = list(review.recommendations.all())
        if can_edit:
            theme_form = theme_form or self._edit_form(ThemeForm, themes, "theme")
            recommendation_form = recommendation_form or self._edit_form(
                RecommendationForm, recommendations, "recommendation"
            )
        context = {
            "review": review,
            "is_lead": self.is_lead,
            "tables": tables,
            "has_findings": bool(findings.counts),
            "threshold": _threshold(),
            "ratings": figures.RATINGS,
            "drill": self._drill_down(findings, {t.period: t for t, _ in tables}),
            "themes": themes,
            "recommendations": recommendations,
            "can_edit": can_edit,
            "theme_form": theme_form,
            "recommendation_form": recommendation_form,
            "error_forms": [theme_form, recommendation_form],
            # From the apps above (reviews.panels): contexts' same-school links.
            "panels": panels.findings_panels(request=self.request, review=review),
        }
        return render(self.request, self.template_name, context, status=status)

    def _edit_form(self, form_class, items, name):
        """An empty form to add one, or, with ?theme=<id> (or ?recommendation=), one to change it."""
        wanted = self.request.GET.get(name, "")
        item = next((i for i in items if str(i.pk) == wanted), None)
        if item is None:
            return form_class()
        if name == "theme":
            return form_class(initial={"theme_id": item.pk, "title": item.title, "text": item.text})
        return form_class(initial={"recommendation_id": item.pk, "number": item.number, "text": item.text})

    def _drill_down(self, findings, tables):
        """?criterion=&period=&rating=: the cases behind one count, only where the viewer may see
        every case behind its table (so the list cannot undo the table's suppression)."""
        query = self.request.GET
        if not {"criterion", "period", "rating"} <= set(query):
            return None
        criterion, period, rating = query["criterion"], query["period"], query["rating"]
        if period not in tables or rating not in CriterionRating.Rating.values:
            raise Http404("Page not found")
        label = dict(findings.criteria).get(criterion)
        if label is None:
            raise Http404("Page not found")
        drill = {
            "criterion": criterion,
            "criterion_text": label,
            "period": period,
            "rating": CriterionRating.Rating(rating).label,
            "allowed": tables[period].may_list,
            "referrals": [],
        }
        if drill["allowed"]:
            ids = selectors.review_cell_referrals(
                findings=findings, criterion=criterion, period=period, rating=rating
            )
            drill["referrals"] = list(selectors.referrals_for_list(ids=ids))
        return drill


def _int(data, key: str) -> int:
    try:
        return int(data.get(key, ""))
    except ValueError as bad:
        raise Http404("Page not found") from bad


class ReviewReportView(ReviewMixin, TemplateView):
    """Cabinet Appendix 1: every figure suppressed, whoever is looking."""

    template_name = "reviews/review_report.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **figures.review_report_context(review=self.review)}


class CaseDetailsView(ReviewMixin, TemplateView):
    """Cabinet Appendix 3: the cases under the review period, as the review's publication gives them."""

    template_name = "reviews/review_case_details.html"

    def get_context_data(self, **kwargs):
        from reviews.disclosure import case_details_context

        return {**super().get_context_data(**kwargs), **case_details_context(review=self.review)}
