"""Route-level tests of the dashboard app: content, escaping, path traversal, read-only, token."""

import asyncio
import json

import pytest
from dashboard_helpers import CLASS_NAMES, EVIL
from starlette.testclient import TestClient

from cnnlab.dashboard.app import create_app
from cnnlab.dashboard.sources import StoreSource

LOOPBACK = "http://127.0.0.1"


@pytest.fixture(scope="module")
def source(store_home):
    return StoreSource(store_home[0])


@pytest.fixture(scope="module")
def client(source):
    return TestClient(create_app(source), base_url=LOOPBACK)


def raw_get(app, raw_path: bytes, query: bytes = b"", headers=None) -> tuple[int, bytes]:
    """Call the ASGI app with ``raw_path`` exactly as given (no client-side normalization)."""
    from urllib.parse import unquote_to_bytes

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
             "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote_to_bytes(raw_path).decode("latin-1"), "raw_path": raw_path,
             "query_string": query, "root_path": "",
             "headers": [(b"host", b"127.0.0.1:8000"), *(headers or [])],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


# ------------------------------------------------------------------------------ content
def test_run_list_shows_every_run_with_its_numbers(client, store_home):
    _, ids = store_home
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for run_id in ids:
        assert f'href="/runs/{run_id}"' in page.text
    rows = client.get("/api/runs").json()["runs"]
    assert {r["id"] for r in rows} == set(ids)
    for row in rows:
        assert row["status"] == "finished" and row["best_val_accuracy"] is not None
        assert row["seconds"] > 0 and row["epochs"] in (2, 3)


def test_run_json_has_epochs_summary_and_conv_layers(client, store_home):
    run = client.get(f"/api/runs/{store_home[1][1]}").json()
    assert [r["epoch"] for r in run["epoch_rows"]] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(run["epoch_rows"][0])
    assert run["conv_layers"] == ["conv_a", "conv_b"]
    assert "Total params" in run["summary"] and "receptive" in run["summary"]


def test_pictures_and_predictions(client, store_home):
    api = f"/api/runs/{store_home[1][0]}"
    samples = client.get(f"{api}/samples").json()
    assert samples["images"]["shape"] == [12, 8, 8, 1]
    assert len(samples["probabilities"]) == 12
    for row in samples["probabilities"]:
        assert abs(sum(row) - 1) < 1e-2
    matrix = client.get(f"{api}/confusion").json()
    assert sum(map(sum, matrix["counts"])) == matrix["images"] == 360
    filters = client.get(f"{api}/filters", params={"layer": "conv_b"}).json()
    assert filters["kernel_shape"] == [3, 3, 4, 6] and filters["filters"]["shape"] == [6, 3, 3, 1]
    maps = client.get(f"{api}/maps", params={"layer": "conv_a", "image": 5}).json()
    assert maps["output_shape"] == [8, 8, 4] and maps["maps"]["shape"] == [4, 8, 8, 1]
    cam = client.get(f"{api}/gradcam", params={"image": 2, "class": 3}).json()
    assert cam["class_index"] == 3 and cam["heatmap"]["shape"] == [1, 8, 8, 1]
    assert client.get(f"{api}/maps", params={"layer": "nope"}).status_code == 404
    assert client.get(f"{api}/maps", params={"image": 99}).status_code == 404
    assert client.get(f"{api}/maps", params={"image": "x"}).status_code == 400


def test_compare_json_and_page(client, store_home):
    ids = store_home[1]
    data = client.get("/api/compare", params={"runs": ",".join(ids)}).json()
    assert [r["id"] for r in data["runs"]] == ids
    page = client.get("/compare", params={"runs": ",".join(ids)})
    assert page.status_code == 200 and 'id="val-accuracy-chart"' in page.text


# ----------------------------------------------------------------------------- escaping
def test_run_layer_and_class_names_are_escaped(client, store_home):
    evil_run = store_home[1][2]
    for path in ("/", f"/runs/{evil_run}", f"/compare?runs={evil_run}"):
        text = client.get(path).text
        assert EVIL not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
        assert "<script" not in text.replace('<script src="/static/dashboard.js"></script>', "")
    page = client.get(f"/runs/{evil_run}").text
    assert '<option value="&lt;script&gt;alert(1)&lt;/script&gt;">' in page  # the layer
    samples = client.get(f"/api/runs/{evil_run}/samples")
    assert samples.headers["content-type"] == "application/json"
    assert samples.json()["class_names"] == CLASS_NAMES
    maps = client.get(f"/api/runs/{evil_run}/maps", params={"layer": EVIL})
    assert maps.status_code == 200 and maps.json()["layer"] == EVIL
    missing = client.get("/runs/<b>x</b>")
    assert missing.status_code == 404 and "<b>x</b>" not in missing.text


