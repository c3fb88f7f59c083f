"""After referrals are saved: a hook the apps above referrals plug into.

Contextual safeguarding (``contexts``) re-checks its pattern rules when a referral changes,
but it sits above referrals, so referrals cannot import it. Instead it registers a listener in
its ``AppConfig.ready()``; the referral services call :func:`referrals_saved` inside their
transaction, and the listener queues its work through the outbox (``core.outbox``), so it runs
after the commit, in the worker, and a broker outage loses nothing.

A listener takes the referrals' primary keys and must be quick: it queues work, never does it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Listener = Callable[[list[int]], None]
_listeners: list[Listener] = []


def register(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def referrals_saved(*, referral_ids: Iterable[int]) -> None:
    """Tell every listener these referrals were created or changed (call inside the transaction)."""
    ids = sorted({int(pk) for pk in referral_ids})
    if not ids:
        return
    for listener in _listeners:
        listener(ids)
