"""Findings, the review report (cabinet Appendix 1) and case details (Appendix 3).

Ten cases in the first period, all rated met except K16.1, which the last three fail. The
findings page (internal) shows the figures as they are to everyone who may see the review;
only a reviewer holding grants on every case may list the cases behind a count. The two
appendices are for publication: their figures go through the disclosure policy together,
the same for everyone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import xml.etree.ElementTree as ET
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AccessLogEntry
from core.roles import Role
from referrals.models import Outcome, Referral, ReferralDecision
from reviews import figures, selectors, services
from reviews.models import ReviewRecommendation, ReviewTheme
from tests.conftest import sign_in_verified
from tests.factories import ReferralFactory, SchoolFactory
from tests.nplusone import set_up
from tests.support.tables import Tables

pytestmark = pytest.mark.django_db

LONDON = timezone.get_current_timezone()
CANARY = "qzcnry"
DOB = dt.date(2004, 2, 29)
DOB_FORMS = ("29 February 2004", "2004-02-29", "29/02/2004", "Feb. 29, 2004")
P1, P2 = "Jan - Jun 2018", "Jul - Dec 2018"
SVG = "http://www.w3.org/2000/svg"


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=LONDON)


# --- Reading the pages ------------------------------------------------------------------------------


def compliance(html: str, period: str) -> dict[str, dict[str, str]]:
    """The period's table as {criterion code: {column: cell text}}."""
    rows = Tables(html).tables[f"Compliance by criterion: {period}"]
    header, body = rows[0], rows[1:]
    table = {}
    for row in body:
        code = "All" if row[0].startswith("All criteria") else row[0].split()[0]
        table[code] = dict(zip(header[1:], row[1:], strict=True))
    return table


def number(text: str) -> int | None:
    return None if text.startswith("[c]") else int(text.split()[0])


def charts(html: str) -> list[ET.Element]:
    found = re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    return [ET.fromstring(svg) for svg in found]  # noqa: S314 - our own page


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [n for n in (CANARY, "leakcheck", "leak0001", *(f.lower() for f in DOB_FORMS)) if n in lowered]


# --- The review -------------------------------------------------------------------------------------


@pytest.fixture
def people(role_user):
    return {
        "lead": role_user(Role.LEAD_REVIEWER, username="lead"),
        "reviewer": role_user(Role.REVIEWER, username="reviewer"),
        "officer": role_user(Role.REPORT_OFFICER, username="officer"),
        "stranger": role_user(Role.REVIEWER, username="stranger"),
        "second": role_user(Role.REVIEWER, username="second"),  # moderation's second reviewer
    }


@pytest.fixture
@set_up
def cases(people):
    """Ten closed referrals (nobody holds a default grant), a canary in every identity."""
    school = SchoolFactory(name="Leakcheck Academy", urn="LEAK0001")
    made = []
    for index in range(10):
        referral = ReferralFactory(
            received_at=at(dt.date(2018, 1, 8) + dt.timedelta(weeks=index)), status=Referral.Status.CLOSED
        )
        referral.detail.narrative = "Qzcnry narrative"
        referral.detail.referrer_name = "Qzcnry Referrer"
        referral.detail.save()
        for number_, link in enumerate(referral.children.select_related("child")):
            child = link.child
            child.first_name, child.last_name = f"Qzcnry{index}", f"Qzcnrylast{number_}"
            child.date_of_birth, child.school = DOB, school
            child.save()
        made.append(referral)
    decision = ReferralDecision.objects.create(
        referral=made[0],
        rationale="Qzcnry rationale",
        dsl_informed=True,
        risk_assessment_advised=True,
        separation_advised=False,
        police_informed=False,
        parents_informed=True,
        support_advised=True,
        advice_notes="Qzcnry advice",
        decided_at=made[0].received_at + dt.timedelta(hours=3),
        decided_by=people["lead"],
        within_timescale=True,
    )
    decision.outcomes.set([Outcome.objects.get(code="early-help")])
    return made


