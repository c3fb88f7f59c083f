"""The hostile-input walk: a seeded world, every page as each actor, every form on them.

Nothing here knows a form or a URL by name. Pages come from the URLconf (``app_urls`` from
tests/test_access.py fills every pattern with real ids), forms from the HTML the pages
render, so a page or form added later (scrutiny, model guidance, export jobs) is walked the
day it is merged.

``db_state`` is the yardstick for "nothing changed": a row count and a checksum of every
table of every installed model, minus the few tables whose change is the point of the
request (sessions, sign-in throttling) - each exclusion says why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.apps import apps
from django.db import connection, transaction
from django.urls import Resolver404, resolve
from django.utils import timezone

from core.roles import Role
from tests.conftest import sign_in_verified
from tests.nplusone import set_up
from tests.support.access import PUBLIC, app_urls, named_patterns

#: Tables a request may change without having changed anything of the case.
ALWAYS_EXCLUDED = frozenset(
    {
        "django_session",  # every request renews the idle clock (SESSION_SAVE_EVERY_REQUEST)
        "axes_accessattempt",  # failed sign-ins are counted: that is the lockout working
        "axes_accessfailurelog",
        "axes_accesslog",
        # A wrong code bumps the device's throttling counter; opening the set-up page makes an
        # unconfirmed device to show its QR code (it does nothing until a code confirms it).
        "otp_totp_totpdevice",
        "otp_static_staticdevice",
    }
)
#: Reading exempt data on a page writes an access-log row: a GET may add to it, never a POST error.
READS_LOGGED = frozenset({"core_accesslogentry"})

#: Forms never fuzzed: signing out would end the walk's session (CSRF tests still cover it).
SKIP_FORM_ACTIONS = frozenset({"logout"})


# --- The state of the database -----------------------------------------------------------------


def _tables() -> list[str]:
    seen = []
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if model._meta.managed and not model._meta.proxy and table not in seen:
            seen.append(table)
    return sorted(seen)


def db_state(*, exclude: Iterable[str] = ()) -> dict[str, tuple[int, str]]:
    """{table: (rows, sha256 of its rows)} for every model's table, minus ``exclude``."""
    skip = ALWAYS_EXCLUDED | set(exclude)
    state = {}
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in _tables():
            if table in skip or table not in existing:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our own names
            rows = sorted(repr(row) for row in cursor.fetchall())
            state[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


def write_counts(*, exclude: Iterable[str] = ()) -> tuple | None:
    """Rows written so far in the test's transaction, per table, minus ``exclude``; None where
    it cannot say (no transaction open: each statement commits on its own).

    - PostgreSQL counts them for the session itself (the counters behind
      ``pg_stat_xact_user_tables``: inserted, updated, deleted), rolled-back writes included.
    - SQLite has no such count, so temporary triggers on every table keep one in a temporary
      table (created in the transaction, gone with it); a rolled-back write takes its count
      back with it.
    """
    if not connection.in_atomic_block:
        return None
    skip = ALWAYS_EXCLUDED | set(exclude)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRESQL_COUNTS)
        elif connection.vendor == "sqlite":
            _count_sqlite_writes(cursor)
            cursor.execute(f"SELECT name, n FROM {_SQLITE_COUNTS} WHERE n > 0")  # noqa: S608
        else:
            return None
        return tuple(sorted(row for row in cursor.fetchall() if row[0] not in skip))


#: ``pg_stat_xact_user_tables``' inserted, updated and deleted counts of this schema's tables,
#: read from the functions that view calls without the view's other columns, join and grouping:
#: about 1 ms a read against 2.5 ms, and the walks read it after every request.
_POSTGRESQL_COUNTS = """
SELECT c.relname, s.inserted, s.updated, s.deleted
FROM pg_class c, LATERAL (
    SELECT pg_stat_get_xact_tuples_inserted(c.oid) AS inserted,
           pg_stat_get_xact_tuples_updated(c.oid) AS updated,
           pg_stat_get_xact_tuples_deleted(c.oid) AS deleted
) s
WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
  AND c.relkind IN ('r', 'p', 'm')
  AND s.inserted + s.updated + s.deleted > 0
"""

_SQLITE_COUNTS = "temp.hostile_walk_writes"


