"""The differential test: lists, searches and exports answer nothing about hidden records.

Rule (issue 12): no filter, sort, facet, count, search, autocomplete, duplicate check or export
may be keyed on an exempt value of a record the user may not identify. Proof that covers pages
not yet written: two worlds that differ *only* in the exempt values of the records a user may
not identify, every list, search and export endpoint of the URLconf, every query parameter it
accepts (read from its filterset or search form, and from the view's own ``request.GET``), each
probed with the hidden records' exempt values, as every role: the two worlds' responses must be
byte for byte the same once per-request noise (CSRF tokens, nonces) is removed.

Each world is built in a transaction that is rolled back once its responses are collected.
Closed referrals are identifiable to the MASH team (history checks); restricted ones are not.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import re
from dataclasses import dataclass

import django_filters
import pytest
import time_machine
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from zeal import zeal_ignore

from core import exempt, permissions
from core.roles import GROUP_NAMES, Role
from referrals.models import (
    AbuseForm,
    CaseNote,
    Child,
    Referral,
    ReferralChild,
    ReferralDetail,
    ReferralSource,
    School,
)
from tests.conftest import sign_in_verified
from tests.factories import UserFactory
from tests.nplusone import set_up
from tests.support.access import named_patterns

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)
INCIDENT = dt.date(2026, 6, 15)

#: URL names that are not pages to compare, with the reason.
NOT_PAGES = {
    "logout": "signing out would end the session under test",
    "core:two_factor_setup": "a new random secret on every visit; it holds no case data",
}
#: Views whose own query parameters are not filters or searches over records, with the reason.
#: A view that reads ``request.GET`` and is neither here nor declares a ``filterset_class`` or
#: ``search_form_class`` fails the test: it is a list the test cannot classify.
OTHER_QUERY_PARAMETERS = {
    "login": "?next= is where to go after signing in",
    "core:verify": "?next= is where to go after the second factor",
    "modelguidance:version_compare": "?with= picks another guidance version (no case data)",
    "core:notifications": "?page= pages through the user's own notifications (references only)",
    "referrals:create": "?draft= continues one of the author's own drafts (anyone else's is a 404)",
    "contexts:alerts": "?status= picks alerts awaiting action, acted on or all (no exempt value)",
    "reviews:findings": (
        "?theme=/?recommendation= pick an item to edit; ?criterion=&period=&rating= a table cell,"
        " shown only where no cell is suppressed (pseudonymous ratings, no exempt value)"
    ),
}
#: Pages under a record's URL whose names sound like lists, but which list one record's own
#: parts and take no query parameters.
LISTS_OF_ONE_RECORD = {
    "referrals:access_log": "who read this referral (managers and information governance)",
    "referrals:history": "this referral's history",
    "scrutiny:recommendation_history": "this recommendation's history",
    "scrutiny:report_history": "this report's history",
    "scrutiny:report": "one cabinet report",
    "scrutiny:report_preview": "one cabinet report, as a PDF",
    "scrutiny:report_edit": "one cabinet report",
    "scrutiny:report_grants": "one report's grants",
    "scrutiny:report_publish": "publishing one report's papers (a form, not a list)",
    "scrutiny:disclosure_check": "one report's published figures",
    "reviews:report": "one review's report",
    "modelguidance:version_acknowledgements": "one guidance version's acknowledgements",
    "documents:exports": "one record's document packs",
    "documents:job": "one export job",
    "documents:job_status": "one export job",
    "documents:download": "one export job's file",
}
#: Starting points for a list's probes, where its default view would hide most records.
BASELINES = {"referrals:tray": [{"view": "all"}]}
PROJECT_APPS = {
    "config",
    "core",
    "referrals",
    "reviews",
    "scrutiny",
    "guidance",
    "modelguidance",
    "records",
    "contexts",
}
_LIST_NAME = re.compile(r"List|Export|Search|Tray|Tracker|Log|Report", re.IGNORECASE)
_GET_KEYS = re.compile(r"""GET\.get\(\s*["'](\w+)["']|GET\[\s*["'](\w+)["']\]""")


# --- The endpoints -----------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    url: str
    parameters: dict[str, object]  # name -> the filter or form field (None: read by the view)


def _view_class(pattern):
    return getattr(pattern.callback, "view_class", None)


def _own_get_keys(view_class) -> set[str]:
    """Query parameters the view reads itself (its source, and its project base classes')."""
    keys: set[str] = set()
    for klass in inspect.getmro(view_class):
        if getattr(klass, "__module__", "").split(".")[0] not in PROJECT_APPS:
            continue
        for match in _GET_KEYS.finditer(inspect.getsource(klass)):
            keys.add(match.group(1) or match.group(2))
    return keys


def _reads_query(view) -> bool:
    """Whether the view (a class and its project bases, or a function) reads ``request.GET``."""
    parts = inspect.getmro(view) if inspect.isclass(view) else (view,)
    return any(
        part.__module__.split(".")[0] in PROJECT_APPS and "request.GET" in inspect.getsource(part)
        for part in parts
    )


@functools.cache
def classify_endpoints() -> tuple[list[Endpoint], list[str], list[str]]:
    """(lists and searches with their parameters, parameterless pages, unclassified views)."""
    lists: list[Endpoint] = []
    pages: list[str] = []
    unclassified: list[str] = []
    for name, pattern in named_patterns():
        if name.startswith("admin:") or name in NOT_PAGES:
            continue
        view_class = _view_class(pattern)
        takes_ids = bool(pattern.pattern.regex.groupindex)
        filterset = getattr(view_class, "filterset_class", None)
        search_form = getattr(view_class, "search_form_class", None)
        if filterset is not None or search_form is not None:
            if takes_ids:
                unclassified.append(f"{name}: a list under a URL with ids (teach this test to fill them)")
                continue
            parameters: dict[str, object] = {}
            if filterset is not None:
                parameters.update(filterset.base_filters)
            if search_form is not None:
                parameters.update(search_form.base_fields)
            for key in _own_get_keys(view_class):
                parameters.setdefault(key, None)
            lists.append(Endpoint(name, reverse(name), parameters))
            continue
        reads_query = _reads_query(view_class or pattern.callback)
        if reads_query and name not in OTHER_QUERY_PARAMETERS:
            unclassified.append(f"{name}: reads query parameters but declares no filterset or form")
            continue
        named_like_a_list = view_class is not None and _LIST_NAME.search(view_class.__name__)
        if takes_ids and named_like_a_list and name not in LISTS_OF_ONE_RECORD:
            unclassified.append(f"{name}: looks like a list; declare its filterset or classify it")
            continue
        if not takes_ids:
            pages.append(name)
    return lists, pages, unclassified


def test_every_list_search_and_export_is_classified():
    lists, _pages, unclassified = classify_endpoints()
    assert not unclassified, unclassified
    names = {endpoint.name for endpoint in lists}
    assert {"referrals:tray", "referrals:export", "scrutiny:tracker", "scrutiny:export"} <= names
    tray = next(e for e in lists if e.name == "referrals:tray")
    assert {"q", "school", "status", "received_from", "view", "cursor"} <= set(tray.parameters)


def test_the_admin_never_lists_searches_or_filters_on_exempt_data():
    """The admin's lists are lists too: none shows, searches, filters or sorts an exempt field."""

    def lands_on_exempt(model, path: str) -> bool:
        path = path.lstrip("^=@-")
        for part in path.split("__"):
            try:
                field = model._meta.get_field(part)
            except Exception:
                return False  # a method or a lookup: not a field path
            if exempt.is_exempt(model, part):
                return True
            if field.is_relation:
                model = field.related_model
        return False

    for model, model_admin in admin.site._registry.items():
        assert not exempt.exempt_fields(model), f"{model.__name__} holds exempt fields and is in the admin"
        paths = [
            *model_admin.search_fields,
            *(f for f in model_admin.list_filter if isinstance(f, str)),
            *(f for f in model_admin.list_display if isinstance(f, str)),
            *(model_admin.ordering or ()),
        ]
        bad = [p for p in paths if lands_on_exempt(model, p)]
        assert not bad, (model.__name__, bad)


# --- The worlds --------------------------------------------------------------------------------


@dataclass
class HiddenValues:
    strings: list[str]
    dates: list[str]
    school_ids: list[str]


SCHOOL_IDS = {
    "seen": 990001,
    "hidden_a": 990002,
    "hidden_b": 990003,
    "shared": 990004,
    "seen_b": 990005,
    "shared_b": 990006,
}
#: In world B a hidden child goes to its school's twin (same phase): one school to one, so the
#: pseudonymous facts derived from schools (phase, "attend the same school") stay the same.
TWINS = {"seen": "seen_b", "hidden_a": "hidden_b", "shared": "shared_b"}


@set_up
def _build_world(role: Role, variant: str):
    """The same referrals in both variants; in "B" the children, referrer and narrative of the
    referrals the user may not identify have other exempt values (names, dates of birth within
    the same age at the incident, schools of the same phase, addresses, free text)."""
    groups = {r: Group.objects.get(name=GROUP_NAMES[r]) for r in Role}
    user = UserFactory(
        pk=880001, username="the-user", first_name="The", last_name="User", email="u@x.example"
    )
    user.groups.add(groups[role])
    manager = UserFactory(pk=880002, username="a-manager", first_name="A", last_name="Manager")
    manager.groups.add(groups[Role.MASH_MANAGER])
    creator = UserFactory(pk=880003, username="a-practitioner", first_name="A", last_name="Practitioner")
    creator.groups.add(groups[Role.MASH_PRACTITIONER])
    schools = {
        key: School.objects.create(
            pk=pk, urn=str(pk), name=f"{key.replace('_', ' ').title()} Academy", phase="secondary"
        )
        for key, pk in SCHOOL_IDS.items()
    }
    source = ReferralSource.objects.get(code="school")
    abuse = AbuseForm.objects.get(code="sexual-assault")

    def referral(n: int, *, status: str, restricted: bool = False, grant_to_user: bool = False):
        received = NOW - dt.timedelta(days=n)
        made = Referral.objects.create(
            pk=770000 + n,
            reference=f"MASH-2026-{n:04d}",
            received_at=received,
            source=source,
            incident_date=INCIDENT,
            location=Referral.Location.SCHOOL,
            consent_sought=True,
            status=status,
            decision_due_at=received + dt.timedelta(days=1),
            created_by=creator,
            restricted_at=NOW - dt.timedelta(hours=n) if restricted else None,
            restricted_by=manager if restricted else None,
        )
        made.forms_of_abuse.set([abuse])
        ReferralDetail.objects.create(
            pk=770000 + n,
            referral=made,
            referrer_name=f"Referrer Seen{n}",
            referrer_role="Teacher",
            referrer_organisation="Seen School",
            referrer_contact="",
            narrative=f"What happened seen{n}",
        )
        CaseNote.objects.create(
            pk=770000 + n, referral=made, occurred_on=INCIDENT, text=f"Note seen{n}", recorded_by=creator
        )
        if status != Referral.Status.CLOSED and not restricted:
            from referrals.services import referral_grant_defaults

            referral_grant_defaults(made, user=creator, acting=creator)
        # Administrators hold no grant on case data: for them every record stays hidden.
        if grant_to_user and not permissions.holds_no_grants(user):
            permissions.grant(
                made, action=permissions.VIEW_EXEMPT, user=user, reason="Named", granted_by=manager
            )
        return made

    def child(n: int, school: str) -> Child:
        return Child.objects.create(
            pk=660000 + n,
            first_name=f"Seenfirst{n}",
            last_name=f"Seenlast{n}",
            date_of_birth=dt.date(2013, 1, 10),
            gender=Child.Gender.FEMALE,
            school=schools[school],
            year_group="9",
            address=f"{n} Seen Street",
            postcode=f"SE{n} 1AA",
        )

    live = referral(1, status=Referral.Status.SCREENING)
    closed = referral(2, status=Referral.Status.CLOSED)
    restricted_closed = referral(3, status=Referral.Status.CLOSED, restricted=True)
    restricted_live = referral(4, status=Referral.Status.RECEIVED, restricted=True)
    named = referral(5, status=Referral.Status.CLOSED, restricted=True, grant_to_user=True)
    shared = child(0, "shared")  # on a restricted referral and on a live one
    links = [
        (live, shared, "victim", "A"),
        (live, child(1, "seen"), "alleged_perpetrator", "B"),
        (closed, child(2, "seen"), "victim", "A"),
        (closed, child(3, "hidden_a"), "alleged_perpetrator", "B"),
        (restricted_closed, shared, "victim", "A"),
        (restricted_closed, child(4, "hidden_a"), "alleged_perpetrator", "B"),
        (restricted_live, child(5, "hidden_a"), "victim", "A"),
        (restricted_live, child(6, "hidden_a"), "alleged_perpetrator", "B"),
        (named, child(7, "seen"), "victim", "A"),
        (named, child(8, "hidden_a"), "alleged_perpetrator", "B"),
    ]
    for n, (made, kid, role_on, label) in enumerate(links):
        ReferralChild.objects.create(pk=550000 + n, referral=made, child=kid, role=role_on, label=label)

    identifiable = set(
        permissions.filter_granted(Referral.objects.all(), user=user).values_list("pk", flat=True)
    )
    hidden = Referral.objects.exclude(pk__in=identifiable)
    exclusive = (
        Child.objects.exclude(involvements__referral__pk__in=identifiable)
        .filter(involvements__referral__in=hidden)
        .distinct()
    )
    values = HiddenValues(
        strings=[],
        dates=["2013-01-10", "2013-02-20"],
        school_ids=[],
    )
    school_keys = {school.pk: key for key, school in schools.items()}
    for index, kid in enumerate(exclusive.order_by("pk")):
        n = kid.pk - 660000
        key = school_keys[kid.school_id]
        for school_id in (str(SCHOOL_IDS[key]), str(SCHOOL_IDS[TWINS[key]])):
            if school_id not in values.school_ids:
                values.school_ids.append(school_id)
        if index == 0:  # the probes: one hidden child's values, as in both worlds
            values.strings += [f"Seenfirst{n} Seenlast{n}", "Seenf", f"Seenfirst{n}", f"seenlast{n}"]
            values.strings += [f"Otherfirst{kid.pk}", f"Otherlast{kid.pk}", f"SE{n} 1AA", "OT9 9ZZ"]
        if variant == "B":
            # update(): the same history rows in both worlds (a save would add a "changed" one).
            Child.objects.filter(pk=kid.pk).update(
                first_name=f"Otherfirst{kid.pk}",
                last_name=f"Otherlast{kid.pk}",
                first_name_key=f"otherfirst{kid.pk}",
                last_name_key=f"otherlast{kid.pk}",
                date_of_birth=dt.date(2013, 2, 20),  # the same age on the incident date
                school=schools[TWINS[school_keys[kid.school_id]]],  # the same phase
                address="9 Other Road",
                postcode="OT9 9ZZ",
            )
    for index, detail in enumerate(ReferralDetail.objects.filter(referral__in=hidden).order_by("pk")):
        if index == 0:
            values.strings += [detail.referrer_name, detail.narrative.split()[-1]]
    if variant == "B":
        ReferralDetail.objects.filter(referral__in=hidden).update(
            referrer_name="Referrer Other", narrative="Something else happened"
        )
        CaseNote.objects.filter(referral__in=hidden).update(text="Another note")
    return user, values


# --- The walk ------------------------------------------------------------------------------------


def _probes(parameter, values: HiddenValues) -> list[str]:
    """The values to try in one parameter: the hidden records' exempt values of its type."""
    field = parameter.field if isinstance(parameter, django_filters.Filter) else parameter
    if isinstance(parameter, (django_filters.DateFilter,)) or isinstance(field, forms.DateField):
        return values.dates
    if isinstance(
        parameter, (django_filters.ModelChoiceFilter, django_filters.ModelMultipleChoiceFilter)
    ) or (isinstance(field, forms.ModelChoiceField)):
        return values.school_ids
    if isinstance(
        parameter, (django_filters.ChoiceFilter, django_filters.MultipleChoiceFilter)
    ) or isinstance(field, forms.ChoiceField):
        choices = (
            parameter.extra.get("choices") if isinstance(parameter, django_filters.Filter) else field.choices
        )
        return [str(value) for value, _ in (choices or []) if value != ""]
    if isinstance(field, forms.BooleanField):
        return ["on"]
    return values.strings


_NOISE = [
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b""),
    (re.compile(rb'nonce="[^"]*"'), b""),
    (re.compile(rb'"csrfToken": ?"[^"]*"'), b""),
]


