"""Hypothesis strategies and URL checks shared by the hardening tests (issue 10)."""

from __future__ import annotations

import re
from urllib.parse import quote

from hypothesis import strategies as st

from shared.models.limits import USER_ID_MAX

# Subjects the contract allows: 1-255 characters, no `/` (and, as the token check has it, no C0
# control character or DEL). Anything else goes: non-Latin-1, Latin-1, `%`, spaces, `?#`, dots.
NAMED_SUBS = ["用户", "josé", "a%20b", "a b", "%", "?#", ".", "..", "%2F", "a+b&c=d", "~ü€😀", "\x85\xa0", "ß" * 255]
subs = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="/" + "".join(map(chr, range(32))) + "\x7f"),
    min_size=1,
    max_size=USER_ID_MAX,
) | st.sampled_from(NAMED_SUBS)


def encoded_segment(value: str) -> str:
    """How a client writes one path segment (written here, independently of the service's builder)."""
    return "%2E" * len(value) if value in (".", "..") else quote(value, safe="")


# RFC 3986 URI-reference characters: unreserved, sub-delims, ":@/?", and %XX escapes only.
_URI_REFERENCE = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.:\[\]-]+)?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2})*"
)


def assert_valid_uri(url: str) -> None:
    assert url.isascii(), url
    assert _URI_REFERENCE.fullmatch(url), url
    assert "#" not in url, url


def link_target(link: str) -> str:
    match = re.fullmatch(r'<([^<>]*)>; rel="next"', link)
    assert match, link
    assert_valid_uri(match.group(1))
    return match.group(1)
