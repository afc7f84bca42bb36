"""The OpenAPI document is one a code generator can use, and it says what the server does: named
operations, a tag and a summary each, the API key declared, every error status documented with the one
envelope, a description on every field, one name per schema. (The fuzzer in tests/conformance checks the
server against it.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coinslot.app import create_app
from coinslot.config import Settings
from coinslot.db import Database

CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
PUBLIC = {("get", "/v1/plans")}
ENVELOPE = "#/components/schemas/ErrorEnvelope"


@pytest.fixture
def client(db: Database) -> TestClient:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, stripe_secret_key=None,
        catalog_path=CATALOGS / "patch_hive.toml", session_secret="contract-secret-contract-secret-cs",
    )
    return TestClient(create_app(settings, db=db, configure_logs=False))


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def test_every_operation_is_named_tagged_summarised_and_documents_its_errors(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", operation_id) for operation_id in ids), ids
    for method, path, op in operations(doc):
        assert op.get("tags"), (method, path)
        assert op.get("summary"), (method, path)
        errors = {status: answer for status, answer in op["responses"].items() if int(status) >= 400}
        assert {"422", "503"} <= set(errors), (method, path)
        for answer in errors.values():
            assert answer["content"]["application/json"]["schema"] == {"$ref": ENVELOPE}
        if (method, path) in PUBLIC:
            assert "security" not in op
            assert "401" not in errors
        else:
            assert op["security"] == [{"ApiKey": []}], (method, path)
            assert "401" in errors, (method, path)
    scheme = doc["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_every_field_of_every_schema_says_what_it_is_and_no_name_is_used_twice(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    undescribed = [f"{name}.{field}" for name, schema in schemas.items()
                   for field, spec in schema.get("properties", {}).items()
                   if not spec.get("description") and "$ref" not in spec]
    assert undescribed == []
    assert [name for name in schemas if "__" in name or "-" in name] == []  # FastAPI's disambiguated names


def test_the_old_user_id_is_accepted_but_the_document_names_host_user_id(client: TestClient) -> None:
    check = client.get("/openapi.json").json()["components"]["schemas"]["CheckBody"]
    assert "host_user_id" in check["required"]
    assert "user_id" not in check["properties"]
    assert "deprecated" in check["properties"]["host_user_id"]["description"]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("get", "/v1/no-such-route", None, 404, "not_found"),
    ("delete", "/v1/plans", None, 405, "method_not_allowed"),
    ("post", "/v1/check", b"{not json", 422, "invalid_input"),
    ("post", "/v1/check", None, 401, "unauthorized"),
])
def test_every_error_uses_the_envelope(client: TestClient, method: str, path: str, body: bytes | None,
                                       status: int, code: str) -> None:
    answer = client.request(method, path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["message"]
