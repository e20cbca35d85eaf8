"""What a chat message may say: the brand's banned words and its link policy, as plain functions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shopcast.core.errors import InvalidInput

REACTIONS = ("❤️", "🔥", "👏", "😂", "😮", "🛍️")

# A link is a scheme or "www." followed by anything, or a bare host name ending in a TLD-like word
# ("shop.example.com/x"). Prices and sizes ("3.5", "M.L") have no alphabetic TLD of 2+ letters.
_LINK = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b(?:/[^\s]*)?",
    re.IGNORECASE,
)
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?([^/\s:?#]+)", re.IGNORECASE)


@dataclass(frozen=True)
class TextRules:
    banned_words: tuple[str, ...] = ()
    reject_banned_words: bool = False
    allow_links: bool = False
    allowed_link_domains: tuple[str, ...] = ()


def clean(text: str) -> str:
    """Drop control and formatting characters (except line breaks) and squeeze blank lines."""
    kept = "".join(c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs"))
    return re.sub(r"\n{3,}", "\n\n", kept).strip()


def apply_rules(text: str, rules: TextRules, *, staff: bool) -> str:
    """The text as the room will see it, or InvalidInput with the reason the brand refuses it."""
    if not staff:
        for link in _LINK.findall(text):
            if not rules.allow_links and not _allowed_domain(link, rules.allowed_link_domains):
                raise InvalidInput("errors.chat.no_links")
    if not rules.banned_words:
        return text
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(rules.banned_words, key=len, reverse=True)) + r")(?!\w)",
        re.IGNORECASE,
    )
    if rules.reject_banned_words:
        if pattern.search(text):
            raise InvalidInput("errors.chat.banned_word")
        return text
    return pattern.sub(lambda m: "*" * len(m.group(0)), text)


def _allowed_domain(link: str, domains: tuple[str, ...]) -> bool:
    match = _HOST.match(link)
    host = match.group(1).lower() if match else ""
    return any(host == d or host.endswith("." + d) for d in domains)
