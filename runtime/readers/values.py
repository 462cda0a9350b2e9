"""What every reader shares: units, checked counts and times, and JSON loaded strictly (no
NaN, no Infinity, no absurd numbers), each problem naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

from ..results import ResultError

UNITS = {"ns": 1, "us": 1000, "ms": 1_000_000}


class _Refused(ValueError):
    pass


def _no_constant(name: str) -> float:
    raise _Refused(f"holds {name}: every number of a result is finite")


def shown(value: object) -> str:
    """A value of a result file in a message: a huge integer by its length, not its digits."""
    text = repr(value)
    if isinstance(value, int) and len(text) > 24:
        return f"{text[:12]}... (a {len(text.lstrip('-'))}-digit number)"
    return text if len(text) <= 80 else text[:77] + "..."


def count(value: object, what: str) -> int:
    """A count from a result file: a whole number from 0 to 10^15."""
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**15):
        raise ValueError(f"{what} {shown(value)} is not a whole number from 0 to 10^15")
    return value


def seconds(value: object, what: str) -> float:
    """A duration or timestamp in seconds: finite and non-negative."""
    if not (isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e13):
        raise ValueError(f"{what} {value!r} is not a finite, non-negative number of seconds")
    return float(value)


def load_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultError(str(path), f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ResultError(str(path), "not a UTF-8 text file") from None
    try:
        # every number's range is checked where it is read (counts, times, histogram pairs); an
        # integer past Python's digit limit (sys.int_info, 4300) fails here
        data = json.loads(text, parse_constant=_no_constant)
    except _Refused as exc:
        raise ResultError(str(path), str(exc)) from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            return _undecodable(path, text, exc)
        raise ResultError(str(path), f"holds a number no count or time can be ({exc})") from None
    if not isinstance(data, dict):
        raise ResultError(str(path), "expected a JSON object")
    return data


def _undecodable(path: Path, text: str, exc: json.JSONDecodeError) -> NoReturn:
    cut = exc.pos >= len(text.rstrip()) or not text.rstrip().endswith(("}", "]"))
    hint = " (the file ends early: was the run interrupted?)" if cut else ""
    raise ResultError(
        str(path), f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}"
    ) from None