def _count_sqlite_writes(cursor) -> None:
    """The temporary count table and a trigger per table and statement, once per transaction."""
    cursor.execute("SELECT 1 FROM sqlite_temp_master WHERE name = 'hostile_walk_writes'")
    if cursor.fetchone():
        return
    cursor.execute(f"CREATE TEMP TABLE {_SQLITE_COUNTS[5:]} (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    existing = set(connection.introspection.table_names())
    for number, table in enumerate(t for t in _tables() if t in existing):
        cursor.execute(f"INSERT INTO {_SQLITE_COUNTS} VALUES (%s, 0)", [table])  # noqa: S608
        quoted = connection.ops.quote_name(table)
        for event in ("INSERT", "UPDATE", "DELETE"):
            # Our own table names: nothing here comes from a request.
            trigger = (
                f"CREATE TEMP TRIGGER hostile_walk_{event.lower()}_{number} AFTER {event} ON main.{quoted}"  # noqa: S608
                f" BEGIN UPDATE {_SQLITE_COUNTS[5:]} SET n = n + 1 WHERE name = '{table}'; END"
            )
            cursor.execute(trigger)


class Yardstick:
    """``db_state`` read once and read again only when something may have changed it.

    "Nothing changed" is still decided by ``db_state``'s checksums. The transaction's write
    counts (``write_counts``) tell when no table was written since the state was read: then the
    state is the same and is not read again. When some table was written, or the counts cannot
    be read, the checksums are compared.
    """

    def __init__(self, *, exclude: Iterable[str] = ()):
        self.exclude = frozenset(exclude)
        self._read()

    def _read(self) -> None:
        self.state = db_state(exclude=self.exclude)
        self.writes = write_counts(exclude=self.exclude)

    def _unwritten(self) -> bool:
        return self.writes is not None and write_counts(exclude=self.exclude) == self.writes

    def refresh(self) -> None:
        """Take the state again if anything may have been written since it was taken."""
        if not self._unwritten():
            self._read()

    def changed(self) -> list[str]:
        """The tables whose rows differ from the state taken."""
        if self._unwritten():
            return []
        writes = write_counts(exclude=self.exclude)
        changed = changed_tables(self.state, db_state(exclude=self.exclude))
        if not changed:  # written and put back (a savepoint rolled back): still the same state
            self.writes = writes
        return changed

    @contextmanager
    def rolled_back(self):
        """A block whose writes are all rolled back, entered with the state taken still
        current (taken or refreshed since the last write that stayed): afterwards it is
        current again, though the write counts, which count rolled-back writes, have moved."""
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
        if self.writes is not None:
            self.writes = write_counts(exclude=self.exclude)


# --- Forms in a page ---------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, hidden, radio, checkbox, select, select-multiple, file, password, ...
    offered: list[str] = field(default_factory=list)  # the values a browser could send
    initial: list[str] = field(default_factory=list)  # what the page has filled in or ticked


@dataclass
class Form:
    page: str  # the URL the form was found on
    action: str  # the path it posts to
    method: str
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of named submits
    has_csrf_token: bool = False

    @property
    def action_name(self) -> str:
        try:
            return resolve(self.action).view_name
        except Resolver404:
            return self.action

    @property
    def key(self) -> tuple:
        return (self.action_name, self.method, tuple(sorted(self.fields)), tuple(self.buttons))

    def browser_data(self) -> dict[str, list[str]]:
        """What a browser sends if the user changes nothing (and presses the first button)."""
        data = {name: list(f.initial) for name, f in self.fields.items() if f.initial}
        if self.buttons:
            name, value = self.buttons[0]
            data.setdefault(name, []).append(value)
        return data


class _FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.textarea: Field | None = None
        self.select: Field | None = None
        self.option: dict | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page
            self.current = Form(
                page=self.page,
                action=urlsplit(urljoin(self.page, action)).path,
                method=(a.get("method") or "get").lower(),
                multipart="multipart" in (a.get("enctype") or ""),
            )
            self.forms.append(self.current)
            return
        if self.current is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            value = a.get("value", "on" if kind in ("radio", "checkbox") else "")
            if name == "csrfmiddlewaretoken":
                self.current.has_csrf_token = True
                return
            if kind in ("submit", "image"):
                self.current.buttons.append((name, value))
                return
            if kind in ("button", "reset"):
                return
            f = self.current.fields.setdefault(name, Field(name, kind))
            if kind in ("radio", "checkbox"):
                f.offered.append(value)
                if "checked" in a:
                    f.initial.append(value)
            else:
                f.offered.append(value)
                f.initial.append(value)
        elif tag == "button" and name and (a.get("type") or "submit") == "submit":
            self.current.buttons.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self.textarea = self.current.fields.setdefault(name, Field(name, "textarea"))
            self.text = []
        elif tag == "select" and name:
            kind = "select-multiple" if "multiple" in a else "select"
            self.select = self.current.fields.setdefault(name, Field(name, kind))
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "selected": "selected" in a}
            self.text = []

    def handle_data(self, data):
        if self.textarea is not None or self.option is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "textarea" and self.textarea is not None:
            value = "".join(self.text)
            value = value[1:] if value.startswith("\n") else value  # as browsers read it
            self.textarea.offered.append(value)
            self.textarea.initial.append(value)
            self.textarea = None
        elif tag == "option" and self.option is not None:
            value = self.option["value"] if self.option["value"] is not None else "".join(self.text).strip()
            self.select.offered.append(value)
            if self.option["selected"]:
                self.select.initial.append(value)
            self.option = None
        elif tag == "select" and self.select is not None:
            if self.select.kind == "select" and not self.select.initial and self.select.offered:
                self.select.initial.append(self.select.offered[0])  # a browser sends the first
            self.select = None


