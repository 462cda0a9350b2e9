"""Text from specs and results on its way to a terminal, a log or an XML file.

Control characters, line separators and other unprintable characters are shown escaped
(`\\n`, `\\x1b`, `\\u2028`), so a name or a path can neither forge a line of output (a GitHub
`::error` command, a fake verdict) nor drive the terminal. Nothing here renders markup or emoji:
callers print with markup and emoji off.
"""

from __future__ import annotations

import re

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with every unprintable character escaped as Python would write it."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (shown escaped instead)."""
    return _XML_ILLEGAL.sub(lambda m: repr(m.group(0))[1:-1], text)
