"""Support module of perfspec's SQL benchmarks: parameter values, expressions, pgbench's draws and
the latency histogram.

A spec's `expr:` generators and expression bounds (`(aid - 1) / 100000 + 1`, `100000 * scale`)
are integer arithmetic over names: + - * / % and parentheses, where / truncates toward zero and %
keeps the dividend's sign, as pgbench computes them. The text is parsed into a small tree (never
evaluated as Python), evaluated here for the asyncpg engine and written in pgbench's syntax for
the pgbench engine. The random draws follow pgbench's own algorithms (exponential, gaussian,
zipfian), so both engines draw from the same distributions. Generators draw a call's values;
Histogram keeps latencies to 3 significant digits. Pure Python, no dependencies; written once per
output folder beside perfspec_sql_level.py, which imports it.
"""

from __future__ import annotations

import ast
import csv
import math
import os
import random
import time
import uuid

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}


class BadInput(Exception):
    """Something the user must fix: printed as one message, exit status 2."""


def resolve(parts, counter=None):
    """Join template parts: text, environment read at run time, {uuid}, {seq}, {now}, {epoch_ms}."""
    out = []
    for part in parts:
        if part[0] == "text":
            out.append(part[1])
        elif part[0] == "env":
            value = os.environ.get(part[1]) or (part[2] if len(part) > 2 else None)
            if value is None:
                raise BadInput(f"environment variable {part[1]} is not set")
            out.append(value)
        elif part[1] == "uuid":
            out.append(str(uuid.uuid4()))
        elif part[1] == "now":
            out.append(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        elif part[1] == "epoch_ms":
            out.append(str(int(time.time() * 1000)))
        else:
            out.append(str(next(counter)))
    return "".join(out)


class ExprError(ValueError):
    """The expression is not integer arithmetic over names (the message says what is wrong)."""


def parse(text):
    """The expression's tree: ("num", n) | ("var", name) | ("neg", x) | ("op", sign, left, right)."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ExprError(f"cannot read {text!r} as arithmetic: write e.g. (aid - 1) / 100000 + 1") from None
    return _tree(node, text)


def _tree(node, text):
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return ("num", node.value)
    if isinstance(node, ast.Name):
        return ("var", node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _tree(node.operand, text)
        return ("neg", inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return ("op", _OPS[type(node.op)], _tree(node.left, text), _tree(node.right, text))
    shown = ast.get_source_segment(text.strip(), node) or type(node).__name__
    where = "" if shown == text.strip() else f" in {text!r}"
    raise ExprError(
        f"{shown!r}{where} is not arithmetic: use whole numbers, names, + - * / % and parentheses"
    )


def names(tree):
    """The names the expression reads."""
    if tree[0] == "var":
        return {tree[1]}
    if tree[0] == "num":
        return set()
    if tree[0] == "neg":
        return names(tree[1])
    return names(tree[2]) | names(tree[3])


def evaluate(tree, values):
    """The expression's value; `values` maps every name it reads to an int."""
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "var":
        return int(values[tree[1]])
    if kind == "neg":
        return -evaluate(tree[1], values)
    left, right = evaluate(tree[2], values), evaluate(tree[3], values)
    sign = tree[1]
    if sign == "+":
        return left + right
    if sign == "-":
        return left - right
    if sign == "*":
        return left * right
    if right == 0:
        raise ZeroDivisionError(f"division by zero in {pgbench(tree)}")
    quotient = abs(left) // abs(right) * (1 if (left < 0) == (right < 0) else -1)
    return quotient if sign == "/" else left - right * quotient


def pgbench(tree):
    """The expression in pgbench's syntax (`:name` reads a variable), fully parenthesised."""
    kind = tree[0]
    if kind == "num":
        return str(tree[1])
    if kind == "var":
        return ":" + tree[1]
    if kind == "neg":
        return f"-({pgbench(tree[1])})"
    return f"({pgbench(tree[2])} {tree[1]} {pgbench(tree[3])})"


# --- pgbench's random functions (src/bin/pgbench/pgbench.c), on a random.Random ---------------


def exponential(rng, low, high, param):
    """random_exponential(low, high, param): P(x) decays by exp(-param) across the range."""
    cut = math.exp(-param)
    uniform = 1.0 - rng.random()  # (0, 1]
    rand = -math.log(cut + (1.0 - cut) * uniform) / param
    return low + int((high - low + 1) * rand)


def gaussian(rng, low, high, param):
    """random_gaussian(low, high, param): a normal curve cut at +-param standard deviations."""
    while True:
        stdev = rng.gauss(0.0, 1.0)
        if -param <= stdev < param:
            break
    rand = (stdev + param) / (param * 2.0)
    return low + int((high - low + 1) * rand)


def zipfian(rng, low, high, param):
    """random_zipfian(low, high, param): the rejection method pgbench uses (Devroye)."""
    n = high - low + 1
    if n <= 1:
        return low
    b = 2.0 ** (param - 1.0)
    while True:
        u = 1.0 - rng.random()  # (0, 1]: pow(0, negative) is undefined
        v = rng.random()
        x = math.floor(u ** (-1.0 / (param - 1.0)))
        t = (1.0 + 1.0 / x) ** (param - 1.0)
        if v * x * (t - 1.0) / (b - 1.0) <= t / b and x <= n:
            return low - 1 + int(x)


DRAWS = {"exponential": exponential, "gaussian": gaussian, "zipfian": zipfian}
# the parameter each distribution accepts (pgbench refuses others): (lowest, highest, inclusive low)
PARAM_RANGE = {
    "exponential": (0.0, math.inf, False),
    "gaussian": (2.0, math.inf, True),
    "zipfian": (1.001, 1000.0, True),
}


class Generators:
    """Parameter values for one process; sequences stay unique across processes."""

    _csv_cache = {}

    def __init__(self, generators, queries, scale, process, processes):
        self.generators, self.queries, self.scale = generators, queries, {"scale": scale or 1}
        self.rng = random.Random()
        self.sequences = {}
        self.process, self.processes = process, processes
        self.bounds = {  # int bounds: numbers, or expressions over scale evaluated once
            name: [b if isinstance(b, int) else evaluate(parse(b), self.scale) for b in g["int"]]
            for name, g in generators.items()
            if "int" in g
        }
        self.exprs = {name: parse(g["expr"]) for name, g in generators.items() if "expr" in g}

    def counter(self, name, start):
        if name not in self.sequences:
            self.sequences[name] = iter(range(start + self.process, 2**62, self.processes))
        return self.sequences[name]

    def value(self, name, values=None):
        gen = self.generators[name]
        if "int" in gen:
            low, high = self.bounds[name]
            dist = gen.get("dist")
            if dist:
                return DRAWS[dist](self.rng, low, high, gen["param"])
            return self.rng.randint(low, high)
        if "expr" in gen:
            return evaluate(self.exprs[name], {**self.scale, **(values or {})})
        if "choice" in gen:
            return self.rng.choice(gen["choice"])
        if "csv" in gen:
            return self.rng.choice(self.column(gen["csv"], gen["column"]))
        if "uuid" in gen:
            return str(uuid.uuid4())
        if "sequence" in gen:
            return next(self.counter(name, gen["sequence"]))
        return resolve(gen["text"], self.counter(name, 1))

    @classmethod
    def column(cls, path, column):
        key = (path, column)
        if key not in cls._csv_cache:
            try:
                with open(path, newline="", encoding="utf-8") as handle:
                    values = [row[column] for row in csv.DictReader(handle)]
            except OSError as exc:
                raise BadInput(f"CSV file {path}: {exc.strerror}") from None
            except KeyError:
                raise BadInput(f"CSV file {path} has no column {column!r}") from None
            if not values:
                raise BadInput(f"CSV file {path} has no rows")
            cls._csv_cache[key] = values
        return cls._csv_cache[key]

    def draw(self, query):
        """Every generator the query draws, once per call: {name: value}, dependencies first."""
        values = {}
        q = self.queries[query]
        for name in q.get("draws", q.get("params", [])):
            values[name] = self.value(name, values)
        return values

    def drawer(self, query):
        """draw() for the timed loop: uniform int ranges drawn without the dispatch."""
        q, steps = self.queries[query], []
        for name in q.get("draws", q.get("params", [])):
            gen = self.generators[name]
            if "int" in gen and "dist" not in gen:
                low, high = self.bounds[name]
                steps.append((name, low, high - low + 1))
            else:
                steps.append((name, None, None))
        value, random_ = self.value, self.rng.random

        def draw():
            values = {}
            for name, low, span in steps:
                values[name] = value(name, values) if low is None else low + int(random_() * span)
            return values

        return draw

    def args(self, query):
        values = self.draw(query)
        return [values[name] for name in self.queries[query].get("params", [])]

    def maker(self, query):
        """A fast argument maker for the timed loop: plain uniform int ranges skip the dispatch."""
        names, gens = self.queries[query]["params"], self.generators
        if not names:
            return tuple
        if self.queries[query].get("draws") is None and all(
            "int" in gens[n] and "dist" not in gens[n] for n in names
        ):
            ranges = [(self.bounds[n][0], self.bounds[n][1] - self.bounds[n][0] + 1) for n in names]
            draw = self.rng.random
            return lambda: [low + int(draw() * span) for low, span in ranges]
        return lambda: self.args(query)
