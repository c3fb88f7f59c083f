"""Running a test's competing transactions side by side, each in its own thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connection


def side_by_side(*functions: Callable[[], object], timeout: float = 60) -> list[BaseException]:
    """Run each function in a thread of its own (so on a database connection of its own, closed
    when it ends), wait for all of them, and return what they raised, in the order raised.

    A thread still running after ``timeout`` (a deadlock, a lock never released) is returned
    as an error too, so a race test cannot pass on the state a hung thread left."""
    errors: list[BaseException] = []

    def run(function):
        try:
            function()
        except BaseException as error:  # pragma: no cover - returned to the test to report
            errors.append(error)
        finally:
            connection.close()

    # Daemon threads: one that hangs must not keep the test process from exiting.
    threads = [threading.Thread(target=run, args=(function,), daemon=True) for function in functions]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout  # one wait for all of them, not one per thread
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    errors += [
        TimeoutError(f"{function.__name__} was still running after {timeout} s")
        for function, thread in zip(functions, threads, strict=True)
        if thread.is_alive()
    ]
    close_old_connections()
    return errors
