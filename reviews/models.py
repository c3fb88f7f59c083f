"""Case reviews: historic referrals assessed against the guidance in force at the time.

The models arrive with the case-review work; the app is installed now so the design card's
layout holds from the start.
"""
