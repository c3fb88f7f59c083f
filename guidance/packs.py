"""The DfE guidance library's part for document packs: Appendix 7, "What is peer on peer abuse".

The cabinet report (scrutiny) and the model guidance (modelguidance) both print it. It
registers no document kind of its own.
"""

from __future__ import annotations

from core.documents import HtmlPart
from guidance import selectors


def definitions_part() -> HtmlPart:
    """Appendix 7, "What is peer on peer abuse", for any pack (the cabinet report's too)."""
    return HtmlPart(
        title="What is peer on peer abuse",
        template="guidance/pdf/definitions.html",
        context={"forms": list(selectors.abuse_forms_with_guidance())},
    )
