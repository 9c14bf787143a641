"""A refused body as it may be kept: its first 512 bytes with every passphrase value taken out. Pure.

A refused body is often not JSON at all (cut off, form-encoded, text), so the
passphrase is found three ways: the value after any `"passphrase"` key (the key and
the value may be JSON-escaped, the value may be cut off or not a string), any
`passphrase=…` pair, and every known value — the one offered in the URL, the one
configured, those found by the first way — in each form a sender may have written it
(as is, JSON-escaped, percent-encoded). Taking out happens on the whole body, before
it is cut to 512 bytes, so no half of a passphrase survives at the cut.
"""

from __future__ import annotations

import json
import re
from typing import Iterable

from station.domain.refusals import BODY_BYTES
from station.logs import secret_forms

MASK = "***"
MIN_KNOWN = 4
_STRING = re.compile(r'"(?:[^"\\]|\\.)*("|\\?$)', re.S)  # a JSON string token, or one cut off at the end
_SCALAR = re.compile(r'[^,}\]\s]*')
_PAIR = re.compile(r"(passphrase=)([^&\s\"']*)", re.I)


def _decoded(token: str) -> str | None:
    try:
        value = json.loads(token)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _mask_keyed_values(text: str, found: list[str]) -> str:
    """Replace the value after every `"passphrase":` by `"***"`; the plain values go to `found`."""
    out, position = [], 0
    for match in _STRING.finditer(text):
        if match.start() < position:
            continue
        key = _decoded(match.group(0))
        if key is None or key.lower() != "passphrase":
            continue
        rest = match.end()
        colon = re.compile(r"\s*:\s*").match(text, rest)
        if colon is None:
            continue
        start = colon.end()
        value = _STRING.match(text, start) if text.startswith('"', start) else _SCALAR.match(text, start)
        end = value.end() if value else start
        if end == start and not text.startswith('"', start):
            continue
        plain = _decoded(value.group(0)) if text.startswith('"', start) else value.group(0)
        if plain is None and text.startswith('"', start):  # cut off: what is there is still the secret's start
            plain = value.group(0)[1:].rstrip('"\\')
        if plain:
            found.append(plain)
        out.append(text[position:start])
        out.append(f'"{MASK}"')
        position = end
    out.append(text[position:])
    return "".join(out)


def redact_body(body: bytes | None, known: Iterable[str | None] = ()) -> str:
    """The first `BODY_BYTES` bytes of `body` as text, with every passphrase value replaced by `***`."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace")
    found: list[str] = []
    text = _mask_keyed_values(text, found)
    text = _PAIR.sub(lambda m: m.group(1) + MASK, text)
    values = {value for value in (*known, *found) if isinstance(value, str) and value}
    forms = sorted({form for value in values for form in secret_forms(value) | {value}}, key=len, reverse=True)
    for form in forms:
        if len(form) >= MIN_KNOWN:  # a shorter one would mask letters all over the body
            text = text.replace(form, MASK)
    return text.encode("utf-8")[:BODY_BYTES].decode("utf-8", "ignore")
