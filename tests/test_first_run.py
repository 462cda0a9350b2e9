"""What a newcomer meets one step after the quickstart: an imported spec, its host's variable
unset, never runs on perfspec's own demo target (every call would answer 404)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfspec.runtime.demo.app import serves

from .inprocess import perfspec

IMPORTED = """\
version: 1
name: pets
hosts:
  api: {url: "${PETS_URL}"}
http:
  defaults: {host: api}
  endpoints:
    list_pets: {get: /pets}
    get_pet: {get: "/pets/{seq}"}
profiles:
  smoke: {users: 1, for: 2s}
targets:
  - {select: {endpoint: list_pets}, p95: < 100ms}
"""


def test_the_demo_serves_what_its_routes_say() -> None:
    assert serves("GET", "/api/v1/agents/{agent_id}") and serves("POST", "/api/v1/agents/{id}/run")
    assert serves("WS", "/ws/echo?room={user.first}")  # a WebSocket is a GET; the query is not a path
    assert not serves("GET", "/pets") and not serves("PUT", "/api/v1/agents")


def test_a_spec_the_demo_does_not_serve_is_not_run_on_it(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pets.yaml").write_text(IMPORTED)
    monkeypatch.delenv("PETS_URL", raising=False)
    result = perfspec("run", "pets.yaml", "--out", "runs", cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert "suites locust, k6," not in result.stdout and "suites locust, k6" in result.stdout  # no sql
    assert (
        "host 'api' (pets.yaml:4) has no URL: PETS_URL is unset, and the embedded demo target does not "
        "serve list_pets (GET /pets), get_pet (GET /pets/{seq}): a run on it would answer 404. Set "
        "PETS_URL to the service's URL" in result.stderr
    )
    assert "pgserver" not in result.stderr  # the hint of a PostgreSQL that could not start is not this one


def test_check_writes_its_reports_beside_the_results_not_in_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "startup.json").write_text('{"seconds": 12}')
    (tmp_path / "s.yaml").write_text(
        "version: 1\nname: s\ntargets:\n"
        "  - {metric: startup, value: < 60s, source: {json: startup.json, path: $.seconds}}\n"
    )
    (tmp_path / "runs" / "r1" / "results").mkdir(parents=True)
    result = perfspec("check", "s.yaml", "runs/r1/results", cwd=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    assert (tmp_path / "runs" / "r1" / "report" / "verdicts.json").is_file()
    assert not (tmp_path / "report").exists()


def test_a_missing_spec_in_a_new_folder_points_at_perfspec_init(tmp_path: Path) -> None:
    result = perfspec("run", cwd=tmp_path)
    assert result.code == 2
    assert "error: no such file: specs/quickstart.yaml" in result.stderr
    assert "hint: start a project here with `perfspec init`" in result.stderr


def test_explain_prints_a_folded_description_as_lines(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "d.yaml").write_text(
        "version: 1\nname: d\ndescription: >\n  one\n  line.\n\n  Second.\n"
        "targets:\n  - {metric: m, value: < 1s, source: {json: m.json, path: $.s}}\n"
    )
    result = perfspec("explain", "d.yaml", cwd=tmp_path)
    assert "one line.\nSecond.\n" in result.stdout and "\\n" not in result.stdout


def test_an_imported_spec_points_its_modeline_only_at_a_schema_that_exists(tmp_path: Path) -> None:
    from .conftest import ROOT

    (tmp_path / "pyproject.toml").write_text("")
    result = perfspec(
        "import", str(ROOT / "tests" / "data" / "petstore.yaml"), "--out", "perf/pets.yaml", cwd=tmp_path
    )
    assert result.code == 0, result.stderr
    assert "yaml-language-server" not in (tmp_path / "perf" / "pets.yaml").read_text()
    assert "editor completion: perfspec schema > schemas/perfspec.schema.json" in result.stdout
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "perfspec.schema.json").write_text("{}")
    result = perfspec(
        "import",
        str(ROOT / "tests" / "data" / "petstore.yaml"),
        "--out",
        "perf/pets.yaml",
        "--force",
        cwd=tmp_path,
    )
    assert (
        (tmp_path / "perf" / "pets.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=../schemas/perfspec.schema.json\n")
    )


def test_the_verdict_table_fits_100_columns_and_says_a_shared_note_once() -> None:
    import io

    from perfspec.runtime.reports import terminal
    from perfspec.runtime.verdict import StatVerdict, Verdict

    co = "closed model: a stalled server delays requests, never shows in latency (coordinated omission)"
    verdicts = []
    for name in ("health", "api", "crud"):
        v = Verdict(name, "pass", 12, "specs/quickstart.yaml", 4000)
        v.stats = [StatVerdict("p95 (k6)", "< 100ms", "fail", 0.0123, "s", True, 12)]
        v.reasons = [co, "judged per tool (locust, k6), never blended (`merge_tools: true` merges)"]
        verdicts.append(v)
    verdicts[1].reasons.append("alert QuickstartApiP95Latency fired at +00:12 of the run")
    stream = io.StringIO()
    terminal(verdicts, stream, width=100)
    text = stream.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 100
    words = " ".join(text.split())  # lines wrap at word boundaries
    assert words.count("coordinated omission") == 1 and "note 1: closed model" in words
    assert text.count("note 1, 2 below") == 3
    assert "QuickstartApiP95Latency" in text  # a reason of one target stays in its row
    assert "\\n" not in text and "specs/quickstart.yaml:12" in text


def test_an_import_never_copies_a_credential(tmp_path: Path) -> None:
    """A HAR recording's query key, JSON and form passwords, URL userinfo and Authorization:
    each becomes an environment variable the header names, never the recorded value."""
    from .conftest import ROOT

    (tmp_path / "pyproject.toml").write_text("")
    har = ROOT / "tests" / "data" / "credentials.har"
    result = perfspec("import", str(har), "--out", "specs/rec.yaml", cwd=tmp_path)
    assert result.code == 0, result.stderr
    text = (tmp_path / "specs" / "rec.yaml").read_text()
    for secret in ("hunter2", "AK123", "tok-SECRET", "sess-SECRET", "cs-SECRET", "abc123", "bob:"):
        assert secret not in text and secret not in result.stdout + result.stderr, secret
    assert "query: {api_key: '${API_KEY:-}', page: '2'}" in text
    assert "password: '${PASSWORD:-}'" in text and "client_secret: '${CLIENT_SECRET:-}'" in text
    assert "pwd: '${API_PWD:-}'" in text  # never the shell's own PWD
    assert "#   post_login.json.password: its value is not copied; set PASSWORD" in text
    assert "the recording's URL credentials (user:password@) are left out" in text


def test_a_har_of_two_origins_and_indicator_text_imports_as_recorded(tmp_path: Path) -> None:
    """One host per origin (the commonest is every endpoint's default), and example text that
    starts like YAML syntax (`: `, `? `, `- `, `#`) or keys with spaces read back as recorded."""
    import json

    import yaml

    entry = lambda method, url, body=None: {  # noqa: E731
        "request": {
            "method": method,
            "url": url,
            "headers": [],
            **({"postData": {"mimeType": "application/json", "text": json.dumps(body)}} if body else {}),
        },
        "response": {"status": 200},
    }
    body = {"note": ": colon", "q": "? question", "list": ["- dash", "# hash"], "a key: with colon": "x, y"}
    har = {
        "log": {
            "entries": [
                entry("GET", "https://api.example.test/items"),
                entry("GET", "https://api.example.test/items/2"),
                entry("POST", "https://auth.example.test/token", body),
            ]
        }
    }
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "two.har").write_text(json.dumps(har))
    result = perfspec("import", "two.har", "--out", "specs/two.yaml", cwd=tmp_path)
    assert result.code == 0, result.stderr
    data = yaml.safe_load((tmp_path / "specs" / "two.yaml").read_text())
    assert data["hosts"] == {"api": {"url": "${API_URL}"}, "api2": {"url": "${API2_URL}"}}
    assert data["http"]["defaults"] == {"host": "api"}
    assert data["http"]["endpoints"]["post_token"]["host"] == "api2"
    assert data["http"]["endpoints"]["post_token"]["json"] == body
    assert "API2_URL=https://... API_URL=https://... perfspec run specs/two.yaml" in result.stdout


def test_form_and_multipart_bodies_are_imported_and_what_cannot_be_sent_is_named(tmp_path: Path) -> None:
    import json

    import yaml

    def op(kind: str, schema: dict) -> dict:
        return {"requestBody": {"content": {kind: {"schema": schema}}}, "responses": {"200": {}}}

    props = {"name": {"type": "string", "example": "rex"}, "age": {"type": "integer", "example": 3}}
    form = {"type": "object", "properties": {**props, "remember": {"type": "boolean", "example": True}}}
    multipart = {"type": "object", "properties": {**props, "photo": {"type": "string", "format": "binary"}}}
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "forms", "version": "1"},
        "paths": {
            "/login": {"post": {"operationId": "login", **op("application/x-www-form-urlencoded", form)}},
            "/upload": {"post": {"operationId": "upload", **op("multipart/form-data", multipart)}},
            "/image": {"put": {"operationId": "image", **op("image/png", {"type": "string"})}},
        },
    }
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "forms.json").write_text(json.dumps(doc))
    result = perfspec("import", "forms.json", "--out", "specs/forms.yaml", cwd=tmp_path)
    assert result.code == 0, result.stderr
    text = (tmp_path / "specs" / "forms.yaml").read_text()
    eps = yaml.safe_load(text)["http"]["endpoints"]
    assert eps["login"]["form"] == {"name": "rex", "age": "3", "remember": "true"}
    assert eps["upload"]["multipart"] == {"name": "rex", "age": "3"}
    assert "#   upload: multipart file field(s) photo left out: add {file: PATH}" in text
    assert "#   image: request body left out: no JSON, form or text media type (image/png)" in text


def test_an_example_body_keeps_enums_inside_allof_and_has_no_nulls() -> None:
    from perfspec.compiler.importers.openapi import example

    doc = {
        "components": {
            "schemas": {
                "Color": {"type": "string", "enum": ["red", "green"]},
                "Deep": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Deep"}}},
            }
        }
    }
    assert example(doc, {"allOf": [{"$ref": "#/components/schemas/Color"}]}) == "red"
    body = example(doc, {"$ref": "#/components/schemas/Deep"})
    assert "None" not in repr(body) and "null" not in repr(body)


def test_the_report_has_a_table_per_endpoint_and_the_run_as_a_table(tmp_path: Path) -> None:
    """Locust's first screen: per endpoint and tool, requests, failures, rps, avg/p50/p95/p99/max;
    the run's details as a table with dates, not a JSON dump of epoch seconds."""
    from perfspec.runtime import reports
    from perfspec.runtime.histogram import Histogram
    from perfspec.runtime.results import Series

    s = Series("k6", "http", "list_items", "k6.ndjson", "0", "smoke", count=4, failures=1, elapsed=2.0)
    s.histogram = Histogram({10_000_000: 3, 40_000_000: 1})
    manifest = {
        "run_id": "r1",
        "started": 1_800_000_000.0,
        "windows": {"k6": [1_800_000_001.0, 1_800_000_003.0]},
    }
    html = reports.html_report([], "perfspec: t", manifest, [s])
    assert "<h2>Requests per endpoint</h2>" in html
    row = "<tr><td>list_items</td><td>k6</td><td>smoke</td><td>4</td><td>1</td><td>2.0</td>"
    assert row + "<td>17.5</td><td>10.0</td><td>40.0</td><td>40.0</td><td>40.0</td></tr>" in html
    assert '<details class="endpoint">' in html  # the charts collapsed under the table
    assert "<tr><th>started</th><td>2027-01-15 08:00:00 UTC</td></tr>" in html
    assert "1800000000" not in html


def test_a_no_op_build_check_is_answered_from_what_the_last_check_saw(tmp_path: Path, monkeypatch) -> None:
    from perfspec.compiler import emit
    from perfspec.compiler.cli import check_cache, spec_commands

    from .conftest import ROOT

    assert check_cache.MANIFEST == emit.MANIFEST
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "s.yaml").write_text((ROOT / "tests" / "golden" / "retry" / "spec.yaml").read_text())
    assert perfspec("build", "s.yaml", "--out", "gen", cwd=tmp_path).code == 0
    first = perfspec("build", "s.yaml", "--out", "gen", "--check", cwd=tmp_path)
    assert first.code == 0 and "generated files up to date" in first.stdout
    real = spec_commands.load_all
    monkeypatch.setattr(spec_commands, "load_all", lambda paths: pytest.fail("the spec was loaded again"))
    again = perfspec("build", "s.yaml", "--out", "gen", "--check", cwd=tmp_path)
    assert again.code == 0 and again.stdout == first.stdout  # from the cache: nothing loaded
    monkeypatch.setattr(spec_commands, "load_all", real)
    locustfile = tmp_path / "gen" / "s" / "locustfile.py"
    locustfile.write_text(locustfile.read_text() + "# edited\n")  # a generated file changed: checked whole
    stale = perfspec("build", "s.yaml", "--out", "gen", "--check", cwd=tmp_path)
    assert stale.code == 1 and "stale: gen/s/locustfile.py" in stale.stderr


