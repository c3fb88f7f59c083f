"""Cross-site scripting: a payload in every free-text field of every model, then every page,
e-mail and PDF part looked at as a browser would parse it.

The payload goes in by field type, not by name (every ``CharField`` and ``TextField`` without
choices, history tables included), so a model merged later is filled the same way. The pages
are every URL of the URLconf as every actor. The check parses the HTML: no script but the
service's own files, no event-handler attribute, no ``javascript:`` link, no element the
payload would make, no template syntax evaluated.
"""

from __future__ import annotations

import inspect
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.core import mail
from django.db import DatabaseError, IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.test import RequestFactory

from core import permissions
from core.roles import Role
from referrals import services
from tests.hostile.walk import ACTORS, body_of, build_world
from tests.support.access import app_urls
from tests.support.documents import _documents

pytestmark = pytest.mark.django_db

LONG = 'javascript:alert(1)//"><script>alert(2)</script><img src=x onerror=alert(3)>{{ 7|add:9000 }}'
MEDIUM = '"><svg onload=alert(4)>{{ 7|add:9000 }}'
SHORT = "<i>x</i>"
TINY = "<i>"
EVALUATED = "9007"  # what {{ 7|add:9000 }} becomes if a payload is ever compiled as a template

#: Fields that are not free text a person types (codes the code looks up, keys, hashes).
NOT_FREE_TEXT = {
    "password",
    "username",
    "email",
    "code",
    "urn",
    "reference",
    "sha256",
    "session_key",
    "history_type",
    "first_name_key",
    "last_name_key",
    "record_type",
    "channel",
    "kind",
    "status",
    # A published version's frozen papers: HTML the service rendered (from escaped templates,
    # with the typed values this walk fills escaped) when the papers were published. Nobody
    # types it; the typed values it was made from are walked in their own fields.
    "report_html",
    "body_html",
}


#: Apps whose models hold what people type; an app merged later is added here.
PRODUCT_APPS = {"core", "referrals", "reviews", "guidance", "scrutiny", "modelguidance"}


def payload_for(field: models.Field) -> str:
    limit = field.max_length or 10_000
    for payload in (LONG, MEDIUM, SHORT, TINY):
        if len(payload) <= limit:
            return payload
    return ""


def free_text_fields(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not f.choices
        and not f.primary_key
        and f.name not in NOT_FREE_TEXT
        and not isinstance(
            f, models.EmailField | models.URLField | models.SlugField | models.GenericIPAddressField
        )
    ]


def fill_every_free_text_field() -> int:
    """Put a payload in every free-text field of every row of every model. Returns the count."""
    filled = 0
    from django.contrib.auth import get_user_model

    for model in apps.get_models():
        # The product's own apps (and those merged later), and people's names.
        if model._meta.app_label not in PRODUCT_APPS and model is not get_user_model():
            continue
        fields = free_text_fields(model)
        if not fields:
            continue
        for pk in model._base_manager.values_list("pk", flat=True):
            # A test fixture, not a service: the rows exist only to be rendered. A field whose
            # payload would break a unique constraint (a child's label "A") keeps its value.
            for f in fields:
                payload = payload_for(f)
                limit, suffix = f.max_length or 10_000, str(pk)
                # The second try makes the value unique with the row's id, within the field's
                # length (a three-character label holds no payload and a four-digit id).
                unique = f"{payload[: max(limit - len(suffix), 0)]}{suffix}"
                for value in (payload, unique) if len(unique) <= limit else (payload,):
                    try:
                        with transaction.atomic():
                            model._base_manager.filter(pk=pk).update(**{f.attname: value})
                    except IntegrityError:
                        continue
                    except DatabaseError:
                        break  # an append-only table (PostgreSQL refuses the UPDATE): see below
                    filled += 1
                    break
    return filled


