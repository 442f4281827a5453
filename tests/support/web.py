"""The web app from outside: an API client whose every answer is validated against the
OpenAPI document (``Api``), and a live ``sakuin serve`` on a free port (``running_server``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from sakuin.web.openapi import openapi_spec
from support.paths import ROOT
from support.processes import free_port

SPEC_URI = "urn:sakuin:openapi"
SPEC = openapi_spec()
REGISTRY = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))


def schema_for(template: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON schema the spec gives for one response, as a $ref into the spec."""
    operation = SPEC["paths"].get(template, {}).get(method)
    if operation is None:
        return None
    responses = operation["responses"]
    key = str(status) if str(status) in responses else "default"
    if key not in responses:
        return None
    response = responses[key]
    pointer = f"/paths/{template.replace('~', '~0').replace('/', '~1')}/{method}/responses/{key}"
    if "$ref" in response:
        pointer = response["$ref"].lstrip("#")
        response = SPEC["components"]["responses"][pointer.rsplit("/", 1)[1]]
    assert "application/json" in response["content"], pointer
    return {"$ref": f"{SPEC_URI}#{pointer}/content/application~1json/schema"}


def validate(template: str, method: str, response: TestResponse) -> Any:
    """Assert the response is JSON, documented, and valid against its documented schema."""
    assert response.mimetype == "application/json", (template, response.status)
    schema = schema_for(template, method, response.status_code)
    assert schema is not None, f"{method.upper()} {template} -> {response.status_code} is not in the OpenAPI document"
    body = response.get_json()
    Draft202012Validator(schema, registry=REGISTRY).validate(body)
    return body


class Api:
    """A test client whose every call is validated against the OpenAPI document."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, template: str, url: str | None = None, **kwargs: Any) -> tuple[TestResponse, Any]:
        response = self.client.get(url or template, **kwargs)
        return response, validate(template, "get", response)

    def call(self, template: str, method: str, url: str, **kwargs: Any) -> tuple[TestResponse, Any]:
        response = self.client.open(url, method=method.upper(), **kwargs)
        # Errors for undocumented methods are the GET operation's documented error responses.
        schema_method = method.lower() if method.lower() in SPEC["paths"][template] else "get"
        return response, validate(template, schema_method, response)


# -- a live server ------------------------------------------------------------------------


def serve_command(index: Path, port: int) -> list[str]:
    """``sakuin serve``; ``python -m sakuin.web.server`` (same function) until the CLI command exists."""
    from sakuin.search.cli.main import main

    args = ["--index-dir", str(index), "--host", "127.0.0.1", "--port", str(port)]
    if "serve" in main.commands:
        script = Path(sys.executable).parent / "sakuin"  # the console script of this venv
        if script.exists():
            return [str(script), "serve", *args]
        return [sys.executable, "-m", "sakuin", "serve", *args]
    return [sys.executable, "-m", "sakuin.web.server", *args]


def wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def running_server(index: Path) -> Iterator[str]:
    """``sakuin serve`` over ``index`` on a free port until the block ends; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        serve_command(index, port),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(base + "/healthz", proc)["status"] == "ok"
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