def forms_in(page: str, html: str) -> list[Form]:
    parser = _FormParser(page)
    parser.feed(html)
    parser.close()
    return parser.forms


def body_of(response) -> str:
    content = b"".join(response) if getattr(response, "streaming", False) else response.content
    return content.decode("utf-8", errors="replace")


# --- Repeating rows (formsets) ------------------------------------------------------------------

ROW_FIELD = re.compile(r"^(?P<prefix>.+)-(?P<index>\d+)-(?P<name>.+)$")


@dataclass
class Rows:
    """A form's repeating rows, found by their Django management form, not by the form's name."""

    prefix: str
    total: int  # how many rows the page shows
    max_num: int  # the most the page says it takes
    names: list[str]  # the field names of one row, without the prefix and index
    kinds: dict[str, str]

    def name(self, index: int, field_name: str) -> str:
        return f"{self.prefix}-{index}-{field_name}"


def repeating_rows(form: Form) -> list[Rows]:
    """Every set of repeating rows in ``form``: any field named ``<prefix>-TOTAL_FORMS``."""
    found = []
    for name in form.fields:
        if not name.endswith("-TOTAL_FORMS"):
            continue
        prefix = name[: -len("-TOTAL_FORMS")]

        def number(key: str, default: int, prefix=prefix) -> int:
            values = form.fields.get(f"{prefix}-{key}")
            try:
                return int(values.initial[0]) if values and values.initial else default
            except ValueError:
                return default

        names: list[str] = []
        kinds: dict[str, str] = {}
        for other, field_ in form.fields.items():
            match = ROW_FIELD.match(other)
            if match and match["prefix"] == prefix and match["name"] not in kinds:
                names.append(match["name"])
                kinds[match["name"]] = field_.kind
        found.append(Rows(prefix, number("TOTAL_FORMS", 0), number("MAX_NUM_FORMS", 1000), names, kinds))
    return found


def plausible_data(form: Form, *, day: dt.date | None = None) -> dict[str, list[str]]:
    """What a careful user would type: every box filled with something ordinary, a date a
    month ago in every GOV.UK date, the first option of every unanswered question, and the
    form's main (last) button pressed. Nothing here knows a form by name."""
    day = day or timezone.localdate() - dt.timedelta(days=30)
    data = {name: list(f.initial) for name, f in form.fields.items() if f.initial}
    for name, f in form.fields.items():
        if any(data.get(name, [])) or f.kind in ("file", "password", "hidden"):
            continue
        stem, _, part = name.rpartition("_")
        if part in ("0", "1", "2") and all(f"{stem}_{i}" in form.fields for i in range(3)):
            data[name] = [str((day.day, day.month, day.year)[int(part)])]
        elif f.kind in ("text", "textarea", "email", "search", "tel", "number", ""):
            data[name] = ["12:00"]  # a time, a name, a reason: "12:00" reads as any of them
        elif f.kind == "radio" and f.offered:
            data[name] = [f.offered[0]]
        elif f.kind == "checkbox" and len(f.offered) > 1:
            data[name] = [f.offered[0]]  # one of a group (a required "select all that apply")
    if form.buttons:
        button, value = form.buttons[-1]
        data[button] = [value]
    return data


# --- The world ---------------------------------------------------------------------------------

#: Who the walk signs in as: one user per role, plus the people a review belongs to (a review's
#: own pages are its lead's and its reviewer's, nobody else's).
ACTORS: list[str] = [role.value for role in Role] + ["review_lead", "review_reviewer"]


@dataclass
class World:
    referral_pk: int
    ids: dict[str, int]  # review ids and the like, as app_urls takes them
    users: dict[str, object]  # actor -> user
    other_ids: list[int]  # ids of records the actors did not make: for "ids of other records"

    def urls(self) -> dict[str, str]:
        return app_urls(self.referral_pk, **self.ids)

    def sign_in(self, client, actor: str):
        return sign_in_verified(client, self.users[actor])