def test_every_response_forbids_inline_script(client, store_home):
    for path in ("/", f"/runs/{store_home[1][0]}", "/static/dashboard.js", "/api/runs", "/x"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------------------- traversal
TRAVERSALS = [
    b"/static/../runs/cnnlab.db", b"/static/%2e%2e/%2e%2e/pyproject.toml",
    b"/static/..%2f..%2fpyproject.toml", b"/static/%2e%2e%2fcnnlab.db", b"/static//etc/passwd",
    b"/static/%2Fetc%2Fpasswd", b"/static/..%5c..%5cpyproject.toml",
    b"/runs/..%2f..%2fetc%2fpasswd", b"/runs/%2e%2e", b"/api/runs/%2e%2e/samples",
    b"/api/runs/..%2fcnnlab.db", b"/api/runs/%2Fetc%2Fpasswd/filters", b"/../../etc/passwd",
    b"/static/dashboard.js/../../cnnlab.db",
]


@pytest.mark.parametrize("raw_path", TRAVERSALS)
def test_no_path_traversal(source, raw_path):
    status, body = raw_get(create_app(source), raw_path)
    assert status in (400, 404), (raw_path, status)
    assert b"SQLite format" not in body and b"root:" not in body and b"[project]" not in body


@pytest.mark.parametrize("layer", ["../../etc/passwd", "/etc/passwd", "%2e%2e/checkpoint"])
def test_layer_and_run_parameters_are_names_not_paths(client, store_home, layer):
    api = f"/api/runs/{store_home[1][0]}"
    assert client.get(f"{api}/filters", params={"layer": layer}).status_code == 404
    compare = client.get("/api/compare", params={"runs": "../runs,x"})
    assert compare.status_code == 404 and "SQLite" not in compare.text


# ---------------------------------------------------------------------------- read-only
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_read_only(client, source, store_home, method):
    before = [(r.id, r.status, r.epochs) for r in source.store.list()]
    run_id = store_home[1][0]
    for path in ("/", f"/runs/{run_id}", f"/api/runs/{run_id}", "/api/runs",
                 f"/api/runs/{run_id}/samples", "/static/dashboard.js"):
        response = client.request(method, path)
        assert response.status_code == 405, (method, path)
    assert [(r.id, r.status, r.epochs) for r in source.store.list()] == before
    assert (source.runs_dir / run_id / "checkpoint.cnnlab").exists()


# -------------------------------------------------------------------------- token, host
def test_token_is_required_on_every_request(source, store_home):
    token = "s3cret-token"
    client = TestClient(create_app(source, token=token, loopback=False),
                        base_url="http://192.0.2.1:8000")
    run_id = store_home[1][0]
    paths = ["/", f"/runs/{run_id}", "/static/dashboard.js", "/api/runs",
             f"/api/runs/{run_id}/maps", "/favicon.ico", "/nope"]
    for path in paths:
        assert client.get(path).status_code == 401, path
        assert client.get(path, params={"token": "wrong"}).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    first = client.get("/", params={"token": token})
    assert first.status_code == 200 and "HttpOnly" in first.headers["set-cookie"]
    for path in paths[:-2]:  # the cookie the first answer set serves the page's requests
        assert client.get(path).status_code == 200, path
    fresh = TestClient(create_app(source, token=token, loopback=False),
                       base_url="http://192.0.2.1:8000")
    assert fresh.get("/api/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_loopback_server_refuses_other_host_names(source):
    client = TestClient(create_app(source), base_url="http://attacker.example:8000")
    assert client.get("/api/runs").status_code == 421
    for host in ("http://localhost:8000", "http://127.0.0.1:8123", "http://[::1]:8000"):
        assert TestClient(create_app(source), base_url=host).get("/api/runs").status_code == 200


def test_json_is_standard(client, store_home):
    text = client.get(f"/api/runs/{store_home[1][0]}").text
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON {name}"))
