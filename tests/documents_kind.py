"""A document kind registered only in tests: a pack about one referral.

Its public part says which referral; its exempt part lists the children's names and the
narrative (exempt data), so the leak checks have something to find. The Celery worker
started by the integration tests imports this module too (``--include``). Setting
``TEST_PACK_SLEEP`` makes reading the parts slow, so a test can kill a worker mid-render.
"""

from __future__ import annotations

import hashlib
import os
import time

from core.documents import HtmlPart, register
from core.permissions import can_see_exempt
from referrals.models import Referral
from tests.nplusone import set_up

KIND = "test_referral_pack"
PUBLIC_MARK = "Publicly known summary"


@set_up  # a test document rendered several times in one test: each render is its own job in use
def parts(*, referral: Referral):
    delay = float(os.environ.get("TEST_PACK_SLEEP", "0") or 0)
    if delay:
        time.sleep(delay)
    children = [
        [link.get_role_display(), f"{link.child.first_name} {link.child.last_name}"]
        for link in referral.children.select_related("child")
    ]
    return [
        HtmlPart(
            title=f"Report on referral {referral.reference}",
            template="core/pdf/parts/text.html",
            context={"paragraphs": [PUBLIC_MARK, f"Received {referral.received_at:%d %B %Y}."]},
        ),
        HtmlPart(
            title="Appendix 2 - The children",
            template="core/pdf/parts/table.html",
            context={
                "intro": referral.detail.narrative,
                "caption": "Children named in the referral",
                "headers": ["Role", "Name"],
                "rows": children,
            },
            exempt=True,
            schedule_12a_paragraph=2,
            public_interest="The public interest in keeping the children's identities exempt outweighs "
            "the public interest in disclosing them.",
        ),
    ]


def digest(*, referral: Referral) -> str:
    return hashlib.sha256(f"{referral.pk}:{referral.version}".encode()).hexdigest()


def classification(*, referral: Referral) -> str:
    return "Part exempt: Appendix 2 is exempt (paragraph 2 of Part 1 of Schedule 12A)"


def may_download_exempt(*, user, referral: Referral) -> bool:
    return can_see_exempt(user, referral)


register(
    KIND,
    model=Referral,
    parts=parts,
    digest=digest,
    classification=classification,
    may_download_exempt=may_download_exempt,
    title=lambda referral: f"Test pack for referral {referral.reference}",
)
