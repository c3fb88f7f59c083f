"""What every scrutiny page shares: the form page, the conflict page, the versioned form view."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views import View

from core.forms import apply_service_errors
from scrutiny import services
from scrutiny.permissions import (
    ManagersMixin,
)

FORM_TEMPLATE = "scrutiny/form.html"


def form_page(
    request, *, form, title, back, back_label, intro="", submit="Save", status=200, multipart=False
):
    return render(
        request,
        FORM_TEMPLATE,
        {
            "form": form,
            "error_forms": [form],
            "title": title,
            "back": back,
            "back_label": back_label,
            "intro": intro,
            "submit": submit,
            "multipart": multipart,
        },
        status=status,
    )


def conflict_page(request, error: services.Conflict, *, back: str):
    return render(request, "scrutiny/conflict.html", {"record": error.record, "back": back}, status=409)


class VersionedFormView(ManagersMixin, View):
    """GET shows the form, POST calls one service with the version the user loaded."""

    form_class = None
    title = ""
    submit = "Save"
    multipart = False

    def initial(self) -> dict:
        return {}

    def back(self) -> str:
        raise NotImplementedError

    def form(self, data=None, files=None):
        return self.form_class(data, files, initial=self.initial())

    def page(self, form, status=200):
        return form_page(
            self.request,
            form=form,
            title=self.title,
            back=self.back(),
            back_label="Back",
            submit=self.submit,
            status=status,
            multipart=self.multipart,
        )

    def get(self, request, **kwargs):
        return self.page(self.form())

    def post(self, request, **kwargs):
        form = self.form(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(form, 400)
        try:
            done = self.save(form.cleaned_data)
        except services.Conflict as conflict:
            return conflict_page(request, conflict, back=self.back())
        except ValidationError as error:
            apply_service_errors(form, error)
            return self.page(form, 400)
        return done

    def save(self, data):
        raise NotImplementedError
