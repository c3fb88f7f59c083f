"""The demo cabinet report's public pack, through the disclosure policy: no suppressed figure
can be worked out from the rest of the pack, and no figure is shown in one place and
suppressed in another. The check here solves its own linear programmes over every table of
the output (not the policy's), as a reader with the whole pack and scipy would."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from scipy.optimize import linprog

from scrutiny import packs
from scrutiny.models import CabinetReport
from tests.conftest import sign_in_verified
from tests.support.tables import Tables

pytestmark = pytest.mark.django_db


def reader_bounds(result) -> dict:
    """For each suppressed quantity, (min, max) subject to every shown figure, every table's
    rows and columns adding up to their totals, every link between tables, and no negative
    count. Built from the published grids, not from the policy's own bookkeeping."""
    equations, shown = [], {}
    for table in result.tables.values():
        grid = result.grid(table.key)
        for i, j in table.positions():
            if grid[i][j] is not None:
                shown[table.key_at(i, j)] = grid[i][j]
        if table.margins:
            h, w = table.height, table.width
            for i in range(h + 1):
                equations.append([(table.key_at(i, j), 1) for j in range(w)] + [(table.key_at(i, w), -1)])
            for j in range(w + 1):
                equations.append([(table.key_at(i, j), 1) for i in range(h)] + [(table.key_at(h, j), -1)])
    equations += [link.equation() for link in result.links]
    unknown = sorted({k for eq in equations for k, _ in eq if k not in shown} | set(result.hidden), key=repr)
    index = {k: n for n, k in enumerate(unknown)}
    a = np.zeros((len(equations), len(unknown)))
    b = np.zeros(len(equations))
    for r, equation in enumerate(equations):
        for key, coefficient in equation:
            if key in index:
                a[r, index[key]] += coefficient
            else:
                b[r] -= coefficient * shown[key]
    found = {}
    for key in result.hidden:
        c = np.zeros(len(unknown))
        c[index[key]] = 1
        low = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        high = linprog(-c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        assert low.status == 0, key  # the published figures are consistent
        found[key] = (low.fun, -high.fun if high.status == 0 else float("inf"))
    return found


def test_the_demo_public_pack_reveals_no_suppressed_figure(
    settings, tmp_path, client, django_user_model, demo_data
):
    settings.DEBUG = True
    settings.MEDIA_ROOT = str(demo_data.copy_media(tmp_path))
    demo = CabinetReport.objects.get(meeting__date="2020-11-26")
    publications = packs.cabinet_report_disclosure(report=demo)
    assert len(publications) == 1
    _review, publication, appendices = publications[0]
    assert [a.number for a in appendices] == [1, 3]
    result = publication.result
    assert result.hidden  # the demo has small numbers to protect

    # Every table of the public output through a solver: no suppressed figure is pinned, or
    # narrowed to less than the policy's width.
    bounds = reader_bounds(result)
    for key, (low, high) in bounds.items():
        assert high - low >= result.min_width - 1e-6, (key, low, high)
    assert result.problems == []

    # One quantity, one decision: wherever a key appears, it is shown with the same value or
    # suppressed everywhere.
    seen = defaultdict(set)
    for table in result.tables.values():
        grid = result.grid(table.key)
        for i, j in table.positions():
            seen[table.key_at(i, j)].add(grid[i][j])
    assert all(len(values) == 1 for values in seen.values()), {k: v for k, v in seen.items() if len(v) > 1}

    # And as printed: the public appendices' own tables agree with each other.
    bodies = {}
    for appendix in appendices:
        _, body = packs.TEMPLATES[appendix.kind]
        bodies[appendix.number] = render_to_string(body, packs.appendix_context(appendix))
    html = "".join(bodies.values())
    tables = Tables(html).tables
    funnel = {r[0]: r[1:] for r in tables["Referrals received in the periods, by how they were screened"]}
    included = funnel["Included in the review"][-1]
    period_totals = defaultdict(set)
    for caption, rows in tables.items():
        if not caption.startswith("Cases ") or rows[0][-1] != "Total":
            continue
        for row in rows[1:]:
            if row[0] == "All periods":
                assert row[-1] == included, caption
            else:
                period_totals[row[0]].add(row[-1])
    assert period_totals
    assert all(len(v) == 1 for v in period_totals.values()), period_totals
    # No case-by-case list with months or ages: Appendix 3 is coarsened or withheld.
    months = "January|February|March|April|May|June|July|August|September|October|November|December"
    appendix_3 = bodies[3]
    for period in publication.review.periods.all():
        appendix_3 = appendix_3.replace(period.name, "")  # a period may be named by its months
    assert not re.search(rf"({months}) 20\d\d", appendix_3)
    for band in ("10 or under", "11 to 13", "14 to 15", "16 to 17"):
        assert band not in appendix_3
    # A mostly-suppressed period is given by guidance document, not rows of "Figures suppressed".
    for table, charts in publication.tables:
        bars = [bar for chart in charts for bar in chart.bars]
        assert sum(bar.note == "Figures suppressed" for bar in bars) <= len(bars) / 2, table.period

    # The officer's check page lists every figure, shown or suppressed, and why.
    officer = django_user_model.objects.get(username="officer")
    sign_in_verified(client, officer)
    page = client.get(reverse("scrutiny:disclosure_check", args=[demo.pk])).content.decode()
    assert "No suppressed figure can be worked out from the rest of the pack" in page
    assert page.count('<tr class="govuk-table__row">') >= len(result.figures)
    assert "Suppressed: a count from 1 to 5" in page
    report_page = client.get(reverse("scrutiny:report", args=[demo.pk])).content.decode()
    assert reverse("scrutiny:disclosure_check", args=[demo.pk]) in report_page
