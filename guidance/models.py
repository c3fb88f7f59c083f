"""The DfE guidance library: which documents, and which of their expectations, applied when.

A document stays in force from its date until the next edition of the same series takes
over. Dates and wording are data, not code: administrators correct them in the admin (with
history), because several are not yet verified (REFERENCE.md section 2).
"""

from __future__ import annotations

from django.db import models

from core.history import HistoricalRecords
from referrals.models import AbuseForm, Outcome, ReferralDecision


class GuidanceDocument(models.Model):
    class Series(models.TextChoices):
        KCSIE = "kcsie", "Keeping Children Safe in Education"
        SVSH = "svsh", "Sexual violence and sexual harassment between children (DfE advice)"
        WORKING_TOGETHER = "working_together", "Working Together to Safeguard Children"
        UKCCIS = "ukccis", "UKCCIS: Sexting in schools and colleges"
        LEGISLATION = "legislation", "Legislation"
        LOCAL = "local", "Local guidance"

    series = models.CharField(max_length=30, choices=Series.choices)
    edition = models.CharField(max_length=60, help_text="For example 2018, or 'revised May 2018'.")
    title = models.CharField(max_length=250)
    publisher = models.CharField(max_length=120, default="Department for Education")
    in_force_from = models.DateField()
    date_verified = models.BooleanField(
        default=True, help_text="Untick if the exact day has not been checked against the source."
    )
    link = models.URLField(blank=True)
    summary = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("in_force_from", "series")
        constraints = [
            models.UniqueConstraint(fields=["series", "in_force_from"], name="guidance_one_edition_per_day")
        ]

    def __str__(self) -> str:
        return self.title


class Criterion(models.Model):
    """One expectation of a document that a reviewer checks a referral against."""

    document = models.ForeignKey(GuidanceDocument, on_delete=models.CASCADE, related_name="criteria")
    code = models.CharField(max_length=20)
    text = models.TextField()
    forms_of_abuse = models.ManyToManyField(
        AbuseForm, blank=True, related_name="criteria", help_text="Leave empty when it applies to every form."
    )
    mandatory = models.BooleanField(help_text='Ticked for "must", unticked for "should".')
    order = models.PositiveSmallIntegerField(default=0)
    # What a MASH decision does to meet it: any of these outcomes, or this advice. A decision
    # that does neither is recorded only with the practitioner's reason (referrals/expectations).
    met_by_outcomes = models.ManyToManyField(
        Outcome,
        blank=True,
        related_name="+",
        help_text="A MASH decision meets this with any of these outcomes (empty: not checked at decision).",
    )
    met_by_advice = models.CharField(
        max_length=40,
        blank=True,
        choices=[(name, name.replace("_", " ").capitalize()) for name in ReferralDecision.ADVICE_FIELDS],
        help_text="Or with this advice given.",
    )
    history = HistoricalRecords(m2m_fields=[forms_of_abuse])

    class Meta:
        ordering = ("document", "order", "code")
        constraints = [
            models.UniqueConstraint(fields=["document", "code"], name="criterion_code_per_document")
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text[:60]}"
