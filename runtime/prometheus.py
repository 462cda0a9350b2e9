"""Prometheus in the loop: the evidence `perfspec check` judges from a real Prometheus server.

- PromQL targets (`source: {promql: ...}`) are evaluated at the end of the run.
- The server-side view: each HTTP target's statistics from the service's own histogram over each
  tool's run window (`increase()` over the window, the same selectors as the alert rules).
- The alerts of the spec that went pending or firing during the run (Prometheus's ALERTS series).

`collect` writes all of it to results/prometheus.json (queries, values, errors), so the checker
judges evidence and a later `perfspec check` of the same results reads the same numbers offline.
`embedded` starts a throwaway server (Debian's `prometheus` binary) scraping the demo target
every second with the spec's generated rules loaded.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from . import tools
from .contracts import ServerView, TargetsFile
from .net import free_port, mask, stop
from .verdict import QUANTILES

EVIDENCE = "prometheus.json"
SCRAPE = 1.0  # seconds: the embedded server's scrape and rule evaluation interval
INSTALL_HINT = "install Prometheus (Debian: apt-get install prometheus), or set PROMETHEUS_URL"
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class PrometheusError(RuntimeError):
    """A query that could not be answered: the server is unreachable or refused it."""


class PrometheusUnavailable(RuntimeError):
    """No Prometheus binary to start an embedded server with."""


def resolve_url(template: str | None, env: dict | None = None) -> str | None:
    """`${PROMETHEUS_URL}`-style text with the environment's values; None when one is unset."""
    if not template:
        return None
    env = os.environ if env is None else env
    missing = False

    def value(m: re.Match) -> str:
        nonlocal missing
        found = env.get(m.group(1)) or m.group(2)
        if found is None:
            missing = True
            return ""
        return found

    out = ENV_REF.sub(value, template)
    return None if missing or not out else out


