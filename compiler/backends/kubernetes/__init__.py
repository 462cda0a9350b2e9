"""kubernetes/*.yaml: the spec's load on a cluster, from its `distributed` block.

- k6-testrun.yaml: a k6-operator TestRun. The operator mounts a ConfigMap's files flat under
  /test, so the script travels as a k6 archive (`k6 archive` bundles the support module the
  script imports from its parent folder); `parallelism` runners each run an execution segment
  and remote-write native histograms under one `testid` to the spec's Prometheus, read back by
  `perfspec collect` for `perfspec check`.
- locust.yaml: the master as a Job (a finished headless master must not restart, as it would in
  a Deployment, and run the test again) behind a Service, and the workers as a Job of
  `workers` pods. A ConfigMap volume lays the locustfile and its support modules out as
  `perfspec build` does; the workers write their result files to a ReadWriteMany claim.

Every environment variable the spec names (hosts, tokens) comes from the spec's Secret, key by
key: nothing secret is written here, and the ConfigMaps are made from the generated files by the
commands in each file's header (never pasted in).
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from ...plan import Plan
from ..base import Artifact, YamlDumper, header

SUPPORT = {  # the support modules each tool's generated file imports (tests hold them to the backends)
    "locust": (
        "perfspec_locust.py",
        "perfspec_locust_results.py",
        "perfspec_locust_checks.py",
        "perfspec_locust_shape.py",
        "perfspec_histogram.py",
    ),
    "k6": ("perfspec_k6.js",),
}
MASTER_PORT = 5557
PUSH = "1s"


def k8s_name(text: str) -> str:
    """A spec name as a Kubernetes name (lower case, [-a-z0-9], at most 63)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "perfspec"
    return name[:52].rstrip("-")  # room for the suffixes this backend adds


def env_names(value: Any, found: set[str] | None = None) -> set[str]:
    """Every `${NAME}` of the plan: template parts ("env", NAME, ...) wherever they are."""
    found = set() if found is None else found
    if isinstance(value, tuple) and len(value) >= 2 and value[0] == "env" and isinstance(value[1], str):
        found.add(value[1])
    elif isinstance(value, dict):
        for v in value.values():
            env_names(v, found)
    elif isinstance(value, list | tuple):
        for v in value:
            env_names(v, found)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            env_names(getattr(value, f.name), found)
    return found


def secret_env(plan: Plan) -> list[dict]:
    assert plan.distributed is not None
    secret = plan.distributed.secret
    names = sorted(env_names([plan.hosts, plan.endpoints, plan.flows]))
    return [{"name": n, "valueFrom": {"secretKeyRef": {"name": secret, "key": n}}} for n in names]


def resources(res) -> dict:
    if res is None:
        return {}
    amounts = {k: v for k, v in (("cpu", res.cpu), ("memory", res.memory)) if v is not None}
    return {"resources": {"requests": dict(amounts), "limits": dict(amounts)}} if amounts else {}


def metadata(plan: Plan, name: str, component: str) -> dict:
    assert plan.distributed is not None
    meta: dict[str, Any] = {"name": name}
    if plan.distributed.namespace:
        meta["namespace"] = plan.distributed.namespace
    meta["labels"] = {
        "app.kubernetes.io/name": "perfspec",
        "app.kubernetes.io/instance": k8s_name(plan.stem),
        "app.kubernetes.io/component": component,
    }
    return meta


def dump(docs: list[dict]) -> str:
    return "---\n".join(
        yaml.dump(d, Dumper=YamlDumper, sort_keys=False, allow_unicode=True, width=100) for d in docs
    )