@set_up  # test data built row by row on purpose; the requests made against it are checked
def build_world(role_user, tag: str = "walk") -> World:
    """A live referral (MASH roles hold the team's grants), a review in progress with one
    assessment and one case still to assign, one user per role, and an import batch of the
    MASH manager's own."""
    from referrals.models import ImportBatch
    from reviews import services as review_services
    from tests.factories import ReferralFactory

    lead = role_user(Role.LEAD_REVIEWER, username=f"{tag}-lead")
    reviewer = role_user(Role.REVIEWER, username=f"{tag}-reviewer")
    # Midday, so the second case a minute later falls on the same day whenever the suite runs.
    noon = dt.datetime.combine(timezone.localdate() - dt.timedelta(days=400), dt.time(12))
    old = ReferralFactory(status="closed", received_at=timezone.make_aware(noon))
    # A second case in the period, included but not assigned: the assignment form shows.
    ReferralFactory(status="closed", received_at=old.received_at + dt.timedelta(minutes=1))
    day = timezone.localtime(old.received_at).date()
    review = review_services.review_create(
        user=lead,
        title="Walk review",
        terms_of_reference="ToR",
        lead_reviewer=lead,
        reviewers=[reviewer],
        periods=[review_services.PeriodInput("All", day, day)],
        grants_end_on=timezone.localdate() + dt.timedelta(days=30),
        require_same_school=False,
    )
    review_services.review_start_screening(user=lead, review_id=review.pk)
    for decision in review.screening.all():
        review_services.screening_decide(user=lead, decision_id=decision.pk, include=True)
    review_services.review_start_reviewing(user=lead, review_id=review.pk)
    assessment = review_services.assessment_assign(
        user=lead, review_id=review.pk, referral_id=old.pk, reviewer=reviewer
    )
    referral = ReferralFactory()
    users = {role.value: role_user(role, username=f"{tag}-as-{role.value}") for role in Role}
    users["review_lead"] = lead
    users["review_reviewer"] = reviewer
    ImportBatch.objects.create(
        pk=referral.pk,
        uploaded_by=users[Role.MASH_MANAGER.value],
        filename="walk.csv",
        sha256="0" * 64,
        size=0,
        status=ImportBatch.Status.INVALID,
    )
    # An emergency access by the MASH manager, waiting for information governance's review.
    from core.models import AccessLogEntry

    glass = AccessLogEntry.objects.create(
        user=users[Role.MASH_MANAGER.value],
        record_type="referrals.referral",
        record_id=old.pk,
        record_label=old.reference,
        channel=AccessLogEntry.Channel.BREAK_GLASS,
        reason="Police called about a missing child tonight",
        break_glass=True,
    )
    from tests.support.access import records_walk_ids

    return World(
        referral_pk=referral.pk,
        ids={
            "reviews": review.pk,
            "assessment_pk": assessment.pk,
            "entry_pk": glass.pk,
            **records_walk_ids(role_user),
        },
        users=users,
        other_ids=sorted({old.pk, referral.pk, review.pk, assessment.pk, lead.pk, reviewer.pk}),
    )


def _reached(client, world: World):
    """(url name, url, HTML) of every page the signed-in client gets a 200 for (public ones too)."""
    for name, url in world.urls().items():
        if name in ("logout",):
            continue
        response = client.get(url)
        html = response.get("Content-Type", "").startswith("text/html")
        if response.status_code == 200 and html and not getattr(response, "streaming", False):
            yield name, url, body_of(response)


def reachable_pages(client, world: World) -> dict[str, str]:
    """{url name: url} of every page the signed-in client gets a 200 for (public ones too)."""
    return {name: url for name, url, _html in _reached(client, world)}


def discover_forms(client, world: World, *, method: str | None = None) -> list[Form]:
    """Every distinct form on every page the client reaches (by action, fields and buttons),
    read from the same answer that showed the page is reached."""
    found: dict[tuple, Form] = {}
    for _name, url, html in _reached(client, world):
        for form in forms_in(url, html):
            if method and form.method != method:
                continue
            if form.action_name in SKIP_FORM_ACTIONS:
                continue
            found.setdefault(form.key, form)
    return list(found.values())


__all__ = [
    "ACTORS",
    "PUBLIC",
    "READS_LOGGED",
    "Field",
    "Form",
    "Rows",
    "World",
    "body_of",
    "build_world",
    "changed_tables",
    "db_state",
    "discover_forms",
    "forms_in",
    "named_patterns",
    "plausible_data",
    "reachable_pages",
    "repeating_rows",
]
