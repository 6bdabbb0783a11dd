"""/api/openapi.json: a valid OpenAPI 3.1 document describing exactly the app's /api
routes, with the request bodies the routes validate."""

from __future__ import annotations

import httpx
from openapi_spec_validator import validate
from starlette.routing import Route
from temporalio.client import Client

from revsync.settings import Settings
from revsync.web.app import create_app


async def test_the_document_is_valid_and_describes_every_api_route(
        settings: Settings, client: Client) -> None:
    app = create_app(settings, client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://app.test") as http:
        response = await http.get("/api/openapi.json")  # public: no token needed
    assert response.status_code == 200
    document = response.json()
    validate(document)
    described = {(method, path) for path, ops in document["paths"].items() for method in ops}
    routed = {(method.lower(), route.path) for route in app.routes
              if isinstance(route, Route) and route.path.startswith("/api/")
              and route.path != "/api/openapi.json"
              for method in (route.methods or ()) if method != "HEAD"}
    assert described == routed
    rules = document["paths"]["/api/workspaces/{workspace}/automations/rules"]["post"]
    schema = rules["requestBody"]["content"]["application/json"]["schema"]
    assert "trial_converted" in schema["properties"]["trigger"]["properties"]["kind"]["enum"]
    options = document["paths"]["/api/workspaces/{workspace}/stripe/options"]["put"]
    body = options["requestBody"]["content"]["application/json"]["schema"]
    assert "mrr_statuses" in body["properties"]
    member = document["paths"]["/api/workspaces/{workspace}/segments/{segment_id}"]["get"]
    assert [p["name"] for p in member["parameters"]] == ["workspace", "segment_id"]
