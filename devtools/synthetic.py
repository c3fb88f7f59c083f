"""Plainly synthetic import files, for the benchmark and the tests (never real data).

Surnames are made up ("Demoford", "Sampleton"), referrers and narratives say SYNTHETIC,
schools are whatever URNs the caller passes (the demo seed's are 99xxxx).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from referrals.imports.format import ADVICE_CODES, all_columns

FIRST_NAMES = [
    "Alex", "Bailey", "Casey", "Devon", "Eden", "Frankie", "Gray", "Harper", "Indy", "Jordan",
    "Kai", "Logan", "Morgan", "Nico", "Oakley", "Parker", "Quinn", "Riley", "Sam", "Taylor",
]  # fmt: skip
SURNAMES = [
    "Demoford", "Testwell", "Sampleton", "Fictley", "Mockridge", "Placeholm", "Dummersby",
    "Examplar", "Specimen", "Pretendle", "Notreal", "Synthwick", "Madeupson", "Imaginby",
    "Trialworth", "Proxley", "Seedling", "Fixturby",
]  # fmt: skip
FORMS = ["bullying", "physical", "sexual-assault", "sexual-harassment", "sexting", "initiation-hazing"]
OUTCOMES = ["nfa", "advice", "early-help", "s17", "strategy-s47", "police"]
SOURCES = ["school", "school", "school", "police", "health", "parent-carer", "anonymous"]
LOCATIONS = ["school", "school", "online", "community", "transport", "home"]
START = dt.date(2012, 1, 2)
DAYS = 4 * 365
REUSE_CHILD = 0.08


def synthetic_rows(count: int, *, urns: list[str], seed: int = 20261129, prefix: str = "SYN") -> list[dict]:
    """``count`` valid rows, the same for the same arguments."""
    rnd = random.Random(seed)  # noqa: S311 - synthetic test data, not secrets
    known: list[tuple[str, str, dt.date, str]] = []
    rows = []
    for number in range(count):
        day = START + dt.timedelta(days=rnd.randrange(DAYS))
        received = dt.datetime.combine(day, dt.time(8 + rnd.randrange(9), rnd.choice((0, 15, 30, 45))))
        incident = day - dt.timedelta(days=rnd.randrange(7))
        decided = received + dt.timedelta(hours=rnd.choice((2, 5, 20, 30)))
        consent = rnd.random() < 0.85
        row = {
            "source_id": f"{prefix}-{number + 1:07d}",
            "received_at": received.strftime("%d/%m/%Y %H:%M"),
            "source": rnd.choice(SOURCES),
            "forms_of_abuse": ";".join(rnd.sample(FORMS, rnd.choice((1, 1, 2)))),
            "peer_on_peer": "yes",
            "incident_date": incident.strftime("%d/%m/%Y"),
            "location": rnd.choice(LOCATIONS),
            "consent_sought": "yes" if consent else "no",
            "consent_not_sought_reason": "" if consent else "SYNTHETIC: consent would have raised the risk.",
            "referrer_name": f"{rnd.choice(FIRST_NAMES)} {rnd.choice(SURNAMES)} (synthetic referrer)",
            "referrer_role": "Designated safeguarding lead",
            "referrer_organisation": "Synthetic organisation",
            "referrer_contact": f"referrer{rnd.randrange(1000)}@school.example",
            "narrative": "SYNTHETIC NARRATIVE. Child A disclosed an incident involving another pupil.",
            "outcomes": ";".join(rnd.sample(OUTCOMES, rnd.choice((1, 1, 2)))),
            "decided_at": decided.strftime("%d/%m/%Y %H:%M"),
            "decision_rationale": "SYNTHETIC: threshold considered against what is known.",
            "advice": ";".join(name for name in ADVICE_CODES if rnd.random() < 0.5),
            "advice_notes": "SYNTHETIC: review the school's safeguarding arrangements.",
            "closed_at": (decided + dt.timedelta(days=2)).strftime("%d/%m/%Y %H:%M"),
        }
        for index in range(rnd.choice((2, 2, 2, 3))):
            role = ("victim", "alleged_perpetrator", "other")[index]
            if known and rnd.random() < REUSE_CHILD:
                first, last, dob, urn = rnd.choice(known)
                if (incident - dob).days // 365 > 17 or any(
                    row.get(f"child{n}_first_name") == first and row.get(f"child{n}_last_name") == last
                    for n in range(1, index + 1)
                ):
                    first, last, dob, urn = _new_child(rnd, incident, urns)
            else:
                first, last, dob, urn = _new_child(rnd, incident, urns)
            known.append((first, last, dob, urn))
            age = (incident - dob).days // 365
            row.update(
                {
                    f"child{index + 1}_role": role,
                    f"child{index + 1}_first_name": first,
                    f"child{index + 1}_last_name": last,
                    f"child{index + 1}_date_of_birth": dob.strftime("%d/%m/%Y"),
                    f"child{index + 1}_gender": rnd.choice(("female", "male", "not_known")),
                    f"child{index + 1}_school_urn": urn,
                    f"child{index + 1}_year_group": str(min(13, max(7, age - 4))),
                    f"child{index + 1}_send": "yes" if rnd.random() < 0.1 else "",
                }
            )
        rows.append(row)
    return rows


def _new_child(rnd: random.Random, incident: dt.date, urns: list[str]) -> tuple[str, str, dt.date, str]:
    dob = incident - dt.timedelta(days=rnd.randrange(11, 16) * 365 + rnd.randrange(300))
    # A long tail of surnames so most children are new, as in a real export.
    last = f"{rnd.choice(SURNAMES)}-{rnd.randrange(400)}" if rnd.random() < 0.9 else rnd.choice(SURNAMES)
    return rnd.choice(FIRST_NAMES), last, dob, rnd.choice(urns) if urns else ""


def to_csv(rows: list[dict], *, columns: list[str] | None = None) -> bytes:
    """Rows as a CSV UTF-8 file (with the byte-order mark Excel writes)."""
    columns = columns or all_columns()
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in columns})
    return out.getvalue().encode("utf-8-sig")
