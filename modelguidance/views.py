from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from core.forms import posted_int_of
from core.permissions import RoleRequiredMixin
from core.roles import user_roles
from guidance.rendering import diff_html, word_diff
from modelguidance import permissions, selectors, services
from modelguidance.forms import (
    AcknowledgeForm,
    ApproveForm,
    CoverageDateForm,
    EqiaForm,
    SectionFormSet,
    VersionForm,
)
from modelguidance.models import GuidanceSection, ModelGuidanceVersion
from referrals.models import School

Status = ModelGuidanceVersion.Status


def apply_service_errors(form, error: ValidationError, field: str | None = None) -> None:
    for message in error.messages:
        form.add_error(field, message)


# --- versions (council staff) -----------------------------------------------------------------


class EditorMixin(RoleRequiredMixin):
    roles = permissions.EDITORS

    def get_version(self) -> ModelGuidanceVersion:
        """Read once per request (the handlers ask for it more than once)."""
        if getattr(self, "_version", None) is None:
            self._version = get_object_or_404(ModelGuidanceVersion, pk=self.kwargs["pk"])
        return self._version

    def back(self, version):
        return HttpResponseRedirect(reverse("modelguidance:version_detail", args=[version.pk]))


class VersionListView(EditorMixin, TemplateView):
    template_name = "modelguidance/version_list.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "versions": list(selectors.guidance_versions())}

    def post(self, request):
        version = services.guidance_version_create(user=request.user)
        messages.success(request, f"Version {version.number} started as a draft")
        return HttpResponseRedirect(reverse("modelguidance:version_edit", args=[version.pk]))


class VersionDetailView(EditorMixin, TemplateView):
    template_name = "modelguidance/version_detail.html"

    def get_context_data(self, **kwargs):
        version = self.get_version()
        roles = user_roles(self.request.user)
        others = list(ModelGuidanceVersion.objects.exclude(pk=version.pk).order_by("-number"))
        return {
            **super().get_context_data(**kwargs),
            "guidance_version": version,
            "sections": list(version.sections.all()),
            "others": others,
            "can_approve": bool(roles & permissions.APPROVERS),
            "events": list(version.history.select_related("history_user").order_by("-history_date")[:50]),
        }


class VersionEditView(EditorMixin, View):
    template_name = "modelguidance/version_edit.html"

    def get(self, request, pk):
        version = self.get_version()
        if version.status != Status.DRAFT:
            messages.info(request, "Only a draft can be edited")
            return self.back(version)
        form = VersionForm(
            initial={
                "title": version.title,
                "change_summary": version.change_summary,
                "version": version.version,
            }
        )
        sections = SectionFormSet(
            prefix="section", initial=[{"heading": s.heading, "body": s.body} for s in version.sections.all()]
        )
        return self.render(version, form, sections)

    def post(self, request, pk):
        version = self.get_version()
        form = VersionForm(request.POST)
        sections = SectionFormSet(request.POST, prefix="section")
        if "add_section" in request.POST:
            data = request.POST.copy()
            count = posted_int_of(data, "section-TOTAL_FORMS") + 1
            data["section-TOTAL_FORMS"] = str(min(count, SectionFormSet.max_num))
            return self.render(
                version, VersionForm(data), SectionFormSet(data, prefix="section"), hide_errors=True
            )
        if not (form.is_valid() and sections.is_valid()):
            return self.render(version, form, sections, status=400)
        try:
            services.guidance_version_update(
                user=request.user,
                version_id=version.pk,
                expected_version=form.cleaned_data["version"],
                title=form.cleaned_data["title"],
                change_summary=form.cleaned_data["change_summary"],
                sections=[
                    services.SectionInput(
                        heading=f.cleaned_data["heading"].strip(), body=f.cleaned_data["body"]
                    )
                    for f in sections.kept()
                ],
            )
        except services.GuidanceConflict:
            form.add_error(
                None,
                "Someone else changed this version while you were editing it. Your changes have not been "
                "saved: copy them, reload the page and make them again.",
            )
            return self.render(version, form, sections, status=409)
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.render(version, form, sections, status=400)
        messages.success(request, "Draft saved")
        return self.back(version)

    def render(self, version, form, sections, status=200, hide_errors=False):
        from django.shortcuts import render

        return render(
            self.request,
            self.template_name,
            {
                "guidance_version": version,
                "form": form,
                "sections": sections,
                "error_forms": [] if hide_errors else [form, *sections.forms],
                "formset_errors": [] if hide_errors or not sections.is_bound else sections.non_form_errors(),
                "hide_errors": hide_errors,
            },
            status=status,
        )