WARNED = """version: 1
name: case
hosts:
  api: {url: "http://127.0.0.1:8000"}
http:
  endpoints:
    ep: {get: /health, class: health}
profiles:
  smoke: {users: 5, for: 60s}
targets:
  - {select: {class: health},
     p99.9: < 120ms}
alerts:
  service: {buckets: [50ms, 100ms, 200ms]}
"""


def test_a_spec_judged_before_is_not_loaded_again(tmp_path: Path, monkeypatch) -> None:
    """The second `perfspec check` of a spec reads its targets from the user's cache and says
    what the first said, the spec's warning included; an edited spec is loaded again; a name a
    project spec took since refuses it at its line."""
    from perfspec.compiler.cli import judging

    from .test_check import locust_file

    (tmp_path / "pyproject.toml").write_text('[tool.perfspec]\nspecs = ["specs/*.yaml"]\n')
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "s.yaml").write_text(WARNED)
    (tmp_path / "results").mkdir()
    locust_file(tmp_path / "results", "smoke", [150_000] * 20)  # 150 ms: over the bound
    args = ("check", "specs/s.yaml", "results", "--report", "r")
    first = perfspec(*args, cwd=tmp_path)
    assert first.code == 1, first.stdout + first.stderr
    assert "p99.9 150.000ms (bound < 120ms: missed by 30.000ms)" in first.stdout
    assert "specs/s.yaml:12:13: warning: p99.9 < 120ms is not a bucket boundary" in first.stderr
    real = judging.load_all
    monkeypatch.setattr(judging, "load_all", lambda paths: pytest.fail("the spec was loaded again"))
    again = perfspec(*args, cwd=tmp_path)
    assert (again.code, again.stdout, again.stderr) == (first.code, first.stdout, first.stderr)
    monkeypatch.setattr(judging, "load_all", real)
    (tmp_path / "specs" / "s.yaml").write_text(WARNED.replace("< 120ms", "< 200ms"))
    edited = perfspec(*args, cwd=tmp_path)
    assert edited.code == 0 and "p99.9 150.000ms (bound < 200ms)" in edited.stdout, edited.stdout
    (tmp_path / "specs" / "other.yaml").write_text(WARNED)  # a spec of the project named `case` too
    refused = perfspec(*args, cwd=tmp_path)
    assert refused.code == 2
    assert "specs/s.yaml:2:7: error: spec name 'case' is also the name of" in refused.stderr