def not_met_last_three(index: int, code: str) -> str:
    return "not_met" if code == "K16.1" and index >= 7 else "met"


@set_up
def build_review(people, cases, rating_for=not_met_last_three):
    lead, reviewer = people["lead"], people["reviewer"]
    review = services.review_create(
        user=lead,
        title="Peer on peer review",
        terms_of_reference="Assess the advice MASH gave against the DfE guidance in force at the time.",
        lead_reviewer=lead,
        reviewers=[reviewer, people["second"]],
        periods=[
            services.PeriodInput(P1, dt.date(2018, 1, 1), dt.date(2018, 6, 30)),
            services.PeriodInput(P2, dt.date(2018, 7, 1), dt.date(2018, 12, 31)),
        ],
        grants_end_on=timezone.localdate() + dt.timedelta(days=60),
    )
    services.review_start_screening(user=lead, review_id=review.pk)
    for decision in review.screening.filter(candidate=True):
        services.screening_decide(user=lead, decision_id=decision.pk, include=True)
    services.review_start_reviewing(user=lead, review_id=review.pk)
    for index, referral in enumerate(cases):
        a = services.assessment_assign(
            user=lead, review_id=review.pk, referral_id=referral.pk, reviewer=reviewer
        )
        ratings = {
            r.criterion_id: services.RatingInput(rating_for(index, r.criterion.code), "Qzcnry evidence")
            for r in a.ratings.select_related("criterion")
        }
        a = services.assessment_save(
            user=reviewer,
            assessment_id=a.pk,
            expected_version=a.version,
            ratings=ratings,
            advice_matched="partly",
            overall_judgement="good" if index % 2 else "requires_improvement",
            good_practice="Qzcnry good practice",
            areas_for_improvement="Qzcnry improvement",
        )
        a = services.assessment_submit(user=reviewer, assessment_id=a.pk, expected_version=a.version)
        services.assessment_decide(user=lead, assessment_id=a.pk, accept=True, comments="Qzcnry comment")
    review.refresh_from_db()
    return review


@pytest.fixture
def review(people, cases):
    return build_review(people, cases)


def page(client, user, name, review, query=None) -> str:
    sign_in_verified(client, user)
    url = reverse(f"reviews:{name}", args=[review.pk]) + (f"?{urlencode(query)}" if query else "")
    response = client.get(url)
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


# --- Suppression ------------------------------------------------------------------------------------


def test_the_findings_page_shows_every_figure_to_whoever_may_see_the_review(client, people, review):
    """The findings page is internal (OFFICIAL-SENSITIVE): no [c] for the lead, who holds no
    grant, any more than for the reviewer who does."""
    for viewer in ("reviewer", "lead"):
        html = page(client, people[viewer], "findings", review)
        shown = compliance(html, P1)
        assert shown["K16.1"]["Not met"] == "3 (30%)", viewer
        assert number(shown["K16.1"]["Met"]) == 7, viewer
        assert not any(cell.startswith("[c]") for row in shown.values() for cell in row.values()), viewer
        assert "OFFICIAL-SENSITIVE" in html
        assert "Figures suppressed" not in html


def test_the_report_suppresses_a_count_of_3_and_what_would_give_it_away(client, people, review):
    report = compliance(page(client, people["lead"], "report", review), P1)
    assert report["K16.1"]["Not met"].startswith("[c]")
    # Secondary suppression: 7 is no small number, but shown beside its row total of 10 it
    # would give the suppressed 3 away.
    assert report["K16.1"]["Met"].startswith("[c]")
    for code, row in report.items():
        assert sum(cell.startswith("[c]") for cell in row.values()) != 1, code
    html = page(client, people["lead"], "report", review)
    assert "[c] = fewer than 6 cases, or hidden so that no total or other published figure" in html
    assert "(suppressed: see the note below the table)" in html


