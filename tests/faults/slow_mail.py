"""An e-mail backend for fault tests: marks that a send began, waits, then writes the message.

The worker under test uses it (EMAIL_BACKEND) so a job is reliably mid-flight when the test
kills the process running it. SLOW_MAIL_DIR holds ``started-<pid>`` markers; the messages go
to EMAIL_FILE_PATH as the file backend writes them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class SlowEmailBackend(EmailBackend):
    def send_messages(self, email_messages):
        markers = Path(os.environ["SLOW_MAIL_DIR"])
        markers.mkdir(parents=True, exist_ok=True)
        (markers / f"started-{os.getpid()}-{time.monotonic_ns()}").write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("SLOW_MAIL_SECONDS", "4")))
        return super().send_messages(email_messages)