class TransitionView(EditorMixin, TemplateView):
    """A confirmation page (GET) and the transition itself (POST), through one service."""

    template_name = "modelguidance/version_confirm.html"
    heading = ""
    button = ""
    done = ""
    service = None

    def get_context_data(self, **kwargs):
        version = self.get_version()
        return {
            **super().get_context_data(**kwargs),
            "guidance_version": version,
            "heading": self.heading,
            "button": self.button,
            "errors": kwargs.get("errors", []),
        }

    def post(self, request, pk):
        version = self.get_version()
        try:
            type(self).service(user=request.user, version_id=version.pk)
        except ValidationError as error:
            return self.render_to_response(self.get_context_data(errors=error.messages), status=400)
        messages.success(request, self.done.format(number=version.number))
        return self.back(version)


class VersionSubmitView(TransitionView):
    heading = "Submit this version for approval"
    button = "Submit for approval"
    done = "Version {number} submitted for approval"
    service = services.guidance_version_submit


class VersionPublishView(TransitionView):
    heading = "Publish this version to schools"
    button = "Publish"
    done = "Version {number} published. Each school's designated safeguarding lead will be e-mailed."
    service = services.guidance_version_publish
    roles = permissions.APPROVERS


class VersionEqiaView(EditorMixin, TemplateView):
    template_name = "modelguidance/version_eqia.html"

    def get(self, request, pk):
        return self.show(EqiaForm())

    def post(self, request, pk):
        form = EqiaForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.show(form, status=400)
        try:
            services.guidance_version_attach_eqia(
                user=request.user,
                version_id=self.get_version().pk,
                upload=form.cleaned_data["file"],
                summary=form.cleaned_data["summary"],
            )
        except ValidationError as error:
            field = "file" if getattr(error, "code", "").startswith("eqia_") else None
            apply_service_errors(form, error, field)
            return self.show(form, status=400)
        messages.success(request, "Equality impact assessment attached")
        return self.back(self.get_version())

    def show(self, form, status=200):
        return self.render_to_response(
            {"guidance_version": self.get_version(), "form": form, "error_forms": [form]}, status=status
        )


class VersionEqiaFileView(EditorMixin, View):
    def get(self, request, pk):
        version = self.get_version()
        if not version.eqia_file:
            raise Http404("Page not found")
        return FileResponse(
            version.eqia_file.open("rb"), as_attachment=True, filename=f"eqia-version-{version.number}.pdf"
        )


def _decisions():
    from scrutiny.models import DecisionRecord

    return DecisionRecord.objects.select_related("report").exclude(status="draft").order_by("-pk")