def test_the_report_table_is_exactly_what_the_publication_gives(client, people, review):
    from reviews.disclosure import review_publication

    publication = review_publication(review=review)
    grid = publication.result.grid("compliance-1")
    findings = selectors.review_findings(review=review)
    codes = [code for code, _ in findings.criteria if (code, P1) in findings.counts]
    report = compliance(page(client, people["lead"], "report", review), P1)
    labels = [label for _, label in figures.RATINGS]
    for i, code in enumerate(codes):
        assert [number(report[code][label]) for label in labels] + [number(report[code]["Total"])] == grid[i]
    assert [number(report["All"][label]) for label in labels] + [number(report["All"]["Total"])] == grid[-1]
    assert publication.result.problems == []


def test_no_percentage_is_given_for_a_suppressed_cell(client, people, review):
    for name in ("findings", "report"):
        html = page(client, people["lead"], name, review)
        for code, row in compliance(html, P1).items():
            for column, text in row.items():
                if text.startswith("[c]"):
                    assert "%" not in text, (name, code, column)
                elif number(text) and number(row["Total"] or "[c]") is None:
                    assert "%" not in text, (name, code, column)  # no total, no share


def test_the_report_is_suppressed_even_for_someone_who_may_see_every_case(client, people, review):
    report = compliance(page(client, people["reviewer"], "report", review), P1)
    assert report["K16.1"]["Not met"].startswith("[c]")
    assert report["K16.1"]["Met"].startswith("[c]")


def test_the_threshold_is_a_setting(client, people, review, settings):
    settings.REVIEW_SUPPRESSION_THRESHOLD = 2
    html = page(client, people["lead"], "findings", review)
    assert number(compliance(html, P1)["K16.1"]["Not met"]) == 3
    assert "fewer than 3 cases" not in html  # nothing left to suppress, so no note


def test_the_report_funnel_suppresses_small_numbers(client, people, cases):
    # Two referrals in the period that the rules leave out: a count of 2.
    for day in (dt.date(2018, 2, 1), dt.date(2018, 2, 2)):
        ReferralFactory(received_at=at(day), status=Referral.Status.CLOSED, is_peer_on_peer=False)
    review = build_review(people, cases)
    rows = Tables(page(client, people["officer"], "report", review)).tables[
        "Referrals received in the periods, by how they were screened"
    ]
    by_label = {row[0]: row[1:] for row in rows[1:]}
    assert by_label["Excluded: not peer-on-peer abuse"][0].startswith("[c]")
    # 12 received beside 10 included would give the 2 away, so more goes with it, until
    # every line (row or column) hides none of its figures or at least two.
    lines = [*by_label.values(), *zip(*by_label.values(), strict=True)]
    for line in lines:
        assert sum(cell.startswith("[c]") for cell in line) != 1, line
    assert by_label["Included in the review"][1].startswith("[c]")


# --- Drill-down ---------------------------------------------------------------------------------


def drill_references(html: str) -> set[str]:
    section = re.search(r'<section id="cases".*?</section>', html, flags=re.DOTALL)
    assert section, "no drill-down section"
    return set(re.findall(r"MASH-\d{4}-\d{4}", section.group(0)))


def test_the_drill_down_lists_exactly_the_cases_behind_a_count(client, people, review, cases):
    html = page(client, people["reviewer"], "findings", review)
    query = urlencode({"criterion": "K16.1", "period": P1, "rating": "not_met"})
    assert f'href="?{query.replace("&", "&amp;")}#cases"' in html  # the count of 3 links to them
    html = page(
        client,
        people["reviewer"],
        "findings",
        review,
        {"criterion": "K16.1", "period": P1, "rating": "not_met"},
    )
    assert drill_references(html) == {c.reference for c in cases[7:]}
    for referral in cases[7:]:
        assert reverse("referrals:detail", args=[referral.pk]) in html
    html = page(
        client, people["reviewer"], "findings", review, {"criterion": "K16.1", "period": P1, "rating": "met"}
    )
    assert drill_references(html) == {c.reference for c in cases[:7]}
    assert AccessLogEntry.objects.count() == 0  # references are not exempt


