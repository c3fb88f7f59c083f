"""Thin views: read with selectors, write with one service call, render a template."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import TemplateView

from core import exempt, permissions
from core.access_log import record_access
from core.history import exempt_fields_shown
from core.models import AccessLogEntry
from core.permissions import CaseWorkRequiredMixin, MashRoleRequiredMixin
from core.roles import Role, has_role
from core.selectors import access_log_for
from referrals import selectors, services
from referrals.exports import tray_csv_response
from referrals.filters import ReferralFilter
from referrals.forms import (
    AmendDecisionForm,
    AuthoriseDecisionForm,
    BreakGlassForm,
    CaseNoteForm,
    ChildForm,
    ChildFormSet,
    DecisionForm,
    GrantForm,
    ImportUploadForm,
    ReasonForm,
    ReferralForm,
    RevokeForm,
    ScreeningForm,
    draft_data,
    draft_summary,
)
from referrals.imports import selectors as import_selectors
from referrals.imports import services as imports
from referrals.imports.format import ImportRefused, all_columns, child_columns
from referrals.models import ImportBatch, Referral, ReferralDecision, ReferralDetail, ReferralDraft
from referrals.selectors import TrayView


def _apply_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, field by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item.messages[0] if hasattr(item, "messages") else item)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _posted_int(request, name: str, default: int) -> int:
    """A number the page itself posts (a hidden version, a count of children): anything that is
    not a number counts as ``default``, so a tampered field is refused like a stale one."""
    return _posted_int_of(request.POST, name, default)


def _posted_int_of(data, name: str, default: int = 0) -> int:
    try:
        value = int(data.get(name) or default)
    except (ValueError, TypeError):
        return default
    return value if 0 <= value < 2**31 else default


def _nothing_to_do(request, referral, heading: str, message: str):
    return render(
        request,
        "referrals/decision_nothing.html",
        {"referral": referral, "heading": heading, "message": message},
    )


class ReferralMixin(LoginRequiredMixin):
    """Loads the referral named in the URL, or answers 404 if the user may not open it.

    ``needs_change``: the page changes the referral, so the user needs a live change grant.
    ``needs_exempt``: the page shows identities, so the user also needs a view grant and a
    session verified with two-factor sign-in (without one they are sent to sign in with it).
    """

    needs_change = False
    needs_exempt = False

    @cached_property
    def referral(self) -> Referral:
        try:
            return selectors.referral_get(user=self.request.user, pk=self.kwargs["pk"])
        except Referral.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        referral = self.referral
        if self.needs_change and not permissions.has_grant(request.user, referral, permissions.CHANGE):
            raise Http404("Page not found")
        if self.needs_exempt:
            if not permissions.has_grant(request.user, referral, permissions.VIEW_EXEMPT):
                raise Http404("Page not found")
            if not permissions.is_verified(request.user):
                messages.info(request, "Sign in with your second factor to see or change identities")
                return redirect(f"{reverse('core:verify')}?next={request.path}")
        return super().dispatch(request, *args, **kwargs)

    def log_exempt_read(self, fields: list[str], channel: str = AccessLogEntry.Channel.PAGE) -> None:
        """One access-log row naming the exempt fields this page showed (``Model.field``)."""
        record_access(
            request=self.request,
            user=self.request.user,
            record=self.referral,
            label=self.referral.reference,
            fields=fields,
            channel=channel,
        )

    def conflict(self, error: services.ReferralConflict):
        return render(
            self.request,
            "referrals/referral_conflict.html",
            {
                "referral": error.referral,
                "changes": selectors.referral_changes_since(
                    user=self.request.user, referral=error.referral, version=error.expected_version
                ),
            },
            status=409,
        )


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
        page = selectors.referral_tray(
            user=user, view=view, queryset=queryset, cursor=self.request.GET.get("cursor")
        )
        query = self.request.GET.copy()
        query.pop("cursor", None)
        query.pop("view", None)
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
            "can_import": imports.can_import(user),
            "name_match_cap": selectors.NAME_MATCH_CAP,
        }


# --- Create and edit -----------------------------------------------------------------------


class ReferralCreateView(MashRoleRequiredMixin, View):
    template_name = "referrals/referral_form.html"
    initial_children = 2

    def get(self, request):
        if "draft" in request.GET:
            return self.continue_draft(request)
        form = ReferralForm()
        children = ChildFormSet(
            prefix="child",
            initial=[{"role": "victim"}, {"role": "alleged_perpetrator"}][: self.initial_children],
        )
        return self.render(form, children)

    def continue_draft(self, request):
        """The author's own draft, back in the form as it was typed (404 for anyone else's)."""
        from django.http import QueryDict

        try:
            draft = selectors.draft_get(user=request.user, pk=_posted_int_of(request.GET, "draft"))
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
        value = _posted_int(request, "draft", 0)
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
            _apply_errors(form, error)
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
        data["child-TOTAL_FORMS"] = str(count)
        formset = ChildFormSet(data, prefix="child")
        return formset

    @staticmethod
    def _resized_data(data):
        count = min(max(_posted_int_of(data, "child-TOTAL_FORMS", 1), 1), ChildFormSet.max_num)
        data["child-TOTAL_FORMS"] = str(count)
        data.setdefault("child-INITIAL_FORMS", "0")
        return ChildFormSet(data, prefix="child")

    def _with_extra_child(self, request):
        current = _posted_int(request, "child-TOTAL_FORMS", 1)
        return self._resized(request, min(current + 1, ChildFormSet.max_num))

    def _without_last_child(self, request):
        current = _posted_int(request, "child-TOTAL_FORMS", 1)
        return self._resized(request, max(current - 1, 1))

    def render(self, form, children, hide_errors=False, matches_offered=False):
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "children": children,
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
        if not services.referral_draft_delete(user=request.user, draft_id=_posted_int(request, "delete", 0)):
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
            _apply_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, "Referral details saved")
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "referral": self.referral, "error_forms": [form]},
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
                expected_version=_posted_int(request, "version", 0),
                child=form.to_input(),
            )
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            _apply_errors(form, error)
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


# --- One referral ---------------------------------------------------------------------------


class ReferralDetailView(ReferralMixin, TemplateView):
    template_name = "referrals/referral_detail.html"

    def get_context_data(self, **kwargs):
        try:
            view = selectors.referral_view(user=self.request.user, pk=self.kwargs["pk"])
        except Referral.DoesNotExist as missing:
            raise Http404("Page not found") from missing
        if view.exempt_visible:
            self.log_exempt_read(view.shown_fields)
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "case": view,
            "referral": view.referral,
            "is_manager": has_role(user, Role.MASH_MANAGER),
            "can_see_access_log": has_role(user, Role.MASH_MANAGER, Role.INFORMATION_GOVERNANCE),
            "has_view_grant": permissions.has_grant(user, view.referral, permissions.VIEW_EXEMPT),
            "is_verified": permissions.is_verified(user),
        }


class ReferralHistoryView(ReferralMixin, TemplateView):
    template_name = "referrals/referral_history.html"

    def get_context_data(self, **kwargs):
        referral, entries, visible = selectors.referral_history(
            user=self.request.user, pk=self.referral.pk, referral=self.referral
        )
        if visible:
            self.log_exempt_read(exempt_fields_shown(entries), AccessLogEntry.Channel.HISTORY)
        return {
            **super().get_context_data(**kwargs),
            "referral": referral,
            "entries": entries,
            "visible": visible,
        }


class TransitionView(ReferralMixin, View):
    """A form whose valid submission calls one service on the referral."""

    template_name = ""
    form_class = ReasonForm
    success_message = ""
    needs_change = True

    def form_kwargs(self) -> dict:
        return {}

    def get(self, request, pk):
        return self.render(self.form_class(initial={"version": self.referral.version}, **self.form_kwargs()))

    def post(self, request, pk):
        form = self.form_class(request.POST, **self.form_kwargs())
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            self.act(form)
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            _apply_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, self.success_message)
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def act(self, form) -> None:
        raise NotImplementedError

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "referral": self.referral, "error_forms": [form]},
            status=status,
        )


class ScreeningView(TransitionView):
    template_name = "referrals/referral_screen.html"
    form_class = ScreeningForm
    success_message = "Screening started"

    def act(self, form):
        services.referral_start_screening(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            rag=form.cleaned_data["rag"],
        )


class DecisionView(TransitionView):
    """Record the decision: the form, then a check-your-answers page, then the service.

    Nothing is written until the check page's "Record the decision" is pressed; "Change your
    answers" goes back to the form with everything as it was typed.
    """

    template_name = "referrals/referral_decide.html"
    check_template_name = "referrals/referral_decide_check.html"
    form_class = DecisionForm
    amending = False
    #: Buttons of the check page, never carried back into it as answers.
    STEP_BUTTONS = ("confirm", "change", "csrfmiddlewaretoken")

    def success(self, record: ReferralDecision) -> str:
        if record.status == ReferralDecision.Status.AWAITING_AUTHORISATION:
            return (
                "Decision recorded. A manager must authorise it before it takes effect; "
                "the referrer will be told once it is authorised"
            )
        return "Decision amended" if self.amending else "Decision recorded"

    def post(self, request, pk):
        form = self.form_class(request.POST, **self.form_kwargs())
        if not form.is_valid():
            return self.render(form, status=400)
        if "change" in request.POST:
            return self.render(form)
        try:
            unmet = self.check(form)
        except ValidationError as error:
            _apply_errors(form, error)
            return self.render(form, status=400)
        if "confirm" not in request.POST:
            return self.render_check(form, unmet)
        try:
            record = self.act(form)
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            _apply_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, self.success(record))
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def check(self, form):
        return services.decision_check(referral=self.referral, decision=form.to_input())

    def act(self, form):
        return services.referral_record_decision(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            decision=form.to_input(),
        )

    def context(self, form) -> dict:
        return {
            "form": form,
            "referral": self.referral,
            "error_forms": [form],
            "amending": self.amending,
            "expectations": selectors.decision_expectations(referral=self.referral),
        }

    def render(self, form, status=200):
        return render(self.request, self.template_name, self.context(form), status=status)

    def render_check(self, form, unmet):
        data = form.cleaned_data
        answers = [
            (name, value)
            for name, values in self.request.POST.lists()
            if name not in self.STEP_BUTTONS
            for value in values
        ]
        return render(
            self.request,
            self.check_template_name,
            {
                **self.context(form),
                "answers": answers,
                "unmet": unmet,
                "outcomes": list(data["outcomes"]),
                "advice": [label for name, label in form.fields["advice"].choices if name in data["advice"]],
                "needs_authorisation": bool(
                    services.authorisation_rules_for(referral=self.referral, outcomes=list(data["outcomes"]))
                ),
            },
        )


class AmendDecisionView(DecisionView):
    """Amend the decision in force: the form starts from it, every answer as it stands (so an
    amendment changes only what it means to change), with only the amendment's reason empty.
    The page shows the decision's reasons, so it needs what any page showing them needs."""

    form_class = AmendDecisionForm
    amending = True
    needs_exempt = True

    def get(self, request, pk):
        current = self.referral.decisions.in_force().prefetch_related("outcomes").first()
        if current is None or self.referral.status != Referral.Status.DECIDED:
            return _nothing_to_do(
                request,
                self.referral,
                "Amend the decision",
                "This referral has no decision in force to amend.",
            )
        initial = {
            "version": self.referral.version,
            "outcomes": list(current.outcomes.all()),
            "advice": [name for name in ReferralDecision.ADVICE_FIELDS if getattr(current, name)],
            "rationale": current.rationale,
            "advice_notes": current.advice_notes,
            "guidance_departure_reason": current.guidance_departure_reason,
            "amendment_reason": "",
        }
        self.log_exempt_read(exempt.shown_fields([current], displayed=AMEND_SHOWS))
        return self.render(self.form_class(initial=initial))

    def check(self, form):
        unmet = super().check(form)
        if not form.cleaned_data.get("amendment_reason", "").strip():
            raise ValidationError({"amendment_reason": "Enter why the decision is being amended"})
        return unmet

    def act(self, form):
        return services.referral_amend_decision(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            decision=form.to_input(),
            reason=form.cleaned_data["amendment_reason"],
        )