class VersionApproveView(EditorMixin, TemplateView):
    template_name = "modelguidance/version_approve.html"
    roles = permissions.APPROVERS

    def get(self, request, pk):
        return self.show(ApproveForm(decisions=_decisions()))

    def post(self, request, pk):
        form = ApproveForm(request.POST, decisions=_decisions())
        if not form.is_valid():
            return self.show(form, status=400)
        try:
            services.guidance_version_approve(
                user=request.user, version_id=self.get_version().pk, decision=form.cleaned_data["decision"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.show(form, status=400)
        messages.success(request, "Approval recorded")
        return self.back(self.get_version())

    def show(self, form, status=200):
        return self.render_to_response(
            {"guidance_version": self.get_version(), "form": form, "error_forms": [form]}, status=status
        )


class VersionCompareView(EditorMixin, TemplateView):
    template_name = "modelguidance/version_compare.html"

    def get_context_data(self, **kwargs):
        version = self.get_version()
        others = list(ModelGuidanceVersion.objects.exclude(pk=version.pk).order_by("-number"))
        chosen = None
        raw = self.request.GET.get("with", "")
        if raw.isdigit():
            chosen = next((o for o in others if o.pk == int(raw)), None)
        elif others:
            chosen = next((o for o in others if o.number < version.number), others[0])
        blocks = []
        if chosen:
            old, new = sorted([chosen, version], key=lambda v: v.number)
            sections = {old.pk: [], new.pk: []}
            for section in GuidanceSection.objects.filter(guidance_version__in=[old, new]).order_by(
                "order", "pk"
            ):
                sections[section.guidance_version_id].append(section)  # both versions' in one query
            blocks = word_diff(sections[old.pk], sections[new.pk])
        else:
            old = new = None
        return {
            **super().get_context_data(**kwargs),
            "guidance_version": version,
            "others": others,
            "chosen": chosen,
            "old": old,
            "new": new,
            "difference": diff_html(blocks),
            "changed": sum(1 for b in blocks if b.change == "changed"),
            "added": sum(1 for b in blocks if b.change == "added"),
            "removed": sum(1 for b in blocks if b.change == "removed"),
        }


class VersionAcknowledgementsView(EditorMixin, TemplateView):
    template_name = "modelguidance/version_acknowledgements.html"

    def get_context_data(self, **kwargs):
        version = self.get_version()
        return {
            **super().get_context_data(**kwargs),
            "guidance_version": version,
            "status": selectors.acknowledgement_status(guidance_version=version),
            "can_remind": version.status == Status.PUBLISHED,
        }

    def post(self, request, pk):
        version = self.get_version()
        try:
            if request.POST.get("acknowledgement", "").isdigit():
                ack = get_object_or_404(version.acknowledgements, pk=int(request.POST["acknowledgement"]))
                services.acknowledgement_remind(user=request.user, acknowledgement_id=ack.pk)
                messages.success(request, f"Reminder sent to {ack.school.name}")
            else:
                count = services.acknowledgements_remind_all(user=request.user, version_id=version.pk)
                messages.success(request, f"Reminders sent to {count} schools")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(reverse("modelguidance:version_acknowledgements", args=[version.pk]))


# --- DSL training coverage --------------------------------------------------------------------


class CoverageView(RoleRequiredMixin, TemplateView):
    template_name = "modelguidance/coverage.html"
    roles = permissions.COVERAGE_READERS
    search_form_class = CoverageDateForm

    def get_context_data(self, **kwargs):
        form = self.search_form_class(self.request.GET or None)
        on = timezone.localdate()
        if form.is_bound and form.is_valid() and form.cleaned_data.get("on"):
            on = form.cleaned_data["on"]
        return {
            **super().get_context_data(**kwargs),
            "form": form,
            "error_forms": [form] if form.is_bound else [],
            "coverage": selectors.training_coverage(on=on),
            "last_reminders": selectors.last_training_reminders(),
            "can_remind": bool(user_roles(self.request.user) & permissions.TRAINING_REMINDERS),
        }


class TrainingRemindersView(RoleRequiredMixin, TemplateView):
    """Confirm, then send, reminders to schools whose DSL training is out of date (today)."""

    template_name = "modelguidance/training_reminders.html"
    roles = permissions.TRAINING_REMINDERS

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "plan": selectors.training_reminder_plan(on=timezone.localdate()),
            "interval": services.REMINDER_INTERVAL_DAYS,
        }

    def post(self, request):
        sent = services.training_reminders_request(user=request.user, on=timezone.localdate())
        if sent:
            messages.success(
                request,
                "Reminder e-mailed to 1 school's designated safeguarding lead"
                if len(sent) == 1
                else f"Reminders e-mailed to {len(sent)} schools' designated safeguarding leads",
            )
        else:
            messages.info(request, "No reminders sent: no school is due one")
        return HttpResponseRedirect(reverse("modelguidance:coverage"))


class SchoolCoverageView(RoleRequiredMixin, TemplateView):
    template_name = "modelguidance/school_coverage.html"
    roles = permissions.COVERAGE_READERS

    def get_context_data(self, **kwargs):
        from modelguidance.models import SafeguardingLead

        school = get_object_or_404(School, pk=self.kwargs["school_pk"], active=True)
        coverage = selectors.training_coverage(on=timezone.localdate(), school_id=school.pk)
        leads = list(
            SafeguardingLead.objects.filter(school=school)
            .prefetch_related("training")
            .order_by("-active", "role")
        )
        return {
            **super().get_context_data(**kwargs),
            "school": school,
            "row": coverage.schools[0],
            "leads": leads,
        }


# --- public: no sign-in ----------------------------------------------------------------------


class PublishedGuidanceView(TemplateView):
    """Appendix 6: the published version, for anyone. Only ever the published one."""

    template_name = "modelguidance/published.html"

    def get_context_data(self, **kwargs):
        version = selectors.published_version()
        if version is None:
            raise Http404("No model guidance has been published yet")
        return {
            **super().get_context_data(**kwargs),
            "guidance_version": version,
            "sections": list(version.sections.all()),
        }


class PublishedGuidancePdfView(View):
    """Appendix 6 as a PDF, for anyone: the published version's, rendered once and kept.

    Takes no id: there is no address at which a draft's PDF could be guessed.
    """

    def get(self, request):
        from django.core.files.storage import default_storage

        version = selectors.published_version()
        if version is None:
            raise Http404("No model guidance has been published yet")
        name = services.published_pdf_name(version)
        if not default_storage.exists(name):  # the task has not run yet
            name = services.guidance_version_render_pdf(version_id=version.pk)
        return FileResponse(
            default_storage.open(name, "rb"),
            content_type="application/pdf",
            filename=f"model-guidance-version-{version.number}.pdf",
        )


REFUSALS = {
    "not_found": "This link is not valid. Check you copied the whole link from the e-mail.",
    "used": "This link has already been used: the school's acknowledgement is recorded.",
    "expired": "This link has expired. Ask the council to send a new one.",
    "superseded": "A newer version of the guidance has been published. Use the link in the latest e-mail.",
}


class AcknowledgeView(TemplateView):
    """A school's DSL acknowledges a published version through their e-mailed link (no account).

    The page shows only the school the link was sent to and the version. Opening the link
    changes nothing (mail scanners open links); the DSL confirms with the form.
    """

    template_name = "modelguidance/acknowledge.html"

    def get(self, request, urn, token):
        try:
            ack = services.acknowledgement_for_link(urn=urn, token=token)
        except services.LinkRefused as refused:
            return self.refused(refused.reason)
        return self.show(ack, AcknowledgeForm())

    def post(self, request, urn, token):
        try:
            ack = services.acknowledgement_for_link(urn=urn, token=token)
        except services.LinkRefused as refused:
            return self.refused(refused.reason)
        form = AcknowledgeForm(request.POST)
        if not form.is_valid():
            return self.show(ack, form, status=400)
        try:
            ack = services.acknowledgement_confirm(urn=urn, token=token, name=form.cleaned_data["name"])
        except services.LinkRefused as refused:
            return self.refused(refused.reason)
        return self.response_class(
            request=request, template="modelguidance/acknowledged.html", context={"ack": ack}, status=200
        )

    def show(self, ack, form, status=200):
        return self.render_to_response(
            {"ack": ack, "guidance_version": ack.guidance_version, "form": form, "error_forms": [form]},
            status=status,
        )

    def refused(self, reason: str):
        return self.response_class(
            request=self.request,
            template="modelguidance/acknowledge_refused.html",
            context={"message": REFUSALS[reason]},
            status=404 if reason == "not_found" else 410,
        )
