"""``make loadtest``: mixed traffic of the three user groups against a production-shaped server.

Run by ``loadtest/run.sh`` (headless, time-limited). Each simulated user takes one of the
verified sessions ``manage.py loadtest_prepare`` wrote (no sign-in here: the sessions are real
two-factor-verified sessions, and every request still passes the session, two-factor and grant
checks). Requests carry ``X-Forwarded-Proto: https`` as they would behind the TLS-terminating
proxy production runs behind, so the production settings' HTTPS redirect, secure cookies and
CSRF origin checks apply unchanged.

- practitioners: list the work tray, open a referral, open its edit page and save it
  (a 409 "someone else saved it" is the concurrency check working, counted apart);
- reviewers: open an assigned assessment and save their ratings;
- officers: read the case review's findings and report pages;
- everyone: the accessibility statement, the trivial page whose throughput the others are
  compared with.
"""

from __future__ import annotations

import json
import os
import random
import secrets

from forms import form_fields
from locust import HttpUser, between, events, task

SESSIONS = json.load(open(os.environ["LOADTEST_SESSIONS"]))  # noqa: SIM115
HOST_HEADERS = {"X-Forwarded-Proto": "https"}
_taken: dict[str, int] = {}


class SessionUser(HttpUser):
    abstract = True
    group = ""
    wait_time = between(0.5, 1.5)

    def on_start(self):
        sessions = SESSIONS["groups"][self.group]
        number = _taken.get(self.group, 0)
        _taken[self.group] = number + 1
        session = sessions[number % len(sessions)]
        self.base = self.host.rstrip("/")
        self.csrf = secrets.token_hex(16)  # the CSRF secret this client sends as cookie and field
        self.client.headers.update(
            {
                **HOST_HEADERS,
                "Cookie": f"sessionid={session}; csrftoken={self.csrf}",
                "Origin": "https://" + self.base.split("://", 1)[1],
                "Referer": "https://" + self.base.split("://", 1)[1] + "/",
            }
        )

    def get(self, url: str, name: str):
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} from {url}")
            return response

    def post_form(self, url: str, page_html: str, name: str, extra=()):
        fields = [(k, v) for k, v in form_fields(page_html) if k != "csrfmiddlewaretoken"]
        fields += [("csrfmiddlewaretoken", self.csrf), *extra]
        with self.client.post(
            url, data=fields, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code == 302:
                response.success()
            elif response.status_code == 409 or (
                response.status_code == 400 and "Someone else saved" in response.text
            ):
                response.success()
                events.request.fire(
                    request_type="NOTE",
                    name=f"{name}: concurrent save refused as designed",
                    response_time=0,
                    response_length=0,
                    exception=None,
                    context={},
                )
            else:
                response.failure(f"{response.status_code} from POST {url}")

    @task(1)
    def trivial(self):
        self.get("/accessibility/", "trivial: accessibility statement")


class Practitioner(SessionUser):
    group = "practitioner"
    weight = 6

    @task(4)
    def tray(self):
        self.get("/referrals/", "practitioner: work tray")

    @task(3)
    def open_referral(self):
        pk = random.choice(SESSIONS["referrals"])  # noqa: S311
        self.get(f"/referrals/{pk}/", "practitioner: referral")

    @task(1)
    def edit_referral(self):
        pk = random.choice(SESSIONS["referrals"])  # noqa: S311
        page = self.get(f"/referrals/{pk}/edit/", "practitioner: edit page")
        if page.status_code == 200:
            self.post_form(f"/referrals/{pk}/edit/", page.text, "practitioner: save referral")


class Reviewer(SessionUser):
    group = "reviewer"
    weight = 2

    @task(3)
    def rate(self):
        if not SESSIONS["assessments"]:
            return
        pk = random.choice(SESSIONS["assessments"])  # noqa: S311
        page = self.get(f"/reviews/assessments/{pk}/", "reviewer: assessment")
        if page.status_code == 200:
            self.post_form(f"/reviews/assessments/{pk}/", page.text, "reviewer: save ratings")


class Officer(SessionUser):
    group = "officer"
    weight = 1

    @task(2)
    def findings(self):
        pk = SESSIONS["reviews"][0]
        self.get(f"/reviews/{pk}/findings/", "officer: review findings")

    @task(1)
    def report(self):
        pk = SESSIONS["reviews"][0]
        self.get(f"/reviews/{pk}/report/", "officer: review report")