def test_without_grants_there_is_no_drill_down(client, people, review, cases):
    html = page(client, people["lead"], "findings", review)
    assert "#cases" not in html  # suppressed counts link nowhere
    html = page(
        client, people["lead"], "findings", review, {"criterion": "K16.1", "period": P1, "rating": "not_met"}
    )
    assert drill_references(html) == set()
    assert "cases behind a figure are not listed" in html
    sign_in_verified(client, people["lead"])
    url = reverse("reviews:findings", args=[review.pk])
    assert client.get(url, {"criterion": "K16.1", "period": "No such", "rating": "met"}).status_code == 404


# --- The chart ------------------------------------------------------------------------------------


def chart_values(svg: ET.Element) -> dict[str, dict[str, int]]:
    values: dict[str, dict[str, int]] = {}
    for group in svg.iter(f"{{{SVG}}}g"):
        bar = values.setdefault(group.get("data-criterion"), {})
        for rect in group.iter(f"{{{SVG}}}rect"):
            if rect.get("data-value"):
                bar[rect.get("data-rating")] = int(rect.get("data-value"))
    return values


@pytest.mark.parametrize(
    ("viewer", "name"), [("reviewer", "findings"), ("lead", "findings"), ("lead", "report")]
)
def test_the_chart_is_well_formed_svg_whose_figures_match_the_table(client, people, review, viewer, name):
    html = page(client, people[viewer], name, review)
    svgs = charts(html)
    assert len(svgs) == 1  # the second period has no cases
    svg = svgs[0]
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{{{SVG}}}title").get("id") == title_id
    desc = svg.find(f"{{{SVG}}}desc")
    assert desc.get("id") == desc_id
    table = compliance(html, P1)
    labels = dict(figures.RATINGS)
    drawn = chart_values(svg)
    assert set(drawn) == set(table) - {"All"}
    for code, bar in drawn.items():
        for rating, label in labels.items():
            shown = number(table[code][label])
            if shown:
                assert bar.get(rating) == shown, (code, rating)
            else:
                assert rating not in bar, (code, rating)  # a suppressed value is never drawn
    if name == "report":
        assert "suppressed" in desc.text
        assert drawn["K16.1"] == {}  # both of its figures are suppressed
    else:
        assert drawn["K16.1"] == {"met": 7, "not_met": 3}
        widths = {
            r.get("data-rating"): float(r.get("width"))
            for r in svg.iter(f"{{{SVG}}}rect")
            if r.get("data-rating")
        }
        assert widths  # shares of a 600-wide bar
        assert "suppressed" not in desc.text


def test_a_shown_segment_never_sits_where_a_hidden_one_would_put_it():
    """Shown values are laid end to end from the left: none is placed after a hidden one."""
    findings = selectors.Findings(
        periods=["P"],
        criteria=[("A", "a"), ("B", "b")],
        counts={
            ("A", "P"): Counter(met=20, partly_met=3, not_met=30, not_recorded=2),
            ("B", "P"): Counter(met=40, partly_met=4, not_met=20, not_recorded=3),
        },
        referrals={},
    )
    table = figures.compliance_table(findings, period="P", suppressed=True, threshold=5)
    chart = figures.compliance_chart(table, chart_id="c")
    bar = chart.bars[0]
    shown = [s for s in bar.segments if s.value is not None]
    assert [s.rating for s in shown] == ["met", "not_met"]  # partly met (3) is not drawn
    assert shown[0].x == figures.BAR_X
    assert shown[1].x == pytest.approx(figures.BAR_X + shown[0].width, abs=0.2)
    assert bar.segments[-1].value is None
    assert bar.segments[-1].label == "[c]"


