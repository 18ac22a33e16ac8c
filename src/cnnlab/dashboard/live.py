"""``fit(dashboard=True)``: this training, live, on a free loopback port of this process.

The first call starts one server (uvicorn in a daemon thread) for the whole process and every
later ``fit(dashboard=True)`` joins it as one more run; each call prints its page's URL. The
server never touches the training model: it reads the :class:`LiveFeed` the callback fills and
draws pictures with a copy of the model built from its config (see ``sources.LiveSource``).
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any

from cnnlab.dashboard.feed import LiveCallback, LiveFeed
from cnnlab.dashboard.server import DashboardServer, bind, require_web

PORT_VARIABLE = "CNNLAB_DASHBOARD_PORT"  # a fixed port instead of a free one
_lock = threading.Lock()
_numbers = itertools.count(1)
_state: dict[str, Any] = {}


def live_server() -> tuple[DashboardServer, Any]:
    """The process's dashboard server and its :class:`LiveSource` (started on first use)."""
    with _lock:
        if "server" not in _state:
            require_web()
            from cnnlab.dashboard.app import create_app
            from cnnlab.dashboard.sources import LiveSource

            source = LiveSource()
            sock = bind("127.0.0.1", int(os.environ.get(PORT_VARIABLE, "0")))
            server = DashboardServer(create_app(source), sock)
            server.start()
            _state.update(server=server, source=source)
        return _state["server"], _state["source"]


def dashboard_callback(model: Any, train: Any, val: Any = None, recorder: Any = None
                       ) -> LiveCallback:
    """The callback ``fit(dashboard=True)`` adds; prints the URL of this training's page.

    ``train``/``val``: fit's batch sources (the first validation — else training — arrays are
    the pictured images); ``recorder``: the run recorder of ``fit(run=...)``, if any, whose run
    id names the page and whose stored config gives dataset and class names.
    """
    server, source = live_server()
    run_id, name, config = None, None, {}
    if recorder is not None:
        run_id = recorder.run_id
        try:
            record = recorder.store.get(run_id)
            name, config = record.name, record.config
        except (KeyError, OSError):
            pass
    feed_id = run_id or f"live-{next(_numbers)}"
    while feed_id in source.feeds:
        feed_id = f"{run_id or 'live'}-{next(_numbers)}"
    images, what = (val, "validation images") if val is not None else (train, "training images")
    feed = LiveFeed(id=feed_id, model=model, name=name, images=images, images_what=what,
                    dataset=str(config.get("data") or "arrays"),
                    class_names=config.get("class_names"))
    source.add(feed)
    print(f"dashboard: {server.url}runs/{feed_id}", flush=True)
    return LiveCallback(feed)
