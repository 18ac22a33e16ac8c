"""The live dashboard: watch a CNN learn in the browser, served by the training process.

``model.fit(..., dashboard=True)`` (or ``cnnlab train --dashboard``) serves this training on a
free loopback port and prints the URL; ``cnnlab serve [--store DIR]`` serves every run of a run
store. Modules: ``feed`` (what a training pushes: per-batch points, epochs, weight copies),
``sources`` (store or live feed, one interface), ``payloads`` (pictures and predictions as
JSON), ``pages`` (escaped HTML), ``app`` (Starlette routes, the read-only/token guard, event
streams), ``server`` (socket, uvicorn), ``live`` (``fit(dashboard=True)``), ``cli``
(``cnnlab serve``). Needs the ``dashboard`` extra: ``pip install 'cnnlab[dashboard]'``.
"""

from cnnlab.dashboard.live import dashboard_callback
from cnnlab.models.extensions import register

register("dashboard", dashboard_callback)  # Model.fit(dashboard=True) (models/extensions.py)

__all__ = ["dashboard_callback"]
