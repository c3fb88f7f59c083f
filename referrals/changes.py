"""After referrals are saved: a hook the apps above referrals plug into.

Contextual safeguarding (``contexts``) re-checks its pattern rules when a referral changes,
but it sits above referrals, so referrals cannot import it. Instead it registers a listener in
its ``AppConfig.ready()``; the referral services call :func:`referrals_saved` inside their
transaction, and the listener queues its work through the outbox (``core.outbox``), so it runs
after the commit, in the worker, and a broker outage loses nothing.

A listener takes the referrals' primary keys and must be quick: it queues work, and at most
keeps an index of its own in step with the saves (contexts' school index: a few queries).

Many saves in one job (the demo data's hundreds of referrals) can be announced together with
:func:`batched`: the listeners hear of them once, at the end, as they do of an import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[list[int]], None]
_listeners: list[Listener] = []
#: The referrals saved inside :func:`batched`, announced when it ends.
_batch: ContextVar[set[int] | None] = ContextVar("referrals_saved_batch", default=None)


def register(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def referrals_saved(*, referral_ids: Iterable[int]) -> None:
    """Tell every listener these referrals were created or changed (call inside the transaction)."""
    ids = sorted({int(pk) for pk in referral_ids})
    if not ids:
        return
    batch = _batch.get()
    if batch is not None:
        batch.update(ids)
        return
    for listener in _listeners:
        listener(ids)


@contextmanager
def batched() -> Iterator[None]:
    """Referrals saved inside are announced once, together, when it ends without an error (call
    it inside the transaction, as the saves are). Nested, the outermost announces."""
    if _batch.get() is not None:
        yield
        return
    saved: set[int] = set()
    token = _batch.set(saved)
    try:
        yield
    except BaseException:
        _batch.reset(token)  # the saves are rolled back with the job: nothing to announce
        raise
    _batch.reset(token)
    referrals_saved(referral_ids=saved)