class CloseView(TransitionView):
    template_name = "referrals/referral_close.html"
    success_message = "Referral closed"

    def form_kwargs(self):
        return {
            "reason_label": "Why is the referral being closed?",
            "required_message": "Enter why the referral is being closed",
        }

    def act(self, form):
        services.referral_close(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )


class ReopenView(TransitionView):
    """A closed referral has no default grants left; a MASH manager reopens it."""

    template_name = "referrals/referral_reopen.html"
    success_message = "Referral reopened"
    needs_change = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not (
            has_role(request.user, Role.MASH_MANAGER)
            or permissions.has_grant(request.user, self.referral, permissions.CHANGE)
        ):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)

    def form_kwargs(self):
        return {
            "reason_label": "Why is the referral being reopened?",
            "required_message": "Enter why the referral is being reopened",
        }

    def act(self, form):
        services.referral_reopen(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )


class CaseNoteAddView(ReferralMixin, View):
    template_name = "referrals/casenote_form.html"
    needs_change = True

    def notes(self):
        return list(self.referral.notes.order_by("-recorded_at")[:50])

    def get(self, request, pk):
        return self.render(CaseNoteForm(notes=self.notes()))

    def post(self, request, pk):
        form = CaseNoteForm(request.POST, notes=self.notes())
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            services.case_note_add(
                user=request.user,
                referral_id=self.referral.pk,
                occurred_on=form.cleaned_data["occurred_on"],
                text=form.cleaned_data["text"],
                corrects_id=form.cleaned_data.get("corrects"),
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, "Note added")
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]) + "#chronology")

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "referral": self.referral, "error_forms": [form]},
            status=status,
        )


