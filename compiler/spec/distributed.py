"""`distributed`: the spec's load on a Kubernetes cluster (k6-operator TestRun; Locust master and
workers), compiled by the kubernetes backend."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .types import BASE_URL_PATTERN, IMAGE_PATTERN, K8S_NAME_PATTERN, QUANTITY_PATTERN, Name, Strict

K8S_NAME = Annotated[
    str,
    Field(
        pattern=K8S_NAME_PATTERN,
        description=("a Kubernetes name: lower-case letters, digits and -, at most 63"),
        examples=["perf"],
    ),
]
IMAGE = Annotated[
    str,
    Field(
        pattern=IMAGE_PATTERN,
        description=("a container image, pinned: a tag or a digest"),
        examples=["grafana/k6:1.1.0"],
    ),
]
QUANTITY = Annotated[
    str,
    Field(
        pattern=QUANTITY_PATTERN,
        description=("a Kubernetes quantity, e.g. 500m or 2 (CPU), 512Mi or 2Gi (memory)"),
        examples=["1", "512Mi"],
    ),
]
URL = Annotated[
    str,
    Field(
        pattern=BASE_URL_PATTERN,
        description=("a Prometheus base URL as the cluster reaches it"),
        examples=["http://prometheus.monitoring:9090"],
    ),
]


class Resources(Strict):
    """Requests and limits of one runner (both set to these values: a load generator that is
    throttled measures itself)."""

    cpu: QUANTITY | None = None
    memory: QUANTITY | None = None


class K6Cluster(Strict):
    """A k6-operator TestRun: `parallelism` runners, each an execution segment of the profile."""

    parallelism: Annotated[int, Field(gt=0, le=1000, description="k6 runners (execution segments)")] = 2
    image: IMAGE = "grafana/k6:1.1.0"
    resources: Resources | None = None
    prometheus: URL = Field(
        description=(
            "where the runners remote-write their results (native histograms enabled); "
            "`perfspec collect` reads them back for `perfspec check`"
        )
    )


class LocustCluster(Strict):
    """A Locust master (a Job: a finished headless master must not restart) with a Service, and
    `workers` worker pods (a Job of that parallelism)."""

    workers: Annotated[int, Field(gt=0, le=1000, description="Locust worker pods")] = 2
    image: IMAGE = "locustio/locust:2.47.0"
    resources: Resources | None = None
    results_claim: K8S_NAME = Field(
        "perfspec-results",
        description=("a ReadWriteMany PersistentVolumeClaim the workers write their result files to"),
    )


class Distributed(Strict):
    """The spec's load on a Kubernetes cluster: `perfspec build` writes kubernetes/*.yaml and a
    kustomization.yaml beside the scripts (`kubectl apply -k generated/SPEC`)."""

    profile: Name = Field(description="the profile the cluster runs")
    namespace: K8S_NAME | None = None
    secret: K8S_NAME = Field(
        "perfspec-env",
        description=(
            "a Secret holding the environment variables the spec names (hosts, tokens): every runner "
            "reads each of them from it, nothing is written into the manifests"
        ),
    )
    k6: K6Cluster | None = None
    locust: LocustCluster | None = None