def _body(response) -> bytes:
    body = b"".join(response) if getattr(response, "streaming", False) else response.content
    for pattern, replacement in _NOISE:
        body = pattern.sub(replacement, body)
    return body


def _collect(client, role: Role, variant: str) -> tuple[dict[str, tuple], HiddenValues]:
    responses: dict[str, tuple] = {}
    with transaction.atomic():
        user, values = _build_world(role, variant)
        with zeal_ignore():
            sign_in_verified(client, user)
        lists, pages, _ = classify_endpoints()
        for name in pages:
            url = reverse(name)
            response = client.get(url)
            responses[url] = (response.status_code, response.get("Content-Disposition"), _body(response))
        # Each referral's own pages too: a hidden one shows nothing of its exempt values, and
        # an identifiable one lists the other referrals about its children (restricted ones
        # with who to ask) through the person record, never through an exempt value.
        for pk in Referral.objects.order_by("pk").values_list("pk", flat=True):
            for name in ("referrals:detail", "referrals:history"):
                url = reverse(name, args=[pk])
                response = client.get(url)
                responses[url] = (response.status_code, None, _body(response))
        # And each child's record: it lists the referrals about the child the user may know of.
        for pk in Child.objects.order_by("pk").values_list("pk", flat=True):
            url = reverse("referrals:child", args=[pk])
            response = client.get(url)
            responses[url] = (response.status_code, None, _body(response))
        for endpoint in lists:
            first = client.get(endpoint.url)
            if first.status_code != 200:
                continue  # this role does not reach the list at all (compared as a page)
            for baseline in BASELINES.get(endpoint.name, [{}]):
                for key, parameter in endpoint.parameters.items():
                    for probe in _probes(parameter, values) if parameter is not None else values.strings[:2]:
                        query = {**baseline, key: probe}
                        response = client.get(endpoint.url, query)
                        label = f"{endpoint.url}?{sorted(query.items())}"
                        responses[label] = (
                            response.status_code,
                            response.get("Content-Disposition"),
                            _body(response),
                        )
        with zeal_ignore():
            client.logout()
        transaction.set_rollback(True)
    return responses, values


