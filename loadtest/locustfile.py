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
- officers: read the case review's findings and report pages, revise the cabinet report (a
  real change to one section, so the next export has new inputs) and export its public and
  exempt packs: ask for the pack, follow the job's status until the Celery worker has rendered
  it (or a finished pack of the same inputs is reused), then download it. The whole wait is
  reported as its own line ("officer: pack, request to download"), as an officer experiences it;
- everyone: the accessibility statement, the trivial page whose throughput the others are
  compared with.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import time

from forms import form_fields
from locust import HttpUser, between, events, task

SESSIONS = json.load(open(os.environ["LOADTEST_SESSIONS"]))  # noqa: SIM115
COOKIES = SESSIONS["cookies"]
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
                "Cookie": f"{COOKIES['session']}={session}; {COOKIES['csrf']}={self.csrf}",
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
        self.post_fields(url, [*form_fields(page_html), *extra], name)

    def post_fields(self, url: str, fields: list[tuple[str, str]], name: str):
        fields = [(k, v) for k, v in fields if k != "csrfmiddlewaretoken"]
        fields += [("csrfmiddlewaretoken", self.csrf)]
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


#: How long an officer waits for a pack before the export counts as failed (seconds).
PACK_PATIENCE = float(os.environ.get("LOADTEST_PACK_PATIENCE", "180"))


class Officer(SessionUser):
    group = "officer"
    weight = 1

    @task(1)
    def revise_report(self):
        pk = SESSIONS["report"]
        page = self.get(f"/scrutiny/reports/{pk}/edit/", "officer: report edit page")
        if page.status_code != 200:
            return
        stamp = f"Consulted again during load run {secrets.token_hex(4)}."
        fields = [(k, v) for k, v in form_fields(page.text) if k != "consultees"]
        self.post_fields(
            f"/scrutiny/reports/{pk}/edit/", [*fields, ("consultees", stamp)], "officer: save report"
        )

    @task(1)
    def export_pack(self):
        pk = SESSIONS["report"]
        variant = random.choice(SESSIONS["variants"])  # noqa: S311
        started = time.perf_counter()
        exports = self.get(f"/documents/cabinet_report_version/{pk}/", "officer: exports page")
        if exports.status_code != 200:
            return
        fields = [("csrfmiddlewaretoken", self.csrf), ("variant", variant)]
        with self.client.post(
            f"/documents/cabinet_report_version/{pk}/",
            data=fields,
            name="officer: ask for a pack",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"{response.status_code} asking for a {variant} pack")
                return
            job_url = response.headers["Location"]
        deadline = started + PACK_PATIENCE
        while True:
            status = self.get(f"{job_url}status/", "officer: pack status (JSON)")
            if status.status_code != 200:
                return
            state = status.json()
            if state["finished"] or time.perf_counter() > deadline:
                break
            time.sleep(1)
        outcome = "done" if state["status"] == "done" else f"{state['status']}: {state['message']}"
        if outcome == "done":
            download = self.get(f"{job_url}download/", "officer: download pack")
            if download.status_code != 200:
                outcome = f"the download answered {download.status_code}"
            elif not download.content.startswith(b"%PDF"):
                outcome = "the download is not a PDF"
        elif not state["finished"]:
            outcome = f"not finished after {PACK_PATIENCE:.0f} s"
        events.request.fire(
            request_type="PACK",
            name=f"officer: {variant} pack, request to download",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None if outcome == "done" else Exception(outcome),
            context={},
        )

    @task(2)
    def findings(self):
        pk = SESSIONS["reviews"][0]
        self.get(f"/reviews/{pk}/findings/", "officer: review findings")

    @task(1)
    def report(self):
        pk = SESSIONS["reviews"][0]
        self.get(f"/reviews/{pk}/report/", "officer: review report")