# --- Identities -------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["lead", "reviewer", "officer"])
def test_the_report_and_case_details_never_show_identities(client, people, review, cases, viewer):
    before = AccessLogEntry.objects.count()
    for name in ("report", "case_details", "findings"):
        html = page(client, people[viewer], name, review)
        assert not leaks(html), (name, leaks(html))
    for name in ("report", "case_details"):
        html = page(client, people[viewer], name, review)
        for referral in cases:
            assert referral.reference not in html, name  # case numbers, never MASH references
        assert "8 January 2018" not in html  # month and year only
    assert AccessLogEntry.objects.count() == before


def test_case_details_give_counts_and_withhold_the_case_by_case_list(client, people, review, cases):
    html = page(client, people["officer"], "case_details", review)
    tables = Tables(html).tables
    # No row per case: with ten cases, every combination of what a row shows is too rare.
    assert "The cases, one a row" not in tables
    assert "The cases are not listed one by one" in html
    assert "January 2018" not in html
    assert "March 2018" not in html
    assert "11 to 13" not in html
    assert "14 to 15" not in html
    phase = {row[0]: row[1:] for row in tables["Cases by school phase"][1:]}
    assert phase[P1] == ["10", "10"]  # Secondary, and the period's total
    assert phase["All periods"] == ["10", "10"]
    judgement = {row[0]: row[1:] for row in tables["Cases by the review's overall judgement"][1:]}
    assert judgement[P1][:2] == ["[c]", "[c]"]  # five good, five requiring improvement
    # The same quantity is shown the same everywhere: the included cases in the funnel.
    report = Tables(page(client, people["officer"], "report", review)).tables
    funnel = {
        row[0]: row[1:] for row in report["Referrals received in the periods, by how they were screened"]
    }
    assert funnel["Included in the review"][1:] == ["10", "10"]


def test_a_case_list_is_published_only_when_no_combination_is_rare():
    from core.disclosure import listing_publishable

    assert listing_publishable([("a", "x")] * 6 + [("b", "y")] * 6, threshold=5)
    assert not listing_publishable([("a", "x")] * 6 + [("b", "y")] * 5, threshold=5)


def test_a_published_case_is_coarsened():
    from reviews.disclosure import _public_case

    detail = selectors.CaseDetail(
        number=1,
        period=P1,
        received="January 2018",
        forms_of_abuse=["Sexual assault"],
        victim_ages=["11 to 13"],
        alleged_ages=["14 to 15"],
        school_phases=["Primary", "Secondary"],
        same_school=None,
        outcomes=[],
        within_timescale=True,
        judgement="Good",
    )
    public = _public_case(detail)
    assert public.period == P1
    assert public.school_phase == "More than one phase"
    assert "January 2018" not in repr(public)
    assert "11 to 13" not in repr(public)
    assert public.same_school == "Not known"
    assert public.outcomes == ("No decision recorded",)


def test_age_bands():
    assert [selectors.age_band(a) for a in (9, 10, 11, 13, 14, 15, 16, 17, 18)] == [
        "10 or under",
        "10 or under",
        "11 to 13",
        "11 to 13",
        "14 to 15",
        "14 to 15",
        "16 to 17",
        "16 to 17",
        "18 or over",
    ]


# --- Who may open the pages -------------------------------------------------------------------------


def test_only_those_the_review_is_shared_with_open_the_pages(client, people, review):
    for name in ("findings", "report", "case_details"):
        url = reverse(f"reviews:{name}", args=[review.pk])
        sign_in_verified(client, people["stranger"])
        assert client.get(url).status_code == 404, name
        sign_in_verified(client, people["officer"])
        assert client.get(url).status_code == 200, name


# --- Themes and recommendations ---------------------------------------------------------------------