def testrun(plan: Plan) -> str:
    d = plan.distributed
    assert d is not None and d.k6 is not None
    base = k8s_name(plan.stem)
    env = [
        {"name": "PERFSPEC_PROFILE", "value": d.profile},
        {"name": "K6_NO_USAGE_REPORT", "value": "true"},
        {"name": "K6_PROMETHEUS_RW_SERVER_URL", "value": d.k6.prometheus.rstrip("/") + "/api/v1/write"},
        {"name": "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "value": "true"},
        {"name": "K6_PROMETHEUS_RW_PUSH_INTERVAL", "value": PUSH},
        # each runner's samples apart: the pod's name tags them (the script reads it)
        {"name": "PERFSPEC_INSTANCE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        *secret_env(plan),
    ]
    doc = {
        "apiVersion": "k6.io/v1alpha1",
        "kind": "TestRun",
        "metadata": metadata(plan, f"{base}-k6", "k6"),
        "spec": {
            "parallelism": d.k6.parallelism,
            "script": {"configMap": {"name": f"{base}-k6", "file": "archive.tar"}},
            "arguments": f"--out experimental-prometheus-rw --tag testid={base}",
            "runner": {"image": d.k6.image, "env": env, **resources(d.k6.resources)},
        },
    }
    folder = f"generated/{plan.stem}"
    intro = [
        header(plan, "#"),
        f"# k6-operator TestRun of profile {d.profile}: {d.k6.parallelism} runners (execution segments).",
        "#   k6 archive -e PERFSPEC_PROFILE=" + d.profile + f" -O archive.tar {folder}/k6.js",
        f"#   kubectl create configmap {base}-k6 --from-file=archive.tar"
        + (f" -n {d.namespace}" if d.namespace else ""),
        f"#   kubectl apply -f {folder}/kubernetes/k6-testrun.yaml",
        f"# Results: perfspec collect --prometheus {d.k6.prometheus} --testid {base} --since START"
        " --out results/",
        "",
    ]
    return "\n".join(intro) + dump([doc])


def locust_job(
    plan: Plan, name: str, component: str, args: list[str], pods: int, ports: list | None = None
) -> dict:
    """One Locust Job (the master or the workers): the scripts ConfigMap and the results claim."""
    d = plan.distributed
    assert d is not None and d.locust is not None
    base = k8s_name(plan.stem)
    files = [(f"{plan.stem}/locustfile.py", "locustfile.py"), *((m, m) for m in SUPPORT["locust"])]
    volumes = [
        {
            "name": "scripts",
            "configMap": {
                "name": f"{base}-locust",
                "items": [{"key": key, "path": path} for path, key in files],
            },
        },
        {"name": "results", "persistentVolumeClaim": {"claimName": d.locust.results_claim}},
    ]
    container: dict[str, Any] = {
        "name": "locust",
        "image": d.locust.image,
        "args": args,
        "env": [
            {"name": "PERFSPEC_PROFILE", "value": d.profile},
            {"name": "PERFSPEC_RESULTS_DIR", "value": "/results"},
            *secret_env(plan),
        ],
        "volumeMounts": [
            {"name": "scripts", "mountPath": "/perfspec", "readOnly": True},
            {"name": "results", "mountPath": "/results"},
        ],
        **resources(d.locust.resources),
    }
    if ports:
        container["ports"] = ports
    labels = {
        "app.kubernetes.io/name": "perfspec",
        "app.kubernetes.io/instance": base,
        "app.kubernetes.io/component": component,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(plan, name, component),
        "spec": {
            "parallelism": pods,
            "completions": pods,
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": labels},
                "spec": {"restartPolicy": "Never", "containers": [container], "volumes": volumes},
            },
        },
    }


def locust(plan: Plan) -> str:
    """The Locust master (a Job) and its Service, the workers (a Job of N pods)."""
    d = plan.distributed
    assert d is not None and d.locust is not None
    base = k8s_name(plan.stem)
    master = f"{base}-locust-master"
    script = f"/perfspec/{plan.stem}/locustfile.py"
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(plan, master, "locust-master"),
        "spec": {
            "selector": {"app.kubernetes.io/instance": base, "app.kubernetes.io/component": "locust-master"},
            "ports": [{"name": "workers", "port": MASTER_PORT, "targetPort": MASTER_PORT}],
        },
    }
    master_args = ["-f", script, "--master", "--headless", "--only-summary"]
    worker_args = ["-f", script, "--worker", "--master-host", master, "--master-port", str(MASTER_PORT)]
    docs = [
        service,
        locust_job(
            plan,
            master,
            "locust-master",
            [*master_args, "--expect-workers", str(d.locust.workers)],
            1,
            [{"name": "workers", "containerPort": MASTER_PORT}],
        ),
        locust_job(plan, f"{base}-locust-workers", "locust-worker", worker_args, d.locust.workers),
    ]
    folder = f"generated/{plan.stem}"
    sources = " ".join(
        [f"--from-file={folder}/locustfile.py", *(f"--from-file=generated/{m}" for m in SUPPORT["locust"])]
    )
    intro = [
        header(plan, "#"),
        f"# Locust master (a Job) + Service and {d.locust.workers} workers, profile {d.profile}.",
        f"#   kubectl create configmap {base}-locust {sources}" + (f" -n {d.namespace}" * bool(d.namespace)),
        f"#   kubectl apply -f {folder}/kubernetes/locust.yaml",
        f"# Results: the workers' locust-*.json on claim {d.locust.results_claim} (ReadWriteMany), for "
        "perfspec check.",
        "",
    ]
    return "\n".join(intro) + dump(docs)


class KubernetesBackend:
    name = "kubernetes"

    def emit(self, plan: Plan) -> list[Artifact]:
        d = plan.distributed
        if d is None:
            return []
        source = plan.sources["distributed"]
        folder = plan.folder / PurePosixPath("kubernetes")
        out = []
        if d.k6 is not None:
            out.append(Artifact(folder / "k6-testrun.yaml", testrun(plan), source))
        if d.locust is not None:
            out.append(Artifact(folder / "locust.yaml", locust(plan), source))
        return out
