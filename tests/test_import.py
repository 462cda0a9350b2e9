"""`perfspec import`: an OpenAPI 3 document (petstore-shaped) and a HAR recording each become a
spec that validates, builds and whose smoke profile runs against a local server implementing
those endpoints; recorded credentials never reach the spec; spec text stays literal."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from .conftest import IN_CI, ROOT, require_tool
from .servers.json_api import json_server

pytestmark = pytest.mark.tools

DATA = ROOT / "tests/data"


def perfspec(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfspec.compiler.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def pet_server():
    """/v1/pets (list, create), /v1/pets/{id} (show, delete), /v1/store/inventory; Bearer t0ken."""
    pets: dict[int, dict] = {1: {"id": 1, "name": "first"}}
    ids, lock = itertools.count(100), threading.Lock()

    def answer(method: str, path: str, body: bytes, headers: dict) -> tuple[int, object, dict]:
        if headers.get("Authorization") != "Bearer t0ken":
            return 401, {"error": "no token"}, {}
        route = path.split("?")[0]
        with lock:
            if route == "/v1/pets" and method == "GET":
                return 200, list(pets.values())[:10], {}
            if route == "/v1/pets" and method == "POST":
                pet = {"id": next(ids), **json.loads(body)}
                pets[pet["id"]] = pet
                return 201, pet, {}
            if route.startswith("/v1/pets/"):
                pet_id = int(route.rsplit("/", 1)[1])
                if pet_id not in pets:
                    return 404, {"error": "no such pet"}, {}
                if method == "DELETE":
                    del pets[pet_id]
                    return 204, None, {}
                return 200, pets[pet_id], {}
            if route == "/v1/store/inventory":
                return 200, {"available": len(pets)}, {}
        return 404, {"error": "no route"}, {}

    return json_server(answer, with_headers=True), pets


def test_openapi_import_wires_ids_and_runs_against_the_api(tmp_path: Path) -> None:
    require_tool("locust")
    require_tool("k6")
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "perfspec.schema.json").write_text("{}")  # as `perfspec init` leaves it
    proc = perfspec("import", str(DATA / "petstore.yaml"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    spec = tmp_path / "specs/swagger_petstore.yaml"
    assert f"wrote {spec.relative_to(tmp_path)}: 5 endpoints" in proc.stdout
    assert "API_URL=https://... perfspec run specs/swagger_petstore.yaml" in proc.stdout
    text = spec.read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/perfspec.schema.json\n")
    data = yaml.safe_load(text)
    eps, flow = data["http"]["endpoints"], data["http"]["flows"]["user"]
    assert eps["createPet"]["extract"] == {"petId": "$.id"} and flow["on_start"] == ["createPet"]
    assert eps["showPetById"]["get"] == "/pets/{petId}" and flow["on_stop"] == ["deletePet"]
    assert eps["createPet"]["json"] == {"name": "doggie {{the first}}"}  # the example, its braces literal
    assert eps["deletePet"]["expect"] == {"status": [204]} and eps["getInventory"]["class"] == "store"
    assert flow["headers"] == {"Authorization": "Bearer ${API_TOKEN:-}"}
    # the same file again: kept unless --force
    again = perfspec("import", str(DATA / "petstore.yaml"), cwd=tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr
    server, pets = pet_server()
    with server as url:
        run = perfspec(
            "run",
            str(spec),
            "--out",
            str(tmp_path / "results"),
            "--only",
            "locust,k6",
            "--duration",
            "3s",
            cwd=tmp_path,
            env={"API_URL": url + "/v1", "API_TOKEN": "t0ken"},
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    [folder] = (tmp_path / "results").iterdir()
    verdicts = {v["target"]: v for v in json.loads((folder / "verdicts.json").read_text())}
    assert {v["status"] for v in verdicts.values()} == {"pass"} and verdicts["pets"]["samples"] > 20
    # Locust (first) ran each user's on_stop: its two users' pets are gone; k6 has no per-user
    # teardown (validate says so at the on_stop line), so its two users' pets stay
    assert sorted(pets) == [1, 102, 103], sorted(pets)


def test_har_import_keeps_secrets_out_and_runs(tmp_path: Path) -> None:
    require_tool("k6")
    proc = perfspec(
        "import", str(DATA / "recording.har"), "--out", "specs/shop.yaml", "--name", "shop", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "specs/shop.yaml").read_text()
    assert "SECRET" not in text  # neither the bearer token nor the cookie
    data = yaml.safe_load(text)
    eps = data["http"]["endpoints"]
    assert eps["post_v1_pets"]["json"] == {"name": "rex $${HOME} {{x}}"}  # recorded text stays literal
    assert eps["get_v1_pets"]["query"] == {"limit": "10"}
    assert data["http"]["flows"]["user"]["tasks"] == {"get_v1_pets": 1, "post_v1_pets": 1, "get_v1_pets_1": 2}
    build = perfspec("build", "specs/shop.yaml", "--out", "gen", cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    assert "rex ${HOME} {x}" in (tmp_path / "gen/shop/k6.js").read_text()  # as recorded, as data
    server, _pets = pet_server()
    with server as url:
        run = perfspec(
            "run",
            "specs/shop.yaml",
            "--out",
            "results",
            "--only",
            "k6",
            "--duration",
            "3s",
            cwd=tmp_path,
            env={"API_URL": url, "API_TOKEN": "t0ken"},
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_import_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "swagger2.json").write_text(json.dumps({"swagger": "2.0", "paths": {}}))
    (tmp_path / "broken.yaml").write_text("openapi: [")
    for name, message in [
        ("swagger2.json", "the document has no paths"),  # Swagger 2.0 is read; this one is empty
        ("broken.yaml", "not JSON or YAML"),
        ("missing.yaml", "cannot read the file"),
    ]:
        proc = perfspec("import", name, cwd=tmp_path)
        assert proc.returncode == 2 and f"{name}: error: {message}" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


PETSTORE = ROOT / ".ci/npm/node_modules/@readme/oas-examples/3.0/json/petstore.json"


def test_the_public_swagger_petstore_imports_validates_and_runs(tmp_path: Path) -> None:
    """The real Swagger petstore document (npm @readme/oas-examples, installed by .ci/setup.sh):
    its import validates and builds, and its smoke profile passes against a local server that
    answers its read operations."""
    require_tool("k6")
    if not PETSTORE.is_file():
        message = f"{PETSTORE} is missing: .ci/setup.sh installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    proc = perfspec("import", str(PETSTORE), "--out", "specs/petstore.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load((tmp_path / "specs/petstore.yaml").read_text())
    eps = data["http"]["endpoints"]
    assert {"findPetsByStatus", "getPetById", "getInventory", "loginUser", "addPet"} <= set(eps)
    assert eps["findPetsByStatus"]["query"] == {"status": "available"}  # an array's first value
    assert data["http"]["flows"]["user"]["headers"] == {"api_key": "${API_KEY:-}"}
    build = perfspec("build", "specs/petstore.yaml", "--out", "gen", cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    seen: list[str] = []

    def answer(method: str, path: str, _body: bytes) -> tuple[int, object, dict]:
        seen.append(f"{method} {path.split('?')[0]}")
        order = (method, path) in (("POST", "/v2/store/order"), ("DELETE", "/v2/store/order/7"))
        if method == "GET" or order:
            return 200, {"id": 7, "status": "available"}, {}  # an order placed: its id 7
        return 405, {"message": "not implemented here"}, {}

    with json_server(answer) as url:
        run = perfspec(
            "run",
            "specs/petstore.yaml",
            "--out",
            "results",
            "--only",
            "k6",
            "--duration",
            "3s",
            cwd=tmp_path,
            env={"API_URL": url + "/v2"},
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert {"GET /v2/pet/findByStatus", "GET /v2/store/inventory", "GET /v2/user/login"} <= set(seen)
    # the reads, and the order each user places first (its id read back) for getOrderById
    assert "GET /v2/store/order/7" in seen and "POST /v2/store/order" in seen
    assert {s.split()[0] for s in seen} == {"GET", "POST"}  # (k6 runs no on_stop: no DELETE)


def test_a_swagger_2_document_imports_and_runs_against_a_local_server(tmp_path: Path) -> None:
    """Swagger 2.0 (host, basePath, a body parameter, a form, an api-key header, definitions):
    the spec validates, wires the created item's id, and its smoke profile passes on a server
    that answers as the document says."""
    require_tool("k6")
    proc = perfspec("import", str(DATA / "swagger2.yaml"), "--out", "specs/inventory.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "from the Swagger 2.0 file" in proc.stdout
    text = (tmp_path / "specs/inventory.yaml").read_text()
    assert "the document's server: https://inventory.example.test/api" in text
    data = yaml.safe_load(text)
    eps, flow = data["http"]["endpoints"], data["http"]["flows"]["user"]
    assert eps["listItems"]["query"] == {"limit": 10}
    assert eps["createItem"]["json"] == {"name": "bolt"} and eps["createItem"]["expect"] == {"status": [201]}
    assert eps["createItem"]["extract"] == {"itemId": "$.id"} and flow["on_start"] == ["createItem"]
    assert eps["getItem"]["get"] == "/items/{itemId}"
    assert eps["login"]["form"] == {"user": "ann", "remember": "true"}
    assert flow["headers"] == {"X-Api-Key": "${API_KEY:-}"}
    seen: list[str] = []

    def answer(method: str, path: str, body: bytes, headers: dict) -> tuple[int, object, dict]:
        seen.append(f"{method} {path.split('?')[0]}")
        if headers.get("X-Api-Key") != "k3y":
            return 401, {"error": "no key"}, {}
        if (method, path) == ("POST", "/api/items"):
            return 201, {"id": 7, **json.loads(body)}, {}
        if (method, path) in (("GET", "/api/items?limit=10"), ("GET", "/api/items/7")):
            return 200, {"id": 7, "name": "bolt"}, {}
        if (method, path) == ("POST", "/api/login") and body == b"user=ann&remember=true":
            return 200, {}, {}
        return 404, {"error": f"no route {method} {path} {body!r}"}, {}

    with json_server(answer, with_headers=True) as url:
        run = perfspec(
            "run",
            "specs/inventory.yaml",
            "--out",
            "results",
            "--only",
            "k6",
            "--duration",
            "3s",
            cwd=tmp_path,
            env={"API_URL": url + "/api", "API_KEY": "k3y"},
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert {"POST /api/items", "GET /api/items", "GET /api/items/7"} <= set(seen)  # GETs are the tasks


GITHUB = ROOT / ".ci/npm/node_modules/@octokit/openapi/generated/api.github.com.json"


def test_githubs_own_description_imports_every_operation(tmp_path: Path) -> None:
    """GitHub's REST description (npm @octokit/openapi, installed by .ci/setup.sh; 1,223
    operations): every operation becomes an endpoint and the spec validates (its time:
    bench/import_github.py)."""
    if not GITHUB.is_file():
        message = f"{GITHUB} is missing: .ci/setup.sh installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    doc = json.loads(GITHUB.read_text())
    methods = ("get", "post", "put", "patch", "delete", "head", "options")
    operations = sum(1 for item in doc["paths"].values() for m in methods if m in item)
    proc = perfspec("import", str(GITHUB), "--out", "specs/github.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"wrote specs/github.yaml: {operations} endpoints" in proc.stdout
    assert operations > 1000
    check = perfspec("validate", "specs/github.yaml", cwd=tmp_path)
    assert check.returncode == 0, check.stderr[-3000:]
