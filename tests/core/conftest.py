"""Fixtures the posture tests share with the URL walk and the leak test (re-exported)."""

from tests.test_access import review_ids  # noqa: F401
from tests.test_exempt_leak import canary_referral, canary_review, published  # noqa: F401
