"""The check that an upload is refused on its page."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.hostile.walk import (
    READS_LOGGED,
    body_of,
    changed_tables,
    db_state,
)
from tests.support.form_errors import error_messages


def refuses_upload(client, url: str, field: str, file: tuple[str, bytes, str], data=None) -> list[str]:
    """POST ``file`` to ``url`` as ``field``: a refusal naming the problem, nothing changed.
    Returns the error messages shown (for a test to check the wording)."""
    name, content, content_type = file
    before = db_state(exclude=READS_LOGGED)
    response = client.post(
        url, {**(data or {}), field: SimpleUploadedFile(name, content, content_type=content_type)}
    )
    after = db_state(exclude=READS_LOGGED)
    assert response.status_code == 400, (url, name, response.status_code)
    assert not changed_tables(before, after), (url, name, changed_tables(before, after))
    messages = error_messages(body_of(response))
    assert messages, (url, name, "no error summary")
    assert all(messages), (url, name, messages)
    return messages
