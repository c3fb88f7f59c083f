"""Logging a referral: the new referral form, drafts, editing and adding children."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from core import exempt
from core.forms import apply_service_errors, posted_int_of
from core.permissions import MashRoleRequiredMixin
from referrals import selectors, services
from referrals.forms import (
    ChildForm,
    ChildFormSet,
    ReferralForm,
    draft_data,
    draft_summary,
    form_sections,
)
from referrals.models import Referral, ReferralDetail, ReferralDraft
from referrals.views.common import ReferralMixin, posted_int

# --- Create and edit -----------------------------------------------------------------------


class ReferralCreateView(MashRoleRequiredMixin, View):
    template_name = "referrals/referral_form.html"
    initial_children = 2

    def get(self, request):
        if "draft" in request.GET:
            return self.continue_draft(request)
        # Most referrals are entered as they arrive: received now (Europe/London), changeable.
        now = timezone.localtime()
        form = ReferralForm(initial={"received_date": now.date(), "received_time": now.strftime("%H:%M")})
        children = ChildFormSet(
            prefix="child",
            initial=[{"role": "victim"}, {"role": "alleged_perpetrator"}][: self.initial_children],
        )
        return self.render(form, children)

    def continue_draft(self, request):
        """The author's own draft, back in the form as it was typed (404 for anyone else's)."""
        from django.http import QueryDict

        try:
            draft = selectors.draft_get(user=request.user, pk=posted_int_of(request.GET, "draft"))
        except ReferralDraft.DoesNotExist as missing:
            raise Http404("Page not found") from missing
        data = QueryDict(mutable=True)
        for name, values in draft.data.items():
            data.setlist(name, values)
        self.draft_id = draft.pk
        return self.render(ReferralForm(data), self._resized_data(data), hide_errors=True)

    def save_draft(self, request):
        draft = services.referral_draft_save(
            user=request.user, data=draft_data(request.POST), draft_id=self.posted_draft_id(request)
        )
        expires = timezone.localtime(draft.expires_at)
        messages.success(
            request,
            f"Draft saved. It is not a referral until you finish and save it; only you can see it. "
            f"It will be deleted on {expires:%-d %B %Y} unless you save it again.",
        )
        return HttpResponseRedirect(reverse("referrals:drafts"))

    @staticmethod
    def posted_draft_id(request) -> int | None:
        value = posted_int(request, "draft", 0)
        return value or None

    def post(self, request):
        self.draft_id = self.posted_draft_id(request)
        if "save_draft" in request.POST:
            return self.save_draft(request)
        form = ReferralForm(request.POST)
        incident_date = form.cleaned_data.get("incident_date") if form.is_valid() else None
        children = ChildFormSet(request.POST, prefix="child", incident_date=incident_date)
        if "add_child" in request.POST:
            return self.render(form, self._with_extra_child(request), hide_errors=True)
        if "remove_child" in request.POST:
            return self.render(form, self._without_last_child(request), hide_errors=True)
        if not (form.is_valid() and children.is_valid()):
            return self.render(form, children)
        if self._offer_matches(children, request.user):
            return self.render(form, children, matches_offered=True)
        try:
            referral = services.referral_create(
                user=request.user,
                data=form.to_input(),
                children=[child.to_input() for child in children.filled_forms],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, children)
        if self.draft_id:
            services.referral_draft_delete(user=request.user, draft_id=self.draft_id)
        messages.success(request, f"Referral {referral.reference} recorded")
        return HttpResponseRedirect(reverse("referrals:detail", args=[referral.pk]))

    @staticmethod
    def _offer_matches(children, user) -> bool:
        """Offer an existing person record for each new child with the same name and birth date."""
        offered = False
        for child in children.filled_forms:
            data = child.cleaned_data
            matches = selectors.child_matches(
                user=user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
            )
            if not matches:
                continue
            child.offer_matches(matches)
            chosen = child.data.get(child.add_prefix("existing_child"), "")
            valid = {str(c.pk) for c in matches} | {ChildForm.NEW}
            if chosen in valid:
                child.cleaned_data["existing_child"] = chosen
            else:
                offered = True
                if chosen:
                    child.add_error("existing_child", "Select whether this is the same child")
        return offered

    @staticmethod
    def _resized(request, count: int):
        data = request.POST.copy()
        data["child-TOTAL_FORMS"] = str(min(max(count, 1), ChildFormSet.max_num))
        formset = ChildFormSet(data, prefix="child")
        return formset

    @staticmethod
    def _resized_data(data):
        count = min(max(posted_int_of(data, "child-TOTAL_FORMS", 1), 1), ChildFormSet.max_num)
        data["child-TOTAL_FORMS"] = str(count)
        data.setdefault("child-INITIAL_FORMS", "0")
        return ChildFormSet(data, prefix="child")

    def _with_extra_child(self, request):
        current = posted_int(request, "child-TOTAL_FORMS", 1)
        return self._resized(request, min(current + 1, ChildFormSet.max_num))

    def _without_last_child(self, request):
        current = posted_int(request, "child-TOTAL_FORMS", 1)
        return self._resized(request, max(current - 1, 1))

    def render(self, form, children, hide_errors=False, matches_offered=False):
        sections = form_sections(form, children, show_errors=not hide_errors)
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "children": children,
                "sections": sections,
                "section_by_slug": {section.slug: section for section in sections},
                "error_forms": [] if hide_errors else [form, *children.forms],
                "formset_errors": [] if hide_errors else children.non_form_errors(),
                "hide_errors": hide_errors,
                "matches_offered": matches_offered,
                "draft_id": getattr(self, "draft_id", None),
                "draft_days": settings.REFERRAL_DRAFT_DAYS,
            },
            status=200 if hide_errors or matches_offered or self.request.method != "POST" else 400,
        )


class DraftListView(MashRoleRequiredMixin, View):
    """The signed-in user's own drafts of new referrals: continue or delete them."""

    template_name = "referrals/draft_list.html"

    def get(self, request):
        return render(
            request,
            self.template_name,
            {
                "drafts": [
                    (draft, draft_summary(draft.data)) for draft in selectors.drafts_of(user=request.user)
                ],
                "draft_days": settings.REFERRAL_DRAFT_DAYS,
            },
        )

    def post(self, request):
        if not services.referral_draft_delete(user=request.user, draft_id=posted_int(request, "delete", 0)):
            raise Http404("Draft not found")
        messages.success(request, "Draft deleted")
        return HttpResponseRedirect(reverse("referrals:drafts"))


