"""The parts a document pack is made of: rendered HTML, or an uploaded PDF."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HtmlPart:
    """A Django template (a fragment, not a page) rendered into the pack.

    An exempt part names its Schedule 12A paragraph and the public interest statement; the
    public pack shows them on a notice page in its place and never renders the template.
    """

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    exempt: bool = False
    schedule_12a_paragraph: int | None = None
    public_interest: str = ""


@dataclass(frozen=True)
class PdfPart:
    """An uploaded PDF merged into the pack. ``file`` is a storage name or a Django File."""

    title: str
    file: Any
    exempt: bool = False
    schedule_12a_paragraph: int | None = None
    public_interest: str = ""


Part = HtmlPart | PdfPart

SCHEDULE_12A_PARAGRAPHS = {
    1: "Information relating to any individual",
    2: "Information which is likely to reveal the identity of an individual",
    3: "Information relating to the financial or business affairs of any particular person",
    4: "Information relating to consultations or negotiations in connection with labour relations",
    5: "Information in respect of which a claim to legal professional privilege could be maintained",
    6: "Information which reveals that the authority proposes to give a notice, order or direction",
    7: "Information relating to action taken in connection with the prevention, investigation or "
    "prosecution of crime",
}


def exemption_text(paragraph: int | None) -> str:
    """'exempt by virtue of paragraph 2 of Part 1 of Schedule 12A to the Local Government Act 1972'."""
    if paragraph is None:
        return "exempt under Part 1 of Schedule 12A to the Local Government Act 1972"
    return (
        f"exempt by virtue of paragraph {paragraph} of Part 1 of Schedule 12A "
        "to the Local Government Act 1972"
    )
