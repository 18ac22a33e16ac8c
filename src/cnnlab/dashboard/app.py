"""The dashboard's web app (Starlette): read-only pages, JSON, and server-sent events.

Routes (all ``GET``; any other method is refused with 405)::

    /                              run list (status, model, best val accuracy, duration), compare
    /runs/{id}                     one run: curves, epochs, predictions, confusion matrix,
                                   filters and feature maps, Grad-CAM, explained summary
    /compare?runs=a,b              overlaid curves of several runs
    /static/{name}                 the page's script and style (a fixed list of files)
    /api/runs, /api/runs/{id}, /api/compare?runs=a,b
    /api/runs/{id}/samples | confusion | filters?layer= | maps?layer=&image= | gradcam?image=
    /api/events, /api/runs/{id}/events   server-sent events: what changed, when it changed

Every response carries a Content-Security-Policy that allows only this server's own script
(no inline script, nothing from the network), so a name that slipped through escaping could
still not run. With an access token (non-loopback binding), every request needs it: as
``?token=`` (which also sets a cookie for the page's own requests), the cookie, or
``Authorization: Bearer``. On loopback the ``Host`` header must name the loopback address,
which stops DNS-rebinding pages from reading the dashboard.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import time
from http.cookies import SimpleCookie
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from cnnlab.dashboard import pages, payloads
from cnnlab.dashboard.sources import SAMPLES, NotFound, Source, check_run_id

STATIC = {"dashboard.js": "text/javascript; charset=utf-8",
          "dashboard.css": "text/css; charset=utf-8"}
COOKIE = "cnnlab_dashboard_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle event stream
MAX_COMPARE = 8
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; "
                                 b"img-src 'self' data: blob:; connect-src 'self'; "
                                 b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


# ------------------------------------------------------------------------------ the guard
class Guard:
    """ASGI middleware: GET/HEAD only, the access token, the Host check, security headers."""

    def __init__(self, app: Any, token: str | None, loopback: bool):
        self.app, self.token, self.loopback = app, token, loopback

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, _with_headers(send, []))
            return
        extra = []
        query_token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if self.token and query_token:
            extra.append((b"set-cookie", f"{COOKIE}={self.token}; Path=/; HttpOnly; "
                                         f"SameSite=Strict".encode("latin-1")))
        await self.app(scope, receive, _with_headers(send, extra))

    def _refusal(self, scope: dict, headers: dict[str, str]) -> Response | None:
        if scope["method"] not in ("GET", "HEAD"):
            return Response("the dashboard is read-only: only GET requests are served\n",
                            status_code=405, headers={"Allow": "GET, HEAD"},
                            media_type="text/plain")
        if self.loopback and _hostname(headers.get("host", "")) not in LOOPBACK_HOSTS:
            return Response(f"this dashboard answers only to the loopback address, not to "
                            f"host {headers.get('host', '')!r}\n", status_code=421,
                            media_type="text/plain")
        if self.token and not self._authorized(scope, headers):
            return Response("an access token is required: open the URL that `cnnlab serve` "
                            "printed (it ends with ?token=...)\n", status_code=401,
                            media_type="text/plain")
        return None

    def _authorized(self, scope: dict, headers: dict[str, str]) -> bool:
        offered = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            cookie = SimpleCookie()
        if COOKIE in cookie:
            offered.append(cookie[COOKIE].value)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        return any(secrets.compare_digest(t.encode(), self.token.encode()) for t in offered)


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _with_headers(send: Any, extra: list[tuple[bytes, bytes]]) -> Any:
    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS, *extra]
        await send(message)
    return wrapped


# ------------------------------------------------------------------------------- helpers
def _source(request: Request) -> Source:
    return request.app.state.source


def _json(data: Any) -> JSONResponse:
    return JSONResponse(_plain(data))


def _plain(value: Any) -> Any:
    """NaN/inf -> None and NumPy scalars -> Python, so the JSON is standard."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _int_arg(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"`{name}` must be an integer, got {text!r}") from None
    if not low <= value < high:
        raise NotFound(f"`{name}` must be in [{low}, {high}), got {value}")
    return value


def _layer_arg(request: Request, source: Source, run_id: str) -> str:
    layer = request.query_params.get("layer", "")
    layers = source.describe(run_id)["conv_layers"]
    if not layers:
        raise NotFound("this model has no 2-D convolution layer to look inside")
    if not layer:
        return layers[0]
    if layer not in layers:
        raise NotFound(f"no convolution layer {layer!r}; the model's are {layers}")
    return layer


