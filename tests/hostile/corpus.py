"""The hostile-text corpus: strings that try to leave the data context of every artifact.

Each string holds MARKER where an escape would put it into code (after a quote, a comment end,
a line terminator, a template opener, ...). Escaped properly, MARKER stays inside a string or a
comment; a MARKER token in code means spec text ran. The Python payloads also try to touch the
canary file, so an escape that parses is also caught when the artifact is imported.
"""

from __future__ import annotations

MARKER = "PWNMARK"

# what may end a string, a comment, a line, a document or a template in some artifact
BREAKOUTS = [
    '"',
    "'",
    '"""',
    "'''",
    "`",
    "\\",
    '\\"',
    "\\'",
    '\\\\"',
    "\n",
    "\r",
    "\r\n",
    "\u2028",
    "\u2029",
    "\u0085",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x00",
    "\x1b[2K",
    "\t",
    "*/",
    "/*",
    "//",
    "#",
    "-->",
    "<!--",
    "</script>",
    "]]>",
    "${",
    "}",
    "${MARKER}",
    "{{",
    "}}",
    "{{ . }}",
    "${{",
    "}}}",
    ": ",
    "\n- ",
    "\nkey: ",
    "---\n",
    "\n...\n",
    "&a ",
    "*a ",
    "!!python/object/apply:os.system ",
    "? ",
    "|\n",
    ">\n",
    "%TAG ",
    "@",
    "[",
    "]",
    "{",
    '"}',
    '")',
    "');",
    '");',
    "`);",
    '") or vector(1) #',
    '"} or vector(1) #',
    ',a="b"}',
    '=~".*"',
    "';--",
    "$1",
    "\u202e",
    "\ufeff",
    "\u200b",
    "\uff02",
    "\ud7ff",
    "\U0001f4af",
]

PY_CODE = '__import__("pathlib").Path("CANARY").touch()'
JS_CODE = "globalThis.PWN = 1"

SPECIAL = [
    # workflow expressions and shell
    "${{ github.token }}",
    "${{ secrets.GITHUB_TOKEN }}",
    "$(touch CANARY)",
    "`touch CANARY`",
    "; touch CANARY",
    "&& touch CANARY",
    "| touch CANARY",
    "$HOME",
    "${HOME:-x}",
    # Go templates (Prometheus annotations) and PromQL
    "{{ .Labels.instance }}",
    '{{ printf "%s" "x" }}',
    "{{/* c */}}",
    "{{- .Value -}}",
    "up == 1",
    "sum(rate(x[5m]))",
    'x{a="b"}',
    # terminal, rich markup, GitHub workflow commands in error output
    "[bold]x[/bold]",
    "[/]",
    "[link=file:///etc/passwd]x[/link]",
    ":100:",
    ":smile:",
    "\n::error file=x::forged",
    "%0A::error::forged",
    "\x1b]8;;http://evil.test\x1b\\x\x1b]8;;\x1b\\",
    "\x1b[31mred\x1b[0m",
    # HTML report
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "&lt;&amp;",
    "javascript:alert(1)",
    # paths and names
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "a/b",
    ".",
    "..",
    "~",
    "",
    " ",
    "  padded  ",
    "x" * 300,
    "y" * 5000,
    "名前",
    "ünïcödé",
    "\u0301",
    "Ⅻ",
    "𝔘𝔫𝔦",
    # YAML specials that change a scalar's type
    "yes",
    "no",
    "on",
    "off",
    "null",
    "~",
    "1e3",
    "0x10",
    "0o17",
    ".inf",
    ".nan",
    "2026-11-28",
    "12:30",
    "=",
    "<<",
    "!",
    "%",
    "*",
    "&",
]


def strings(canary: str = "CANARY") -> list[str]:
    """Every hostile string, each holding MARKER at least once."""
    out: list[str] = []
    for b in BREAKOUTS:
        out.append(f"a{b}{MARKER}")
        out.append(f"{b}{MARKER}{b}")
        out.append(f"x{b}; {PY_CODE}; {MARKER}{b}")
        out.append(f"x{b}; {JS_CODE}; {MARKER} //{b}")
    for s in SPECIAL:
        out.append(f"{s} {MARKER}")
    seen: dict[str, None] = {}
    for s in out:
        seen.setdefault(s.replace("CANARY", canary), None)
    return list(seen)
