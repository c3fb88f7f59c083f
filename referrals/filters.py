"""The work tray's filters (django-filter). Every filter becomes SQL; nothing loops in Python."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property
from django_filters.fields import ModelMultipleChoiceField as FilterModelMultipleChoiceField

from core import permissions
from core.forms import IdsInRangeMixin
from core.timescales import local_zone
from referrals.models import AbuseForm, RagLevel, Referral, ReferralSource, School
from referrals.selectors import name_search_capped, referral_search_filter, referrals_with_school


class TrayFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            raise ValidationError(
                {"received_to": "'Received on or before' must be the same as or after 'received on or after'"}
            )
        return data


class _IdsField(IdsInRangeMixin, FilterModelMultipleChoiceField):
    pass


class ModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = _IdsField


class ReferralFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search by reference or child's name", method="search", max_length=100
    )
    status = django_filters.MultipleChoiceFilter(
        label="Status", choices=Referral.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    rag = ModelMultipleChoiceFilter(
        label="RAG rating", queryset=RagLevel.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    form_of_abuse = django_filters.ModelChoiceFilter(
        label="Form of abuse",
        queryset=AbuseForm.objects.all(),
        field_name="forms_of_abuse",
        empty_label="Any",
    )
    school = django_filters.ModelChoiceFilter(
        label="School", queryset=School.objects.all(), method="filter_school", empty_label="Any"
    )
    source = django_filters.ModelChoiceFilter(
        label="Referral source", queryset=ReferralSource.objects.all(), empty_label="Any"
    )
    received_from = django_filters.DateFilter(
        label="Received on or after",
        method="filter_received_from",
        widget=forms.DateInput(attrs={"type": "date", "class": "govuk-input govuk-input--width-10"}),
        error_messages={"invalid": "Enter a real date for 'received on or after'"},
    )
    received_to = django_filters.DateFilter(
        label="Received on or before",
        method="filter_received_to",
        widget=forms.DateInput(attrs={"type": "date", "class": "govuk-input govuk-input--width-10"}),
        error_messages={"invalid": "Enter a real date for 'received on or before'"},
    )

    class Meta:
        model = Referral
        fields: list[str] = []
        form = TrayFilterForm

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.search_term = ""
        if not permissions.is_verified(user):
            # Names and schools are exempt: without a verified session neither is searchable.
            self.filters["q"].label = "Search by reference"
            del self.filters["school"]

    def search(self, queryset, name, value):
        self.search_term = value
        return queryset.filter(referral_search_filter(user=self.user, term=value))

    @cached_property
    def name_search_capped(self) -> bool:
        """A name that begins too many children's names is searched in part: the page says so
        (asked only by the page that shows it, not by the CSV export)."""
        return bool(self.search_term) and name_search_capped(user=self.user, term=self.search_term)

    def filter_school(self, queryset, name, value):
        # A child's school is exempt: it only ever matches referrals the user may identify.
        return queryset.filter(pk__in=referrals_with_school(user=self.user, school=value))

    @staticmethod
    def _midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=local_zone())

    def filter_received_from(self, queryset, name, value):
        return queryset.filter(received_at__gte=self._midnight(value))

    def filter_received_to(self, queryset, name, value):
        return queryset.filter(received_at__lt=self._midnight(value + dt.timedelta(days=1)))