def _run_ids(request: Request) -> list[str]:
    text = request.query_params.get("runs", "")
    ids = [check_run_id(part) for part in text.split(",") if part]
    if len(ids) > MAX_COMPARE:
        raise ValueError(f"compare at most {MAX_COMPARE} runs, got {len(ids)}")
    return list(dict.fromkeys(ids))


# --------------------------------------------------------------------------------- pages
def index_page(request: Request) -> HTMLResponse:
    """``GET /``: the table of runs."""
    source = _source(request)
    return HTMLResponse(pages.index(source.title, source.runs()))


def run_page(request: Request) -> HTMLResponse:
    """``GET /runs/{run_id}``: one run's page (curves, pictures, predictions)."""
    source = _source(request)
    run = source.run(request.path_params["run_id"])
    return HTMLResponse(pages.run(run, source.describe(run["id"])))


def compare_page(request: Request) -> HTMLResponse:
    """``GET /compare?run=A&run=B``: runs side by side."""
    ids = _run_ids(request)
    runs = [_source(request).run(run_id) for run_id in ids]
    return HTMLResponse(pages.compare(runs))


def no_icon(request: Request) -> Response:
    """``GET /favicon.ico``: no content (keeps browsers from logging a 404)."""
    return Response(status_code=204)


def static_file(request: Request) -> Response:
    """``GET /static/{name}``: one of the vendored files listed in ``STATIC``, by name only."""
    name = request.path_params["name"]
    if name not in STATIC:  # a fixed list: no path from the URL ever reaches the file system
        raise NotFound(f"no static file {name!r}")
    data = resources.files("cnnlab.dashboard").joinpath("static", name).read_bytes()
    return Response(data, media_type=STATIC[name])


# ----------------------------------------------------------------------------------- API
def api_runs(request: Request) -> JSONResponse:
    """``GET /api/runs``: every run as JSON."""
    return _json({"title": _source(request).title, "runs": _source(request).runs()})


def api_run(request: Request) -> JSONResponse:
    """``GET /api/runs/{run_id}``: one run with its epochs and model description."""
    source = _source(request)
    run = source.run(request.path_params["run_id"])
    run.update(source.describe(run["id"]))
    return _json(run)


def api_compare(request: Request) -> JSONResponse:
    """``GET /api/compare?run=...``: several runs as JSON."""
    source = _source(request)
    return _json({"runs": [source.run(run_id) for run_id in _run_ids(request)]})


def api_samples(request: Request) -> JSONResponse:
    """``.../samples``: predictions for the first test images."""
    source, run_id = _source(request), request.path_params["run_id"]
    x, y, names, what = source.images(run_id)
    count = min(SAMPLES, len(x))
    data = source.computed("samples", run_id, (), lambda model: payloads.samples(
        model, x[:count], None if y is None else y[:count], names))
    return _json({**data, "what": what})


def api_confusion(request: Request) -> JSONResponse:
    """``.../confusion``: the confusion matrix on the test images."""
    source, run_id = _source(request), request.path_params["run_id"]
    x, y, names, what = source.images(run_id)
    if y is None:
        raise NotFound("the images have no labels: no confusion matrix")
    data = source.computed("confusion", run_id, (),
                           lambda model: payloads.confusion(model, x, y, names))
    return _json({**data, "what": what})


def api_filters(request: Request) -> JSONResponse:
    """``.../filters``: a conv layer's kernels as images."""
    source, run_id = _source(request), request.path_params["run_id"]
    layer = _layer_arg(request, source, run_id)
    return _json(source.computed("filters", run_id, (layer,),
                                 lambda model: payloads.layer_filters(model, layer)))


def api_maps(request: Request) -> JSONResponse:
    """``.../maps``: feature maps of a layer for one image."""
    source, run_id = _source(request), request.path_params["run_id"]
    layer = _layer_arg(request, source, run_id)
    x, _, _, _ = source.images(run_id)
    index = _int_arg(request, "image", 0, 0, min(SAMPLES, len(x)))
    return _json(source.computed("maps", run_id, (layer, index),
                                 lambda model: payloads.layer_maps(model, layer, x[index])))