# --- Grants, emergency access and who has seen a record ---------------------------------------


class ManagerOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not has_role(request.user, Role.MASH_MANAGER):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)


#: The decision's reasons the authorisation page shows.
AUTHORISE_SHOWS = {ReferralDecision: ["rationale", "guidance_departure_reason", "amendment_reason"]}
#: What the amend page puts in its form from the decision in force.
AMEND_SHOWS = {ReferralDecision: ["rationale", "advice_notes", "guidance_departure_reason"]}


class AuthoriseDecisionView(ManagerOnlyMixin, ReferralMixin, View):
    """A MASH manager (never the decision's author) authorises a decision awaiting it, or not."""

    template_name = "referrals/referral_authorise.html"
    needs_exempt = True  # the page shows the decision's reasons

    @cached_property
    def decision(self) -> ReferralDecision:
        decision = selectors.decision_awaiting_authorisation(referral=self.referral)
        if decision is None:
            raise Http404("Page not found")
        return decision

    def get(self, request, pk):
        if selectors.decision_awaiting_authorisation(referral=self.referral) is None:
            return _nothing_to_do(
                request,
                self.referral,
                "Authorise the decision",
                "No decision on this referral is awaiting authorisation.",
            )
        self.log_exempt_read(exempt.shown_fields([self.decision], displayed=AUTHORISE_SHOWS))
        return self.render(AuthoriseDecisionForm(initial={"version": self.referral.version}))

    def post(self, request, pk):
        form = AuthoriseDecisionForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            record = services.referral_authorise_decision(
                user=request.user,
                referral_id=self.referral.pk,
                expected_version=form.cleaned_data["version"],
                decision_id=self.decision.pk,
                authorise=form.cleaned_data["authorise"],
                note=form.cleaned_data["note"],
            )
        except services.ReferralConflict as conflict:
            return self.conflict(conflict)
        except ValidationError as error:
            _apply_errors(form, error)
            return self.render(form, status=400)
        if record.status == ReferralDecision.Status.IN_FORCE:
            messages.success(request, "Decision authorised. The referrer will be told")
        else:
            messages.success(request, "Decision not authorised. It has not taken effect")
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def render(self, form, status=200):
        decision = self.decision
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "referral": self.referral,
                "decision": decision,
                "own_decision": decision.decided_by_id == self.request.user.pk,
                "error_forms": [form],
            },
            status=status,
        )


