"""A PromQL syntax check for the expressions a spec writes (`alerts.rules[].expr`,
`targets[].source.promql`), so a typo is an error at its spec line, not a promtool failure after
the build. It follows Prometheus' grammar (operators and precedence, aggregations with
by/without, vector matching, range and subquery selectors, offset and @); it checks syntax,
not function names or types.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\n\r]+|\#[^\n]*)
  | (?P<duration>(?:\d+(?:ms|s|m|h|d|w|y))+(?![A-Za-z0-9_]))
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<ident>:?[A-Za-z_][A-Za-z0-9_:]*)
  | (?P<op>==|!=|<=|>=|=~|!~|[-+*/%^<>=(){}\[\],:@])
""",
    re.VERBOSE,
)

AGGREGATIONS = {
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
}
_WITH_PARAM = {"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "unless": 2,
    "==": 3,
    "!=": 3,
    "<=": 3,
    "<": 3,
    ">=": 3,
    ">": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
    "atan2": 5,
    "^": 6,
}
_COMPARISONS = {"==", "!=", "<=", "<", ">=", ">"}


class PromQLError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


def _lex(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise PromQLError(f"unexpected character {text[pos]!r}", pos + 1)
        if m.lastgroup != "ws":
            out.append((m.lastgroup or "", m.group(), pos + 1))
        pos = m.end()
    out.append(("end", "", len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self, *values: str) -> tuple[str, str, int]:
        tok = self.peek()
        if values and tok[1] not in values:
            shown = tok[1] or "the end"
            raise PromQLError(f"expected {' or '.join(values)}, found {shown!r}", tok[2])
        self.i += 1
        return tok

    def accept(self, *values: str) -> bool:
        if self.peek()[1] in values and self.peek()[0] in ("op", "ident"):
            self.i += 1
            return True
        return False

    def expr(self, min_prec: int = 1) -> None:
        self.unary()
        while True:
            kind, value, _ = self.peek()
            prec = _PRECEDENCE.get(value) if kind in ("op", "ident") else None
            if prec is None or prec < min_prec:
                return
            self.i += 1
            if value in _COMPARISONS:
                self.accept("bool")
            if self.accept("on", "ignoring"):
                self.labels()
            if self.accept("group_left", "group_right") and self.peek()[1] == "(":
                self.labels()
            self.expr(prec if value == "^" else prec + 1)

    def unary(self) -> None:
        if self.accept("+", "-"):
            self.unary()
            return
        self.primary()
        self.postfix()

    def postfix(self) -> None:
        while True:
            if self.accept("["):
                self.duration()
                if self.accept(":"):
                    if self.peek()[1] != "]":
                        self.duration()
                self.take("]")
            elif self.accept("offset"):
                self.accept("-")
                self.duration()
            elif self.accept("@"):
                if self.accept("start", "end"):
                    self.take("(")
                    self.take(")")
                else:
                    self.accept("-", "+")
                    self.number()
            else:
                return

    def duration(self) -> None:
        kind, value, col = self.take()
        if kind not in ("duration", "number"):
            raise PromQLError(f"expected a duration such as 5m, found {value or 'the end'!r}", col)

    def number(self) -> None:
        kind, value, col = self.take()
        if kind not in ("number", "duration"):
            raise PromQLError(f"expected a number, found {value or 'the end'!r}", col)

    def listing(self, close: str, item) -> None:
        """Items up to `close`, separated by commas (a trailing comma allowed)."""
        while self.peek()[1] != close:
            item()
            if not self.accept(","):
                break
        self.take(close)

    def label_name(self) -> str:
        kind, value, col = self.take()
        if kind not in ("ident", "string"):
            raise PromQLError(f"expected a label name, found {value or 'the end'!r}", col)
        return kind

    def labels(self) -> None:
        self.take("(")
        self.listing(")", self.label_name)

    def matcher(self) -> None:
        kind = self.label_name()
        if self.peek()[1] in ("=", "!=", "=~", "!~"):
            self.take()
            kind, value, col = self.take()
            if kind != "string":
                raise PromQLError(f"expected a quoted label value, found {value or 'the end'!r}", col)
        elif kind != "string":
            raise PromQLError("expected =, !=, =~ or !~ after a label name", self.peek()[2])

    def matchers(self) -> None:
        self.take("{")
        self.listing("}", self.matcher)

    def args(self) -> None:
        self.take("(")
        if self.peek()[1] != ")":
            self.expr()
            while self.accept(","):
                self.expr()
        self.take(")")

    def primary(self) -> None:
        kind, value, col = self.peek()
        if kind in ("number", "string", "duration"):
            self.i += 1
        elif value == "(":
            self.i += 1
            self.expr()
            self.take(")")
        elif value == "{":
            self.matchers()
        elif kind == "ident" and value in AGGREGATIONS:
            self.i += 1
            if self.accept("by", "without"):
                self.labels()
            self.take("(")
            if value in _WITH_PARAM:
                self.expr()
                self.take(",")
            self.expr()
            self.take(")")
            if self.accept("by", "without"):
                self.labels()
        elif kind == "ident":
            self.i += 1
            if self.peek()[1] == "(":
                self.args()
            elif self.peek()[1] == "{":
                self.matchers()
        else:
            raise PromQLError(f"unexpected {value or 'end of the expression'!r}", col)


def check(text: str) -> None:
    """Raise PromQLError (with the column) when `text` is not a PromQL expression."""
    if not text.strip():
        raise PromQLError("the expression is empty", 1)
    if "\ufffd" in text:  # Prometheus's lexer reads U+FFFD as an invalid rune, even in strings
        raise PromQLError("invalid UTF-8 rune U+FFFD (promtool refuses it)", text.index("\ufffd") + 1)
    parser = _Parser(text)
    parser.expr()
    kind, value, col = parser.peek()
    if kind != "end":
        raise PromQLError(f"unexpected {value!r} after a complete expression", col)