def api_gradcam(request: Request) -> JSONResponse:
    """``.../gradcam``: Grad-CAM heat maps for test images."""
    source, run_id = _source(request), request.path_params["run_id"]
    x, _, names, _ = source.images(run_id)
    index = _int_arg(request, "image", 0, 0, min(SAMPLES, len(x)))
    klass = _int_arg(request, "class", None, 0, 100_000)
    layer = _layer_arg(request, source, run_id) if request.query_params.get("layer") else None
    return _json(source.computed("gradcam", run_id, (index, klass, layer),
                                 lambda model: payloads.cam(model, x[index], klass, layer,
                                                            names)))


# ------------------------------------------------------------------------ event streams
def _cursor(request: Request) -> list[int]:
    """Where the client is: ``Last-Event-ID`` (a reconnecting EventSource) or the query."""
    text = request.headers.get("last-event-id") or \
        f"{request.query_params.get('epochs', 0)},{request.query_params.get('batches', 0)}"
    try:
        epochs, batches = (max(0, int(v)) for v in text.split(","))
    except ValueError:
        raise ValueError(f"the event cursor must be 'epochs,batches', got {text!r}") from None
    return [epochs, batches]


def _event(name: str, data: Any, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps(_plain(data))}\n\n"


async def _ask(source: Source, method: Any, *args: Any) -> Any:
    """``method(*args)``: in a worker thread when it may block, else right here."""
    return await run_in_threadpool(method, *args) if source.blocking else method(*args)


async def _stream(request: Request, run_id: str | None, cursor: list[int]) -> Any:
    source = _source(request)
    last, beat = None, time.monotonic()
    yield "retry: 2000\n\n"
    while not await request.is_disconnected():
        try:
            signature = source.signature(run_id)
            if signature != last:
                last = signature
                if run_id is None:
                    runs = await _ask(source, source.runs)
                    yield _event("runs", {"runs": runs})
                else:
                    update = await _ask(source, source.updates, run_id, *cursor)
                    cursor = update["cursor"]
                    yield _event("update", update, f"{cursor[0]},{cursor[1]}")
                beat = time.monotonic()
        except (sqlite3.Error, OSError) as err:  # the store is busy or being replaced
            yield _event("problem", {"error": f"cannot read the run store now: {err}"})
        except LookupError as err:  # the run is gone
            yield _event("problem", {"error": str(err)})
            return
        if time.monotonic() - beat > HEARTBEAT:
            beat = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(source.interval)


def run_events(request: Request) -> StreamingResponse:
    """``.../events``: server-sent events with the run's new points and epochs."""
    run_id = request.path_params["run_id"]
    _source(request).run(run_id)  # 404 before the stream starts
    return _event_response(_stream(request, run_id, _cursor(request)))


def list_events(request: Request) -> StreamingResponse:
    """``GET /api/events``: server-sent events when runs start, change or end."""
    return _event_response(_stream(request, None, [0, 0]))


def _event_response(body: Any) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})


# -------------------------------------------------------------------------------- errors
def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    return HTMLResponse(pages.error(status, message), status_code=status)


async def _not_found(request: Request, exc: Exception) -> Response:
    message = "no such page"
    if isinstance(exc, LookupError):
        message = str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
    return _error(request, 404, message)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))


async def _unavailable(request: Request, exc: Exception) -> Response:
    return _error(request, 503, f"cannot read the run store or checkpoint now: {exc}")


async def _method(request: Request, exc: Exception) -> Response:
    return _error(request, 405, "the dashboard is read-only: only GET requests are served")


def create_app(source: Source, token: str | None = None, loopback: bool = True) -> Any:
    """The ASGI app serving ``source``; ``token``: required on every request when set;
    ``loopback``: answer only requests addressed to the loopback host."""
    run = "/api/runs/{run_id}"
    routes = [
        Route("/", index_page), Route("/runs/{run_id}", run_page),
        Route("/compare", compare_page), Route("/static/{name}", static_file),
        Route("/favicon.ico", no_icon),
        Route("/api/runs", api_runs), Route("/api/compare", api_compare),
        Route("/api/events", list_events), Route(run, api_run),
        Route(f"{run}/events", run_events), Route(f"{run}/samples", api_samples),
        Route(f"{run}/confusion", api_confusion), Route(f"{run}/filters", api_filters),
        Route(f"{run}/maps", api_maps), Route(f"{run}/gradcam", api_gradcam),
    ]
    app = Starlette(routes=routes, exception_handlers={
        404: _not_found, 405: _method, LookupError: _not_found, KeyError: _not_found,
        ValueError: _bad_request, TypeError: _bad_request, sqlite3.Error: _unavailable,
        OSError: _unavailable})
    app.state.source = source
    return Guard(app, token, loopback)