class GrantsView(ManagerOnlyMixin, ReferralMixin, View):
    """A MASH manager sees every grant on the referral, gives grants and removes them."""

    template_name = "referrals/referral_grants.html"

    def get(self, request, pk):
        return self.render(GrantForm(), RevokeForm())

    def post(self, request, pk):
        if "revoke" in request.POST:
            return self.post_revoke(request)
        form = GrantForm(request.POST)
        if not form.is_valid():
            return self.render(form, RevokeForm(), status=400)
        try:
            services.referral_grant(
                granted_by=request.user,
                referral_id=self.referral.pk,
                user=form.cleaned_data["user"],
                actions=form.cleaned_data["actions"],
                reason=form.cleaned_data["reason"],
                expires_on=form.cleaned_data.get("expires_on"),
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.render(form, RevokeForm(), status=400)
        messages.success(request, f"Grant given to {form.cleaned_data['user'].get_username()}")
        return HttpResponseRedirect(reverse("referrals:grants", args=[pk]))

    def post_revoke(self, request):
        form = RevokeForm(request.POST)
        if not form.is_valid():
            return self.render(GrantForm(), form, status=400)
        try:
            services.referral_revoke_grant(
                revoked_by=request.user,
                referral_id=self.referral.pk,
                grant_id=form.cleaned_data["grant_id"],
                holder_kind=form.cleaned_data["holder_kind"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.render(GrantForm(), form, status=400)
        except (KeyError, LookupError, ValueError, ObjectDoesNotExist) as missing:
            # No such grant on this referral (another record's grant id, or none): not found.
            raise Http404("Grant not found") from missing
        messages.success(request, "Grant removed")
        return HttpResponseRedirect(reverse("referrals:grants", args=[self.referral.pk]))

    def render(self, form, revoke_form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "referral": self.referral,
                "grants": permissions.grants_on(self.referral),
                "grant_history": permissions.grant_history(self.referral),
                "form": form,
                "revoke_form": revoke_form,
                "error_forms": [form, revoke_form],
            },
            status=status,
        )


class RestrictionView(ManagerOnlyMixin, TransitionView):
    """A MASH manager restricts a referral to named grants, or lifts the restriction (with a
    reason of at least 20 characters and three words; logged and e-mailed to IG)."""

    template_name = "referrals/referral_restriction.html"
    needs_change = False

    def form_kwargs(self):
        lifting = self.referral.is_restricted
        return {
            "reason_label": "Why is the restriction being lifted?"
            if lifting
            else "Why should only named people see this referral?",
            "required_message": "Enter why the restriction is being lifted"
            if lifting
            else "Enter why the referral is being restricted",
        }

    @property
    def success_message(self):
        return "Restriction lifted" if self.referral.is_restricted else "Referral restricted"

    def act(self, form):
        if self.referral.is_restricted:
            service = services.referral_lift_restriction
        else:
            service = services.referral_restrict
        service(
            user=self.request.user,
            referral_id=self.referral.pk,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            request=self.request,
        )


class BreakGlassView(ManagerOnlyMixin, ReferralMixin, View):
    template_name = "referrals/referral_break_glass.html"

    def get(self, request, pk):
        return self.render(BreakGlassForm())

    def post(self, request, pk):
        form = BreakGlassForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            services.referral_break_glass(
                request=request,
                user=request.user,
                referral_id=self.referral.pk,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.render(form, status=400)
        messages.success(request, "Emergency access given. Information governance has been told.")
        return HttpResponseRedirect(reverse("referrals:detail", args=[pk]))

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "referral": self.referral,
                "form": form,
                "error_forms": [form],
                "hours": settings.BREAK_GLASS_HOURS,
            },
            status=status,
        )


class RecordAccessLogView(ReferralMixin, TemplateView):
    """Who has seen this record: for MASH managers and information governance."""

    template_name = "referrals/referral_access_log.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not has_role(
            request.user, Role.MASH_MANAGER, Role.INFORMATION_GOVERNANCE
        ):
            raise Http404("Page not found")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "referral": self.referral,
            "entries": access_log_for(record=self.referral),
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