class _Dom(HTMLParser):
    """Whatever in a page could run script, or is an element the payload made."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=...>: an event handler")
            if name.lower() in ("href", "src", "action", "formaction", "xlink:href") and value.startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.problems.append(f"<{tag} {name}={value[:40]}>: a script link")
        attributes = dict(attrs)
        if tag == "script":
            self.in_script = True
            if not (attributes.get("src") or "").startswith("/static/"):
                self.problems.append("<script> that is not one of the service's own files")
        if tag == "img" and attributes.get("src") == "x":
            self.problems.append("<img src=x>: the payload's element")
        if tag == "svg" and "onload" in attributes:
            self.problems.append("<svg onload>: the payload's element")

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False


def script_problems(html: str) -> list[str]:
    dom = _Dom()
    dom.feed(html)
    dom.close()
    problems = list(dom.problems)
    for raw in ("<script>alert(2)", "<img src=x onerror", "<svg onload", SHORT):
        if raw in html:
            problems.append(f"{raw!r} unescaped")
    if EVALUATED in html:
        problems.append("{{ 7|add:9000 }} was evaluated")
    return problems


@pytest.fixture
def filled_world(role_user, canary_referral, canary_review, django_capture_on_commit_callbacks):
    world = build_world(role_user)
    manager = world.users[Role.MASH_MANAGER.value]
    # The manager may see the canary referral's identities, so the exempt fields render too.
    services.referral_grant(
        granted_by=role_user(Role.MASH_MANAGER, username="xss-grantor"),  # nobody grants to themselves
        referral_id=canary_referral.pk,
        user=manager,
        actions=[permissions.VIEW_EXEMPT, permissions.CHANGE],
        reason="Reads the case for the XSS walk",
    )
    assert fill_every_free_text_field() > 50
    # Append-only rows take their payload when written: an emergency access whose reason is
    # one, waiting in information governance's review queue.
    from core.models import AccessLogEntry

    AccessLogEntry.objects.create(
        user=manager,
        record_type="referrals.referral",
        record_id=canary_referral.pk,
        record_label=canary_referral.reference,
        channel=AccessLogEntry.Channel.BREAK_GLASS,
        reason=LONG,
        break_glass=True,
    )
    return world


@pytest.mark.parametrize("actor", ACTORS)
def test_payloads_in_every_free_text_field_render_escaped_on_every_page(
    client,
    actor,
    filled_world,
    canary_referral,
    canary_review,
):
    world = filled_world
    world.sign_in(client, actor)
    urls = {
        **world.urls(),
        **{f"canary {k}": v for k, v in app_urls(canary_referral.pk, **canary_review).items()},
    }
    seen_payload = 0
    for name, url in urls.items():
        if name in ("logout",):
            continue
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = body_of(response)
        seen_payload += "&lt;i&gt;x&lt;/i&gt;" in html or "&lt;script&gt;" in html or "&quot;&gt;&lt;" in html
        assert not script_problems(html), (actor, name, script_problems(html))
    if actor in (Role.MASH_MANAGER.value, "review_lead"):
        assert seen_payload, "the walk should have met the payload somewhere (escaped)"


def test_emails_carry_no_markup_that_runs(filled_world, canary_referral):
    """The service's e-mails are plain text; an HTML alternative, if one is added, is checked."""
    from referrals.models import ReferralDecision, ReferralDetail

    ReferralDetail.objects.filter(referral=canary_referral).update(referrer_contact="dsl@school.example")
    decision = ReferralDecision.objects.filter(referral=canary_referral).latest("pk")
    ReferralDecision.objects.filter(pk=decision.pk).update(feedback_sent_at=None)
    manager = filled_world.users[Role.MASH_MANAGER.value]
    mail.outbox.clear()
    services.decision_send_feedback(decision_id=decision.pk)
    request = RequestFactory().get("/")
    services.referral_break_glass(
        request=request,
        user=manager,
        referral_id=filled_world.referral_pk,
        # A reason must read as words (core.reasons): the payload rides inside real ones.
        reason=f"Police called about the child tonight {LONG}",
    )
    from core.models import AccessLogEntry

    services.break_glass_notify(entry_id=AccessLogEntry.objects.filter(break_glass=True).latest("pk").pk)
    assert len(mail.outbox) >= 2
    for message in mail.outbox:
        assert "\n" not in message.subject
        assert "\r" not in message.subject
        assert EVALUATED not in message.body, message.body
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                assert not script_problems(content), script_problems(content)


def _registry(documents) -> dict:
    for name in ("REGISTRY", "registry", "_registry", "KINDS", "kinds"):
        value = getattr(documents, name, None)
        if isinstance(value, dict):
            return value
        if callable(value):
            result = value()
            if isinstance(result, dict):
                return result
    raise AssertionError("core.documents has no registry this test can read: name it REGISTRY")


def _entry(value, key):
    return value[key] if isinstance(value, dict) else getattr(value, key)


def test_pdf_parts_html_is_escaped(filled_world):
    """Every HTML part of every registered document kind, for every object of its model,
    rendered from the payload-filled database: the HTML WeasyPrint would get is escaped."""
    documents = _documents()
    registry = _registry(documents)
    assert registry, "no document kind is registered"
    checked = 0
    for kind, entry in registry.items():
        model, parts = _entry(entry, "model"), _entry(entry, "parts")
        keyword = next(iter(inspect.signature(parts).parameters))
        for obj in model._default_manager.all()[:5]:
            for part in parts(**{keyword: obj}):
                if not isinstance(part, documents.HtmlPart):
                    continue
                html = render_to_string(part.template, part.context)
                assert not script_problems(html), (kind, part.title, script_problems(html))
                checked += 1
    if not checked:
        pytest.fail("no object of a registered document kind exists in the walk's data")


@pytest.mark.parametrize(
    "page", [f"<p>{LONG}</p>", f"<p>{MEDIUM}</p>", f"<p>{SHORT}</p>", '<a href=" JavaScript:x">']
)
def test_the_check_sees_a_payload_that_would_run(page):
    assert script_problems(page)


def test_the_check_passes_escaped_payloads():
    from django.utils.html import escape

    assert not script_problems(
        f"<p>{escape(LONG)} {escape(MEDIUM)} {escape(SHORT)}</p>".replace(EVALUATED, "")
    )
