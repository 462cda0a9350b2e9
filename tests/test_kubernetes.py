"""The Kubernetes manifests (`distributed`): valid against the Kubernetes schemas (PyPI
kubernetes-validate, strict) and the k6-operator TestRun's fields; deterministic (the committed
generated/ files are the golden copy); and runnable: the pods' commands, environment and file
layout, read from the manifests, run with the real tools against a local server, and their
results reach a passing `perfspec check`."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from perfspec.compiler.backends import all_backends
from perfspec.compiler.backends.kubernetes import SUPPORT
from perfspec.compiler.plan import build_plan
from perfspec.compiler.validate import check_file
from perfspec.runtime import k6_remote
from perfspec.runtime.prometheus import embedded
from perfspec.runtime.suites import k6_segment

from .conftest import ROOT, require_tool
from .servers.json_api import json_server
from .test_check import perfspec

K8S_VERSION = "1.30"
TESTRUN_SCHEMA = json.loads((ROOT / "tests/schemas/k6-operator-testrun.schema.json").read_text())
SPEC = """\
version: 1
name: cluster
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    ping: {get: /ping, headers: {Authorization: "Bearer ${API_TOKEN}"}}
profiles:
  smoke: {users: 4, for: 3s}
targets:
  - {name: ping, select: {endpoint: ping}, p95: < 2s, error_rate: < 1%}
distributed:
  profile: smoke
  k6: {parallelism: 2, prometheus: "http://prometheus.monitoring:9090", resources: {cpu: 500m}}
  locust: {workers: 2, results_claim: shared-results}
