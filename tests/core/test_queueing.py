"""One way to queue a job: the outbox (ADR 0013). A job published straight to the broker is
lost, or breaks the request, when Redis is down; one written to the outbox waits for it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_APPS = ("core", "referrals", "reviews", "guidance", "scrutiny")
PUBLISHING = {"delay", "delay_on_commit", "apply_async", "send_task"}


def _product_modules():
    for app in PRODUCT_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative:
                yield relative, ast.parse(path.read_text(), filename=relative)


def test_only_the_outbox_publishes_to_the_broker():
    offenders = []
    for relative, tree in _product_modules():
        if relative == "core/outbox.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in PUBLISHING:
                offenders.append(f"{relative}:{node.lineno}: .{node.func.attr}(...)")
    assert not offenders, "Queue jobs with core.outbox.enqueue_on_commit:\n" + "\n".join(offenders)
