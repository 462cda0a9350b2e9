"""Support module of perfspec's SQL benchmarks: the pgbench engine.

One concurrency level of one query runs as `pgbench` with the generated script(s) beside
sql_bench.py (`-f pgbench/NAME.sql@weight`), the spec's settings as pgbench's options
(`-M prepared`, `-c/-j`, `-T` or `-t`, `--rate`, `--max-tries`, `-s`) and a per-transaction log
(`-l`): every transaction's latency goes into the same histogram of 3 significant digits as the
asyncpg engine's, per script (a mix's part) and as a whole. The DSN reaches pgbench through
libpq's environment (PGHOST, PGPASSWORD, ...), never its command line. Written once per output
folder beside perfspec_sql.py, which imports it.
"""

from __future__ import annotations

import glob
import math
import os
import shutil
import subprocess
import tempfile
from urllib.parse import parse_qsl, unquote, urlsplit

if __package__:
    from .perfspec_histogram import Histogram
    from .perfspec_sql_values import BadInput
else:
    from perfspec_histogram import Histogram
    from perfspec_sql_values import BadInput

# libpq connection keywords and the environment variables pgbench reads them from
LIBPQ_ENV = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "sslmode": "PGSSLMODE",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def dsn_env(dsn):
    """The DSN (a postgresql:// URI or key=value words) as libpq environment variables."""
    words = {}
    if dsn.startswith(("postgresql://", "postgres://")):
        url = urlsplit(dsn)
        netloc = url.netloc.rsplit("@", 1)
        if len(netloc) == 2:
            user, _, password = netloc[0].partition(":")
            words.update(user=unquote(user), password=unquote(password))
        hostport = netloc[-1]
        if hostport.startswith("["):  # [IPv6]:port
            host, _, rest = hostport[1:].partition("]")
            port = rest.lstrip(":")
        else:
            host, _, port = hostport.partition(":")
        words.update(host=unquote(host), port=port)
        if url.path.strip("/"):
            words["dbname"] = unquote(url.path.lstrip("/"))
        words.update(parse_qsl(url.query))
    else:
        for word in dsn.split():
            key, sep, value = word.partition("=")
            if not sep:
                raise BadInput("cannot read the DSN's words for pgbench: write key=value or postgresql://")
            words[key] = value.strip("'")
    env = {}
    for key, value in words.items():
        if not value:
            continue
        if key not in LIBPQ_ENV:
            raise BadInput(f"the DSN's {key!r} has no libpq environment variable for pgbench")
        env[LIBPQ_ENV[key]] = value
    return env


def binary():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)
    pgbench = shutil.which("pgbench") or (found[0] if found else None)
    if pgbench is None:
        raise BadInput("the pgbench engine needs pgbench: apt-get install postgresql-client")
    return pgbench


def version():
    proc = subprocess.run([binary(), "--version"], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def command(q, workers, cores, folder, scale):
    """pgbench's options for one level (the log and the run length are added by run_level)."""
    cmd = [
        binary(),
        "-n",
        "-M",
        "prepared" if q["prepared"] else "extended",
        "-c",
        str(workers),
        "-j",
        str(max(1, min(workers, cores))),
    ]
    if scale:
        cmd += ["-s", str(scale)]
    if q.get("retries"):
        cmd += ["--max-tries", str(q["retries"] + 1)]
    for path, weight in q["pgbench"]:
        cmd += ["-f", f"{os.path.join(folder, path)}@{weight}"]
    return cmd


def run_level(q, parts, dsn, workers, cores, folder, scale):
    """One concurrency level on pgbench: the same result shape as the asyncpg engine's level."""
    env = {**os.environ, **dsn_env(dsn)}
    base = command(q, workers, cores, folder, scale)
    if q["warmup"]:
        warm = [*base, "-t", str(max(1, math.ceil(q["warmup"] / workers)))]
        subprocess.run(warm, env=env, capture_output=True, text=True, check=False)
    if q["duration"] is not None:
        length = ["-T", str(max(1, round(q["duration"])))]
    else:
        per_client = q["per_worker"] or math.ceil(q["iterations"] / workers)
        length = ["-t", str(per_client)]
    rate = ["--rate", f"{q['rate']:g}"] if q.get("rate") else []
    with tempfile.TemporaryDirectory(prefix="perfspec-pgbench-") as logs:
        prefix = os.path.join(logs, "log")
        cmd = [*base, *length, *rate, "--failures-detailed", "-l", f"--log-prefix={prefix}"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        level = read_logs(glob.glob(prefix + ".*"), parts, bool(q.get("retries")))
    aborted = [line for line in proc.stderr.splitlines() if " aborted in command " in line]
    for line in aborted:  # pgbench stops a client at an error it does not retry
        cause = line.split(": ", 1)[-1].strip() or line
        level["errors"][cause] = level["errors"].get(cause, 0) + 1
        level["failures"] += 1
    if proc.returncode not in (0, 2) or (proc.returncode and not level["count"] and not aborted):
        first = next((line for line in proc.stderr.splitlines() if line.strip()), f"exit {proc.returncode}")
        level["fatal"] = f"pgbench: {first.strip()}"
        level["errors"][level["fatal"]] = 1
    level["processes"] = max(1, min(workers, cores))
    level["engine"] = "pgbench"
    return level


def read_logs(paths, parts, retries):
    """pgbench's per-transaction log lines: client_id transaction_no time script_no time_epoch
    time_us [schedule_lag] [retries]; `time` is microseconds, or the failure's kind."""
    whole = Histogram()
    per_part = [{"count": 0, "failures": 0, "errors": {}, "hist": Histogram()} for _ in parts]
    first, last, count, failures, retried = math.inf, -math.inf, 0, 0, 0
    errors = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) < 6:
                    continue
                part = per_part[int(fields[3])] if int(fields[3]) < len(per_part) else per_part[0]
                ended = int(fields[4]) + int(fields[5]) / 1e6
                count += 1
                part["count"] += 1
                if retries:
                    retried += int(fields[-1])
                if fields[2].isdigit():
                    ns = int(fields[2]) * 1000
                    whole.add(ns)
                    part["hist"].add(ns)
                    first, last = min(first, ended - ns / 1e9), max(last, ended)
                    continue
                failures += 1
                part["failures"] += 1
                cause = {"serialization": "40001: serialization failure", "deadlock": "40P01: deadlock"}.get(
                    fields[2], f"{fields[2]} transaction"
                )
                errors[cause] = errors.get(cause, 0) + 1
                part["errors"][cause] = part["errors"].get(cause, 0) + 1
                first, last = min(first, ended), max(last, ended)
    elapsed = last - first if count and last > first else 0.0
    out = {
        "count": count,
        "failures": failures,
        "errors": errors,
        "histogram": whole.to_list(),
        "elapsed": round(elapsed, 6),
        "throughput": round(count / elapsed, 3) if elapsed > 0 else 0.0,
    }
    if retried:
        out["retried"] = {"40001 or 40P01": retried}
    if len(parts) > 1:
        out["parts"] = {
            name: {
                "count": p["count"],
                "failures": p["failures"],
                "errors": p["errors"],
                "histogram": p["hist"].to_list(),
                "elapsed": out["elapsed"],
                "throughput": round(p["count"] / elapsed, 3) if elapsed > 0 else 0.0,
            }
            for name, p in zip(parts, per_part, strict=True)
        }
    return out