"""


def manifests(spec: Path) -> dict[str, list[dict]]:
    plan = build_plan(check_file(spec))
    return {a.path.name: list(yaml.safe_load_all(a.content)) for a in all_backends()["kubernetes"].emit(plan)}


def validate(doc: dict) -> None:
    if doc["kind"] == "TestRun":
        jsonschema.validate(doc, TESTRUN_SCHEMA)
        runner = doc["spec"]["runner"]  # core types: checked as the container they become
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "runner"},
            "spec": {
                "containers": [
                    {
                        "name": "k6",
                        "image": runner["image"],
                        "env": runner["env"],
                        "resources": runner.get("resources", {}),
                    }
                ]
            },
        }
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_shipped_manifests_validate_and_are_the_golden_copy() -> None:
    spec = ROOT / "specs/load_phases_analysis.yaml"
    built = manifests(spec)
    assert sorted(built) == ["k6-testrun.yaml", "locust.yaml"]
    for name, docs in built.items():
        committed = ROOT / "generated/load_phases_analysis/kubernetes" / name
        assert list(yaml.safe_load_all(committed.read_text())) == docs, f"{name}: rebuild (perfspec build)"
        for doc in docs:
            validate(doc)
    [run] = built["k6-testrun.yaml"]
    assert run["spec"]["parallelism"] == 4 and run["spec"]["runner"]["image"] == "grafana/k6:1.1.0"
    env = {e["name"]: e for e in run["spec"]["runner"]["env"]}
    # the host comes from the Secret, never written here
    assert env["PLATFORM_URL"] == {
        "name": "PLATFORM_URL",
        "valueFrom": {"secretKeyRef": {"name": "perfspec-env", "key": "PLATFORM_URL"}},
    }
    kinds = [(d["kind"], d["metadata"]["name"]) for d in built["locust.yaml"]]
    assert kinds == [
        ("Service", "load-phases-analysis-locust-master"),
        ("Job", "load-phases-analysis-locust-master"),
        ("Job", "load-phases-analysis-locust-workers"),
    ]
    assert built["locust.yaml"][2]["spec"]["parallelism"] == 4


def test_the_pods_mount_every_support_module_the_scripts_import() -> None:
    plan = build_plan(check_file(ROOT / "specs/load_phases_analysis.yaml"))
    for tool in ("locust", "k6"):
        shared = {a.path.name for a in all_backends()[tool].emit(plan) if a.shared}
        assert set(SUPPORT[tool]) == shared, tool


def test_a_broken_manifest_fails_the_schemas() -> None:
    """The checks can fail: a misspelt TestRun field, a Job without containers."""
    [run] = manifests(ROOT / "specs/load_phases_analysis.yaml")["k6-testrun.yaml"]
    run["spec"]["paralelism"] = run["spec"].pop("parallelism")
    with pytest.raises(jsonschema.ValidationError):
        validate(run)
    job = manifests(ROOT / "specs/load_phases_analysis.yaml")["locust.yaml"][1]
    job["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "5557"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(job)


@pytest.mark.tools
def test_validation_names_what_kubernetes_cannot_run(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    for wrong, expected in [
        (("profile: smoke\n  k6:", "profile: soak\n  k6:"), "bad.yaml:13:12: error: unknown profile 'soak'"),
        (
            ("shared-results", "Shared_Results"),
            "bad.yaml:15:39: error: 'Shared_Results' is not a Kubernetes name\n"
            "  hint: use lower-case letters, digits and - (at most 63), e.g. perf-results",
        ),
        (
            ("smoke: {users: 4, for: 3s}", "smoke: {rate: 10/s, max_users: 40, for: 3s}"),
            "bad.yaml:15:3: error: profile 'smoke' is an open model (rate), which only k6 runs",
        ),
    ]:
        spec.write_text(SPEC.replace(*wrong))
        proc = perfspec("validate", str(spec), cwd=tmp_path)
        assert proc.returncode == 2 and expected in proc.stderr, proc.stderr


def env_of(container: dict, secrets: dict[str, str]) -> dict[str, str]:
    out = {}
    for e in container["env"]:
        source = e.get("valueFrom", {})
        if "fieldRef" in source:  # the downward API: the pod's own name
            out[e["name"]] = f"pod-{len(out)}-{os.urandom(3).hex()}"
        else:
            out[e["name"]] = secrets[source["secretKeyRef"]["key"]] if source else e["value"]
    return out


@pytest.mark.tools
def test_the_pods_run_as_the_manifests_say(tmp_path: Path) -> None:
    """Each pod's command, environment and file layout from the manifests; a local server in place
    of the cluster's service; a local Prometheus in place of the cluster's."""
    k6, locust = require_tool("k6"), require_tool("locust")
    require_tool("prometheus")
    spec = tmp_path / "cluster.yaml"
    spec.write_text(SPEC)
    gen = tmp_path / "generated"
    subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", "build", str(spec), "--out", str(gen)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    built = {p.name: list(yaml.safe_load_all(p.read_text())) for p in (gen / "cluster/kubernetes").iterdir()}
    assert set(SUPPORT["locust"]) | set(SUPPORT["k6"]) <= {
        p.name for p in gen.iterdir()
    }  # what the pods mount
    seen: list[str] = []

    def answer(_method: str, path: str, _body: bytes, headers: dict) -> tuple[int, object, dict]:
        seen.append(headers.get("Authorization", ""))
        return 200, {"pong": True}, {}

    results = tmp_path / "results"
    results.mkdir()
    with json_server(answer, with_headers=True) as url, embedded(None, receiver=True) as prom:
        secrets = {"API_URL": url, "API_TOKEN": "s3cret"}
        # k6: the archive the header says to make, run by `parallelism` runners with the TestRun's env
        [run] = built["k6-testrun.yaml"]
        runner, n = run["spec"]["runner"], run["spec"]["parallelism"]
        subprocess.run(
            [
                k6,
                "archive",
                "-q",
                "-e",
                "PERFSPEC_PROFILE=smoke",
                "-O",
                str(tmp_path / "archive.tar"),
                str(gen / "cluster/k6.js"),
            ],
            check=True,
            capture_output=True,
        )
        env = env_of(runner, secrets)
        assert env["K6_PROMETHEUS_RW_SERVER_URL"] == "http://prometheus.monitoring:9090/api/v1/write"
        env["K6_PROMETHEUS_RW_SERVER_URL"] = prom + "/api/v1/write"  # the cluster's Prometheus, here
        started = time.time()
        procs = []
        for i in range(n):  # each pod its own name (the downward API) and working folder
            (tmp_path / f"pod{i}").mkdir()
            pod_env = {**os.environ, **env, "PERFSPEC_INSTANCE": env_of(runner, secrets)["PERFSPEC_INSTANCE"]}
            cmd = [
                k6,
                "run",
                "--quiet",
                *shlex.split(run["spec"]["arguments"]),
                *k6_segment(i, n),
                "--summary-export",
                str(tmp_path / f"pod{i}/counts.json"),
                str(tmp_path / "archive.tar"),
            ]
            procs.append(
                subprocess.Popen(
                    cmd,
                    env=pod_env,
                    cwd=tmp_path / f"pod{i}",
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        for p in procs:
            out, _ = p.communicate(timeout=120)
            assert p.returncode == 0, out[-2000:]
        k6_requests = len(seen)
        testid = run["spec"]["arguments"].split("testid=")[1]
        got = perfspec(
            "collect",
            "--prometheus",
            prom,
            "--testid",
            testid,
            "--since",
            str(int(started)),
            "--out",
            str(results),
            cwd=tmp_path,
        )
        assert got.returncode == 0, got.stdout + got.stderr
        # what k6 counted (each pod's end-of-test summary) = what was read back + what never arrived
        # (k6's remote-write output can skip a series in its last push: said, never hidden)
        missing = k6_remote.reconcile(
            results / k6_remote.RESULT, [tmp_path / f"pod{i}/counts.json" for i in range(n)]
        )
        collected = json.loads((results / k6_remote.RESULT).read_text())
        read = sum(s["count"] for s in collected["series"].values())
        assert read + missing == k6_requests and missing <= 0.02 * k6_requests, (read, missing, k6_requests)
        assert f"{read:,} requests of 1 endpoints" in got.stdout
        # Locust: the ConfigMap's items laid out under the mount path; master and worker args as written
        service, master, workers = built["locust.yaml"]
        pod = master["spec"]["template"]["spec"]
        mount = tmp_path / "mnt"
        for item in pod["volumes"][0]["configMap"]["items"]:
            source = gen / "cluster" / item["key"] if item["key"] == "locustfile.py" else gen / item["key"]
            (mount / item["path"]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, mount / item["path"])
        port = str(service["spec"]["ports"][0]["port"])

        def args(job: dict) -> list[str]:
            raw = job["spec"]["template"]["spec"]["containers"][0]["args"]
            return [
                a.replace("/perfspec/", f"{mount}/").replace(service["metadata"]["name"], "127.0.0.1")
                for a in raw
            ]

        env = env_of(pod["containers"][0], secrets) | {"PERFSPEC_RESULTS_DIR": str(results)}
        lead = subprocess.Popen(
            [locust, *args(master), "--master-bind-host", "127.0.0.1", "--master-bind-port", port],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        pods = [
            subprocess.Popen(
                [locust, *args(workers)],
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers["spec"]["parallelism"])
        ]
        out, _ = lead.communicate(timeout=120)
        assert lead.returncode == 0, out[-2000:]
        assert all(p.wait(timeout=60) == 0 for p in pods)
    assert set(seen) == {"Bearer s3cret"} and k6_requests > 20 and len(seen) > k6_requests + 20
    assert len(list(results.glob("locust-*.json"))) == 2  # one per worker pod
    check = perfspec("check", str(spec), str(results), "--report", str(tmp_path / "report"), cwd=tmp_path)
    assert check.returncode == 0, check.stdout[-3000:]
    [v] = json.loads((tmp_path / "report/verdicts.json").read_text())
    # every request the server answered from both tools' pods, but those k6 lost on the way and
    # those Locust cut off when the test stopped (at most one per user)
    assert 0 <= len(seen) - missing - v["samples"] <= 4, (len(seen), missing, v["samples"])