class Client:
    """The HTTP API of one Prometheus server (`/api/v1/query`, `query_range`, `rules`)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout

    def _get(self, path: str, params: dict[str, str]) -> dict:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                body = json.loads(resp.read(16 << 20))
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read(1 << 16))
            except ValueError:
                raise PrometheusError(f"{mask(self.url)} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            cause = getattr(exc, "reason", exc)
            raise PrometheusError(f"cannot reach Prometheus at {mask(self.url)}: {cause}") from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise PrometheusError(f"Prometheus refused the query: {error or 'no answer'}")
        return body.get("data") or {}

    def query(self, expr: str, at: float) -> list[tuple[dict, float]]:
        """An instant query: (labels, value) per series; a scalar is one row without labels."""
        data = self._get("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar":
            return [({}, float(result[1]))]
        if kind != "vector" or not isinstance(result, list):
            raise PrometheusError(f"the query returned a {kind}, not an instant vector")
        return [(row.get("metric") or {}, float(row["value"][1])) for row in result]

    def raw(self, selector: str, at: float) -> list[dict]:
        """A range selector's raw samples, series by series (`values`, or native `histograms`)."""
        result = self._get("/api/v1/query", {"query": selector, "time": f"{at:.3f}"}).get("result")
        return result if isinstance(result, list) else []

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[tuple[dict, list]]:
        data = self._get(
            "/api/v1/query_range",
            {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
        )
        return [
            (row.get("metric") or {}, [(float(t), float(v)) for t, v in row.get("values") or []])
            for row in data.get("result") or []
        ]

    def rule_groups(self) -> list[str]:
        return [g.get("name", "") for g in self._get("/api/v1/rules", {}).get("groups") or []]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False


# --- the evidence -----------------------------------------------------------------------------


def server_queries(view: ServerView, stat: str, start: float, end: float) -> str | None:
    """The PromQL of one statistic between two instants from the service's counters: the
    difference of their values at `end` and at `start` (a series born during the run counts from
    0), so no extrapolation and no request before the run; None for min and max, which a
    histogram cannot tell."""
    hist, total, sels = view.histogram, view.total, list(view.selectors)

    def delta(metric: str, chosen: list[str], by: str | None = None) -> str:
        def at(t: float) -> str:
            terms = " or ".join(f"{metric}{s} @ {t:.3f}" for s in chosen)
            return f"sum by ({by}) ({terms})" if by else f"sum({terms})"

        return f"({at(end)} - ({at(start)} or {at(end)} * 0))"

    if stat in QUANTILES:
        return f"histogram_quantile({QUANTILES[stat]}, {delta(hist + '_bucket', sels, 'le')})"
    if stat == "avg":
        return f"{delta(hist + '_sum', sels)} / {delta(hist + '_count', sels)}"
    errors = f"({delta(total, list(view.error_selectors))} or vector(0))"
    if stat == "error_rate":
        return f"{errors} / {delta(total, sels)}"
    if stat == "success_rate":
        return f"1 - {errors} / {delta(total, sels)}"
    if stat == "throughput":
        return f"{delta(total, sels)} / {max(end - start, 1e-3):.3f}"
    return None


def _value(client: Client, expr: str, at: float) -> dict:
    try:
        rows = client.query(expr, at)
    except PrometheusError as exc:
        return {"query": expr, "error": str(exc)}
    values = [{"labels": labels, "value": v} for labels, v in rows if not math.isnan(v)]
    return {"query": expr, "values": values}


def collect(
    url: str,
    targets: TargetsFile | dict,
    windows: dict[str, list[float]],
    at: float | None = None,
    step: float | None = None,
    lag: float = 0.0,
) -> dict:
    """Everything the checker reads from Prometheus for these targets and run windows (tool ->
    [start, end] in Unix seconds). `at`: when PromQL targets are evaluated (default: the end of
    the last window, or now); `lag`: how long after a window's end its last scrape lies."""
    client = Client(url)
    ends = [w[1] for w in windows.values()]
    at = at if at is not None else (max(ends) if ends else time.time())
    out: dict = {
        "version": 1,
        "url": mask(url),
        "at": at,
        "windows": windows,
        "promql": {},
        "server": {},
        "alerts": None,
    }
    targets = TargetsFile.read(targets)
    for t in targets.targets:
        if t.kind == "external" and t.external is not None and t.external.promql:
            out["promql"][t.name] = _value(client, t.external.promql, at)
        view = t.server
        if t.kind != "measured" or not view:
            continue
        per_tool = {}
        for tool, (start, end) in sorted(windows.items()):
            if tool not in ("locust", "k6"):
                continue
            stats = {}
            for stat in dict.fromkeys(st.stat for st in t.stats):
                expr = server_queries(view, stat, start, end + lag)
                if expr is not None:
                    stats[stat] = _value(client, expr, end + lag)
            per_tool[tool] = stats
        out["server"][t.name] = per_tool
    if windows:
        out["alerts"] = alert_activity(
            client, targets.name, min(w[0] for w in windows.values()), max(ends), step
        )
    return out


def alert_activity(client: Client, spec: str, start: float, end: float, step: float | None) -> dict:
    """Which of the spec's alerts went pending or firing between start and end, and when."""
    group = f"perfspec {spec}: alerts"
    try:
        loaded = group in client.rule_groups()
        step = step or max(1.0, math.ceil((end - start) / 2000))
        selector = "ALERTS{perfspec_spec=" + json.dumps(spec, ensure_ascii=False) + "}"
        rows = client.query_range(selector, start, end + step, step)
    except PrometheusError as exc:
        return {"loaded": None, "error": str(exc), "alerts": []}
    found: dict[str, dict] = {}
    for labels, values in rows:
        name, state = labels.get("alertname", "?"), labels.get("alertstate", "?")
        entry = found.setdefault(
            name, {"alert": name, "target": labels.get("perfspec_target"), "severity": labels.get("severity")}
        )
        first = min((t for t, v in values if v > 0), default=None)
        if first is not None and state in ("pending", "firing"):
            key = f"{state}_at"
            entry[key] = min(first, entry.get(key, first)) - start
    return {"loaded": loaded, "group": group, "alerts": sorted(found.values(), key=lambda a: a["alert"])}


def read_evidence(path: Path) -> dict | None:
    """results/prometheus.json as written by `collect`; None when absent. A file that is there but
    cut off, of another version or contradicting itself is refused by name (ResultError)."""
    from .results import ResultError

    if not path.is_file():
        return None
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultError(where, f"cannot read: {exc}") from None
    except ValueError:
        raise ResultError(where, "is not JSON: cut off, or not Prometheus evidence") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ResultError(
            where,
            f"version {data.get('version') if isinstance(data, dict) else None!r} "
            "is not 1: written by another perfspec, or not Prometheus evidence",
        )
    for key, kind in (("windows", dict), ("promql", dict), ("server", dict)):
        if not isinstance(data.get(key), kind):
            raise ResultError(where, f"`{key}` is missing or of the wrong type")
    for tool, window in data["windows"].items():
        if not (
            isinstance(window, list)
            and len(window) == 2
            and all(isinstance(t, int | float) for t in window)
            and window[0] <= window[1]
        ):
            raise ResultError(where, f"the {tool} window {window!r} is not [start, end] in order")
    return data


# --- the embedded server ----------------------------------------------------------------------


@contextlib.contextmanager
def embedded(
    scrape: str | None,
    rules: list[Path] | None = None,
    labels: dict[str, str] | None = None,
    timeout: float = 30.0,
    receiver: bool = False,
) -> Iterator[str]:
    """A throwaway Prometheus on 127.0.0.1 scraping `scrape` (a base URL) every second, with the
    rule files loaded; yields its URL once the first scrape is in. `receiver`: it also takes
    remote writes with native histograms (k6's results); with no `scrape` it is ready at once.
    Stopped and removed on exit."""
    binary = tools.path("prometheus")
    if binary is None:
        raise PrometheusUnavailable(f"no `prometheus` binary: {INSTALL_HINT}")
    target = urllib.parse.urlsplit(scrape or "")
    labels = dict(labels or {})
    job = labels.pop("job", "perfspec-demo")
    with tempfile.TemporaryDirectory(prefix="perfspec-prometheus-") as folder:
        config = {
            "global": {"scrape_interval": f"{SCRAPE:g}s", "evaluation_interval": f"{SCRAPE:g}s"},
            "rule_files": [str(Path(r).resolve()) for r in rules or []],
            "scrape_configs": [
                {
                    "job_name": job,
                    "metrics_path": "/metrics",
                    "scheme": target.scheme,
                    "static_configs": [{"targets": [target.netloc], "labels": labels}],
                }
            ]
            if scrape
            else [],
        }
        cfg = Path(folder) / "prometheus.yml"
        cfg.write_text(json.dumps(config))  # JSON is YAML
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (Path(folder) / "prometheus.log").open("w")
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={cfg}",
                f"--storage.tsdb.path={folder}/data",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
                *(
                    ["--web.enable-remote-write-receiver", "--enable-feature=native-histograms"]
                    if receiver
                    else []
                ),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            client, deadline = Client(url, timeout=5), time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    log.flush()
                    text = (Path(folder) / "prometheus.log").read_text(errors="replace")[-800:]
                    raise PrometheusUnavailable(f"prometheus exited with {proc.returncode}: {text}")
                if client.ready() and not scrape:
                    break
                if client.ready():
                    with contextlib.suppress(PrometheusError):
                        up = "up{job=" + json.dumps(job, ensure_ascii=False) + "}"
                        if any(v == 1 for _, v in client.query(up, time.time())):
                            break
                if time.monotonic() > deadline:
                    raise PrometheusUnavailable(
                        f"prometheus did not scrape {mask(scrape or url)} within {timeout:.0f}s"
                    )
                time.sleep(0.2)
            yield url
        finally:
            stop(proc)
            log.close()