def test_init_and_schema_print_no_warning(tmp_path: Path) -> None:
    """A newcomer's first commands print what they did, not pydantic's UserWarning blocks."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = perfspec("schema", cwd=tmp_path)
        init = perfspec("init", cwd=tmp_path)
    assert schema.code == 0 and init.code == 0, init.stderr
    assert [str(w.message) for w in caught] == []
    assert "Warning" not in schema.stderr + init.stderr + init.stdout


def test_charts_read_as_people_read_charts() -> None:
    """Tick labels without scientific notation, an axis fitted to the data (a bound far above it
    named, not drawn), series never in a bound's colours, failures per second drawn, a histogram
    with axes, and no line chart for a series of one second (an on_start call)."""
    from perfspec.runtime import charts
    from perfspec.runtime.histogram import Histogram

    assert [charts._tick(v) for v in (1050, 25, 2.5, 0.25, 0)] == ["1,050", "25", "2.5", "0.25", "0"]
    timeline = [(t, 10, 1, Histogram({1_000_000: 10})) for t in range(30)]  # 1 ms, one failure a second
    svg = charts.charts(timeline, Histogram({1_000_000: 300}), bounds=[(200.0, "p95 < 200ms", "fail")])
    assert "e+" not in svg and "p95 &lt; 200ms: above" in svg
    assert "#b00020" not in svg.split("p95 &lt; 200ms: above")[1].split("polyline")[0]  # no bound line drawn
    assert "failed/s" in svg and svg.count("<polyline") == 4  # p50, p95; requests/s, failed/s
    assert "1 ms</text>" in svg and "calls per bin" in svg  # the histogram's axis labels
    colours = {c for c in ("#d62728", "#e69500", "#b00020") if f'stroke="{c}" stroke-width' in svg}
    assert colours == set()  # a series is never drawn in a bound's red or amber
    one_second = charts.charts(timeline[:1], Histogram({1_000_000: 10}))
    assert "<polyline" not in one_second and "calls per bin" in one_second


def test_the_readmes_hand_run_commands_keep_their_results_out_of_the_repository() -> None:
    from .conftest import ROOT

    text = (ROOT / "README.md").read_text()
    block = text[text.index("Run a generated test by hand") :].split("```")[1]
    assert "PERFSPEC_RESULTS_DIR=by-hand" in block and "--out json=by-hand/k6.ndjson" in block
    assert "by-hand/" in (ROOT / ".gitignore").read_text().split()


def test_the_user_cache_keeps_its_newest_entries_only(tmp_path: Path, monkeypatch) -> None:
    """Every spec version judged leaves an entry: the folder keeps the newest KEEP of them."""
    import os

    from perfspec.compiler.cli import check_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for i in range(check_cache.KEEP + 5):
        check_cache.remember_judged(f"k{i:03d}", "s.yaml", "s", "{}", [])
        entry = tmp_path / "perfspec" / "check" / f"k{i:03d}.json"
        os.utime(entry, ns=(i * 10**9, i * 10**9))  # written one second apart
    kept = sorted(p.stem for p in (tmp_path / "perfspec" / "check").glob("*.json"))
    assert kept == [f"k{i:03d}" for i in range(5, check_cache.KEEP + 5)]
    assert check_cache.judged(f"k{check_cache.KEEP + 4:03d}") is not None
    assert check_cache.judged("k000") is None
