"""`multipart:` bodies through Locust and k6 against a server that parses them as real ones do:
text fields (templates), a binary file with its type and name, a field name that needs quoting."""

from __future__ import annotations

import threading
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import pytest

from perfspec.runtime.checker import read_results

from .servers.json_api import json_server, run_tool
from .test_real_servers import build

pytestmark = pytest.mark.tools

PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # binary, with CR LF and NUL bytes
SPEC = """\
version: 1
name: up
hosts:
  api: {url: "${API_URL}"}
http:
  endpoints:
    upload:
      post: /pictures
      multipart:
        title: "pic-{uuid}"
        'say "hi"': plain
        image: {file: data/cat.png, content_type: image/png, filename: kitty.png}
      expect: {status: [201]}
profiles:
  short: {users: 2, for: 2s}
targets:
  - {name: up, select: {endpoint: upload}, error_rate: < 1%}
"""


@pytest.mark.parametrize("tool", ["locust", "k6"])
def test_multipart_fields_and_files_reach_the_server_intact(tmp_path: Path, tool: str) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data/cat.png").write_bytes(PICTURE)
    spec = tmp_path / "up.yaml"
    spec.write_text(SPEC)
    folder = build(spec, tmp_path / "gen", only=(tool,))
    seen: list[dict] = []
    lock = threading.Lock()

    def answer(_method: str, _path: str, body: bytes, headers: dict) -> tuple[int, object, dict]:
        ctype = next(v for k, v in headers.items() if k.lower() == "content-type")
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        with lock:
            seen.append(parts)
        names = {"title", 'say "hi"', "image"}
        ok = message.get_content_type() == "multipart/form-data" and set(parts) == names
        return (201 if ok else 400), {}, {}

    with json_server(answer, with_headers=True) as url:
        proc = run_tool(tool, folder, url, tmp_path / "results", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(seen) > 10
    titles = set()
    for parts in seen:
        image = parts["image"]
        assert image.get_payload(decode=True) == PICTURE
        assert image.get_content_type() == "image/png" and image.get_filename() == "kitty.png"
        assert parts['say "hi"'].get_payload(decode=True) == b"plain"
        titles.add(parts["title"].get_payload(decode=True))
    assert len(titles) == len(seen) and all(t.startswith(b"pic-") for t in titles)  # {uuid} per call
    [series] = read_results([tmp_path / "results"])[0]
    # every upload recorded (Locust: but those in flight when it stops its users, one per user)
    assert 0 <= len(seen) - series.count <= (0 if tool == "k6" else 2) and series.failures == 0
