"""The tracker's filters (django-filter): each one SQL, RAG included (it is an annotation)."""

from __future__ import annotations

import django_filters
from django import forms

from scrutiny.models import Committee, Recommendation
from scrutiny.selectors import Rag


class TrackerFilter(django_filters.FilterSet):
    source = django_filters.MultipleChoiceFilter(
        label="Source", choices=Recommendation.Source.choices, widget=forms.CheckboxSelectMultiple
    )
    status = django_filters.MultipleChoiceFilter(
        label="Status", choices=Recommendation.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    rag = django_filters.MultipleChoiceFilter(
        label="RAG status", choices=Rag.CHOICES, widget=forms.CheckboxSelectMultiple
    )
    owner = django_filters.CharFilter(
        label="Action owner", method="by_owner", max_length=100, help_text="Part of the owner's name"
    )
    committee = django_filters.ModelChoiceFilter(
        label="Committee",
        queryset=Committee.objects.all(),
        field_name="meeting__committee",
        empty_label="Any",
    )

    class Meta:
        model = Recommendation
        fields = ()

    def by_owner(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(actions__owner__icontains=value).distinct()