def test_the_lead_writes_themes_and_numbered_recommendations_for_the_report(client, people, review):
    url = reverse("reviews:findings", args=[review.pk])
    sign_in_verified(client, people["lead"])
    bad = client.post(url, {"action": "theme", "theme-title": "", "theme-text": ""})
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "Enter the title of the theme" in body
    assert 'href="#id_theme-title"' in body  # the error summary links to the field
    assert body.count("<title>Error: ") == 1
    client.post(
        url, {"action": "theme", "theme-title": "Recording", "theme-text": "Decisions were recorded."}
    )
    client.post(url, {"action": "theme", "theme-title": "Separation", "theme-text": "Rarely considered."})
    client.post(url, {"action": "recommendation", "recommendation-text": "Train every DSL."})
    client.post(url, {"action": "recommendation", "recommendation-text": "Audit the MASH yearly."})
    taken = client.post(
        url, {"action": "recommendation", "recommendation-number": "1", "recommendation-text": "Again"}
    )
    assert taken.status_code == 400
    assert "Recommendation 1 already exists" in taken.content.decode()
    assert list(review.recommendations.values_list("number", "text")) == [
        (1, "Train every DSL."),
        (2, "Audit the MASH yearly."),
    ]
    theme = review.themes.get(title="Recording")
    editing = client.get(url, {"theme": theme.pk}).content.decode()
    assert "Change the theme" in editing
    assert "Decisions were recorded.</textarea>" in editing
    client.post(
        url,
        {
            "action": "theme",
            "theme-theme_id": theme.pk,
            "theme-title": "Recording decisions",
            "theme-text": "Most decisions were recorded.",
        },
    )
    theme.refresh_from_db()
    assert theme.title == "Recording decisions"
    reasons = list(theme.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons == ["Theme added", "Theme changed"]
    assert theme.history.latest().history_user == people["lead"]

    report = page(client, people["officer"], "report", review)
    assert re.search(r"<h3[^>]*>2\.2 Recording decisions</h3>", report)
    assert re.search(r"<h3[^>]*>2\.3 Separation</h3>", report)
    assert re.search(r'<span class="app-number">3\.1</span> Train every DSL\.', report)
    assert re.search(r'<span class="app-number">3\.2</span> Audit the MASH yearly\.', report)
    document = re.search(r"<article.*?</article>", report, flags=re.DOTALL).group(0)
    headings = [int(level) for level in re.findall(r"<h([1-6])", document)]
    assert headings[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(headings))  # in order

    sign_in_verified(client, people["lead"])
    recommendation = review.recommendations.get(number=1)
    client.post(url, {"action": "remove_recommendation", "id": recommendation.pk})
    assert not ReviewRecommendation.objects.filter(pk=recommendation.pk).exists()
    assert recommendation.history.latest().history_change_reason == "Recommendation removed"


def test_only_the_lead_may_change_themes_and_not_once_closed(client, people, review):
    url = reverse("reviews:findings", args=[review.pk])
    data = {"action": "theme", "theme-title": "T", "theme-text": "Text"}
    for user in (people["officer"], people["reviewer"]):
        sign_in_verified(client, user)
        assert "Add a theme" not in client.get(url).content.decode()
        assert client.post(url, data).status_code == 404
    assert not ReviewTheme.objects.exists()
    lead = people["lead"]
    services.review_start_moderation(user=lead, review_id=review.pk)
    services.review_advance(user=lead, review_id=review.pk, to="reporting")
    services.review_advance(user=lead, review_id=review.pk, to="closed")
    sign_in_verified(client, lead)
    assert "Add a theme" not in client.get(url).content.decode()
    response = client.post(url, data, follow=True)
    assert "The review is closed; its report can no longer be changed" in response.content.decode()
    assert not ReviewTheme.objects.exists()


def test_findings_before_any_assessment_is_accepted(client, people, cases):
    review = services.review_create(
        user=people["lead"],
        title="Empty review",
        terms_of_reference="ToR",
        lead_reviewer=people["lead"],
        reviewers=[people["reviewer"]],
        periods=[services.PeriodInput(P1, dt.date(2018, 1, 1), dt.date(2018, 6, 30))],
        grants_end_on=timezone.localdate() + dt.timedelta(days=60),
    )
    for name in ("findings", "report", "case_details"):
        html = page(client, people["lead"], name, review)
        assert "<svg" not in html, name