#: The exempt fields the change-referral form holds (the children are changed one by one).
EDIT_SHOWS = {
    ReferralDetail: [
        "consent_not_sought_reason",
        "referrer_name",
        "referrer_role",
        "referrer_organisation",
        "referrer_contact",
        "narrative",
        "incident_place",
    ]
}


class ReferralEditView(ReferralMixin, View):
    template_name = "referrals/referral_edit.html"
    needs_change = True
    needs_exempt = True

    def get(self, request, pk):
        if self.referral.status == Referral.Status.CLOSED:
            raise Http404("Page not found")
        initial = ReferralForm.initial_for(self.referral)
        self.log_exempt_read(exempt.shown_fields([self.referral.detail], displayed=EDIT_SHOWS))
        return self.render(ReferralForm(initial=initial))

    def post(self, request, pk):
        form = ReferralForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            services.referral_update(
                user=request.user,
                referral_id=self.referral.pk,
                expected_version=form.cleaned_data["version"] or 0,
                data=form.to_input(),
            )
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, "Referral details saved")
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def render(self, form, status=200):
        sections = form_sections(form)
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "referral": self.referral,
                "error_forms": [form],
                "sections": sections,
                "section_by_slug": {section.slug: section for section in sections},
            },
            status=status,
        )


class ChildAddView(ReferralMixin, View):
    template_name = "referrals/child_form.html"
    needs_change = True

    def get(self, request, pk):
        return self.render(ChildForm(prefix="child", incident_date=self.referral.incident_date))

    def post(self, request, pk):
        form = ChildForm(request.POST, prefix="child", incident_date=self.referral.incident_date)
        if not form.is_valid():
            return self.render(form, status=400)
        data = form.cleaned_data
        matches = selectors.child_matches(
            user=request.user,
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
        )
        if matches:
            form.offer_matches(matches)
            chosen = form.data.get(form.add_prefix("existing_child"), "")
            if chosen not in {str(c.pk) for c in matches} | {ChildForm.NEW}:
                return self.render(form)
            form.cleaned_data["existing_child"] = chosen
        try:
            link = services.referral_add_child(
                user=request.user,
                referral_id=self.referral.pk,
                expected_version=posted_int(request, "version", 0),
                child=form.to_input(),
            )
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, f"Child {link.label} added")
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "referral": self.referral, "error_forms": [form]},
            status=status,
        )
