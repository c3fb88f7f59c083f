"""Places named in referrals, matched after normalising (the contextual-safeguarding place rule).

"The Rec, Millbrook", "the rec millbrook" and "Rec - Millbrook." are one place: the key is
lower-case, "&" read as "and", punctuation dropped, a leading "the" dropped, common street
words spelt out ("St" as "street", "Rd" as "road") and spaces collapsed. The key is as exempt
as the text it comes from (``ReferralDetail.incident_place_key``).
"""

from __future__ import annotations

import re
import unicodedata

_WORDS = re.compile(r"[^\W_]+")
_SPELT_OUT = {
    "st": "street",
    "rd": "road",
    "ave": "avenue",
    "ln": "lane",
    "pk": "park",
    "ctr": "centre",
    "center": "centre",
    "stn": "station",
    "sq": "square",
}
MAX_LENGTH = 200


def place_key(text: str) -> str:
    """The normalised form of a place's name ("" for no place)."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", " and ")
    words = [_SPELT_OUT.get(word, word) for word in _WORDS.findall(text)]
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)[:MAX_LENGTH]