# --- Importing historic referrals -------------------------------------------------------------

SAMPLE_IMPORT = Path(__file__).resolve().parent / "fixtures" / "sample_import.csv"
#: Room for the multipart wrapping and the CSRF token around the file itself.
UPLOAD_OVERHEAD = 64 * 1024


class _ImportSizeLimit(FileUploadHandler):
    """Stops storing an upload the moment it passes the limit (a body without a length)."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.import_too_big = True
            raise StopUpload(connection_reset=False)  # the rest of the body is read and dropped
        return raw_data

    def file_complete(self, file_size):
        return None


class ImportMixin(ManagerOnlyMixin, LoginRequiredMixin):
    """MASH managers import; to anyone else the pages do not exist."""


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), once the size limit is in place
class ImportUploadView(ImportMixin, View):
    template_name = "referrals/import_upload.html"

    def get(self, request):
        return self.render(self.form())

    def post(self, request):
        limit = imports.max_bytes()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + UPLOAD_OVERHEAD:
            # Refused on the declared length: not a byte of the body is read.
            return self.render(self.refused(self.form({}, {}), imports.size_message()), status=400)
        request.upload_handlers.insert(0, _ImportSizeLimit(request, limit))
        return csrf_protect(self.check_file)(request)

    def check_file(self, request):
        form = self.form(request.POST, request.FILES)
        if getattr(request, "import_too_big", False):
            return self.render(self.refused(form, imports.size_message()), status=400)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            batch = imports.referral_import_preview(user=request.user, upload=form.cleaned_data["file"])
        except ImportRefused as refused:
            for message in refused.messages:
                form.add_error("file", message)
            return self.render(form, status=400)
        return HttpResponseRedirect(reverse("referrals:import_preview", args=[batch.pk]))

    def form(self, *args):
        return ImportUploadForm(*args, max_megabytes=imports.max_bytes() // (1024 * 1024))

    @staticmethod
    def refused(form, message: str):
        """A bound form whose only error is ``message`` on the file."""
        form.is_valid()
        form.errors.clear()
        form.errors["file"] = form.error_class([message])
        return form

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "error_forms": [form],
                "batches": import_selectors.recent_import_batches(user=self.request.user),
                # The referral's columns and the first child's; the other children's are alike.
                "columns": all_columns()[: all_columns().index(child_columns(2)[0])],
            },
            status=status,
        )


class ImportSampleView(ImportMixin, View):
    """The synthetic sample file, to show the format."""

    def get(self, request):
        return FileResponse(
            SAMPLE_IMPORT.open("rb"),
            as_attachment=True,
            filename="sample_import.csv",
            content_type="text/csv",
        )


class ImportPreviewView(ImportMixin, View):
    """What importing the checked file would do; the manager imports it or discards it here."""

    template_name = "referrals/import_preview.html"

    @cached_property
    def batch(self) -> ImportBatch:
        try:
            return import_selectors.import_batch_get(user=self.request.user, pk=self.kwargs["pk"])
        except ImportBatch.DoesNotExist as missing:
            raise Http404("Page not found") from missing

    def get(self, request, pk):
        return self.render()

    def post(self, request, pk):
        action = request.POST.get("action")
        try:
            if action == "discard":
                imports.referral_import_discard(user=request.user, batch_id=self.batch.pk)
                messages.success(request, "The file was discarded. Nothing was imported")
                return HttpResponseRedirect(reverse("referrals:import"))
            if action != "import":
                raise Http404("Page not found")
            batch = imports.referral_import_apply(user=request.user, batch_id=self.batch.pk)
        except ValidationError as error:
            self.__dict__.pop("batch", None)  # read it again: the service may have changed it
            return self.render(problems=error.messages, status=400)
        done = batch.new_count + batch.changed_count
        messages.success(request, f"{done:,} referral{'s' if done != 1 else ''} imported")
        return HttpResponseRedirect(reverse("referrals:import_preview", args=[batch.pk]))

    def render(self, problems=(), status=200):
        batch = self.batch
        return render(
            self.request,
            self.template_name,
            {
                "batch": batch,
                "problems": list(problems),
                "changed_rows": [r for r in batch.rows if r["action"] == "changed"],
                "kept_rows": [r for r in batch.rows if r["action"] == "kept"],
                "errors_hidden": batch.error_count - len(batch.errors),
            },
            status=status,
        )