@pytest.mark.parametrize("role", list(Role))
def test_hidden_records_exempt_values_change_no_list_search_or_export(client, role):
    with time_machine.travel(NOW, tick=False):
        world_a, _ = _collect(client, role, "A")
        world_b, _ = _collect(client, role, "B")
    assert world_a.keys() == world_b.keys()
    different = [url for url in world_a if world_a[url] != world_b[url]]
    if different:
        url = different[0]
        a, b = world_a[url][2].decode(errors="replace"), world_b[url][2].decode(errors="replace")
        at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        pytest.fail(
            f"{role.label}: {len(different)} responses differ, e.g. {url} "
            f"(status {world_a[url][0]} / {world_b[url][0]}): A …{a[max(0, at - 200) : at + 200]}… "
            f"B …{b[max(0, at - 200) : at + 200]}…"
        )
    assert len(world_a) > 20  # the walk did walk


def test_the_worlds_really_differ_where_the_user_may_look(client):
    """A control: as a MASH practitioner the restricted referral's children are hidden, the
    closed referral's are not (history checks), and world B did change the hidden ones."""
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        user, values = _build_world(Role.MASH_PRACTITIONER, "B")
        identifiable = set(
            permissions.filter_granted(Referral.objects.all(), user=user).values_list("reference", flat=True)
        )
        assert identifiable == {"MASH-2026-0001", "MASH-2026-0002", "MASH-2026-0005"}
        assert Child.objects.filter(first_name__startswith="Otherfirst").count() == 3
        assert "Seenfirst4" in values.strings
        sign_in_verified(client, user)
        body = client.get(reverse("referrals:tray"), {"view": "all", "q": "Seenfirst2"}).content.decode()
        assert "MASH-2026-0002" in body  # a closed referral answers a history check
        body = client.get(reverse("referrals:tray"), {"view": "all", "q": "Seenfirst4"}).content.decode()
        assert "MASH-2026-0003" not in body  # a restricted one does not
        transaction.set_rollback(True)
