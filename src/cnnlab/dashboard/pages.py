"""The dashboard's HTML: page skeletons the script in ``static/dashboard.js`` fills and updates.

Everything that comes from a run (names, ids, layer and class names, config values, the summary
text) goes through :func:`esc` here, or through ``textContent`` in the script — never into markup
unescaped. Pages load only ``/static/dashboard.js`` and ``/static/dashboard.css``: they work
offline and under the server's Content-Security-Policy (no inline script).
"""

from __future__ import annotations

import html
import time
from typing import Any

RUN_COLUMNS = ("run", "status", "model", "dataset", "epochs", "best val acc", "test acc",
               "duration", "started")


def esc(value: Any) -> str:
    """``value`` as text safe inside HTML elements and quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def duration(seconds: float | None) -> str:
    """Seconds as ``12.3 s``, ``4 min 05 s`` or ``2 h 03 min`` (``-`` when unknown)."""
    if seconds is None:
        return "-"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else \
        f"{minutes // 60} h {minutes % 60:02d} min"


def score(value: float | None) -> str:
    """A metric with 4 decimals (``-`` when unknown)."""
    return "-" if value is None else f"{value:.4f}"


def when(stamp: float | None) -> str:
    """A Unix time as local ``YYYY-MM-DD HH:MM`` (``-`` when unknown)."""
    return "-" if stamp is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def model_label(run: dict) -> str:
    """What a run trained: ``recipe NAME`` or the model's name."""
    return f"recipe {run['recipe']}" if run.get("recipe") else str(run.get("model") or "-")


def _page(title: str, body: str, page: str, data: dict[str, str] | None = None) -> str:
    attrs = "".join(f' data-{esc(k)}="{esc(v)}"' for k, v in (data or {}).items())
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title>"
            f'<link rel="stylesheet" href="/static/dashboard.css"></head>'
            f'<body data-page="{esc(page)}"{attrs}>{body}'
            f'<script src="/static/dashboard.js"></script></body></html>')


def run_row(run: dict) -> str:
    """One ``<tr>`` of the run list (the script builds the same row from JSON)."""
    cells = [
        f'<td><input type="checkbox" class="pick" value="{esc(run["id"])}" '
        f'aria-label="compare {esc(run["name"])}"></td>',
        f'<td><a href="/runs/{esc(run["id"])}">{esc(run["name"])}</a>'
        f'<div class="sub">{esc(run["id"])}</div></td>',
        f'<td><span class="status {esc(run["status"])}">{esc(run["status"])}</span></td>',
        f"<td>{esc(model_label(run))}</td>", f"<td>{esc(run.get('dataset') or '-')}</td>",
        f"<td>{esc(run['epochs'])}</td>", f"<td>{score(run.get('best_val_accuracy'))}</td>",
        f"<td>{score(run.get('test_accuracy'))}</td>", f"<td>{duration(run.get('seconds'))}</td>",
        f"<td>{when(run.get('created'))}</td>"]
    return f'<tr data-run="{esc(run["id"])}">{"".join(cells)}</tr>'


def index(title: str, runs: list[dict]) -> str:
    """The runs table page (every value escaped)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in ("", *RUN_COLUMNS))
    rows = "".join(run_row(r) for r in runs) or \
        f'<tr class="empty"><td colspan="{len(RUN_COLUMNS) + 1}">no runs yet</td></tr>'
    body = (f'<header><h1>cnnlab dashboard</h1><p class="sub">{esc(title)} · '
            f'<span id="connection">connecting…</span></p></header>'
            f'<section id="runs"><h2>Runs</h2>'
            f'<p><button id="compare-button" type="button" disabled>compare selected</button> '
            f'<span class="sub">tick two or more runs</span></p>'
            f'<table id="run-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
            f"</section>")
    return _page("cnnlab dashboard", body, "index")


def _chart(chart_id: str, caption: str) -> str:
    return (f'<figure class="chart"><figcaption>{esc(caption)}</figcaption>'
            f'<svg id="{chart_id}" data-points="0" role="img" aria-label="{esc(caption)}">'
            f"</svg></figure>")


def run(run: dict, described: dict) -> str:
    """One run's page (every value escaped)."""
    layers = described.get("conv_layers", [])
    options = "".join(f'<option value="{esc(name)}">{esc(name)}</option>' for name in layers)
    meta = (f'{esc(model_label(run))} on {esc(run.get("dataset") or "-")} · '
            f'<span id="meta-epochs">{esc(run["epochs"])}</span> epochs · '
            f'<span id="meta-duration">{duration(run.get("seconds"))}</span> · best val acc '
            f'<span id="meta-best">{score(run.get("best_val_accuracy"))}</span>')
    config = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>"
                     for k, v in sorted((run.get("config") or {}).items()))
    body = (
        f'<header><p><a href="/">← all runs</a></p><h1>{esc(run["name"])} '
        f'<span id="status" class="status {esc(run["status"])}">{esc(run["status"])}</span>'
        f'</h1><p class="sub">{meta} · <span id="connection">connecting…</span></p></header>'
        f'<section id="curves"><h2>Training curves</h2><div class="charts">'
        f'{_chart("loss-chart", "loss")}{_chart("accuracy-chart", "accuracy")}'
        f'{_chart("lr-chart", "learning rate")}</div>'
        f'<p class="sub">thin lines: the loss and accuracy of every training batch, smoothed; '
        f"dots: end of each epoch</p></section>"
        f'<section id="epochs"><h2>Epochs</h2><table id="epoch-table"><thead><tr>'
        f"<th>epoch</th><th>loss</th><th>accuracy</th><th>val loss</th><th>val accuracy</th>"
        f'<th>learning rate</th></tr></thead><tbody></tbody></table></section>'
        f'<section id="samples"><h2>Predictions <span id="samples-what" class="sub"></span>'
        f'</h2><p class="sub">click an image to look inside the network with it</p>'
        f'<div id="sample-grid" class="samples"></div></section>'
        f'<section id="confusion"><h2>Confusion matrix <span id="confusion-what" class="sub">'
        f'</span></h2><div id="confusion-matrix"></div></section>'
        f'<section id="inside"><h2>Inside a convolution layer</h2><p>'
        f'<label>layer <select id="layer-select">{options}</select></label> '
        f'<label>image <select id="image-select"></select></label></p>'
        f'<h3>filters <span id="filters-shape" class="sub"></span></h3>'
        f'<div id="filters" class="grid"></div>'
        f'<h3>feature maps <span id="maps-shape" class="sub"></span></h3>'
        f'<div id="maps" class="grid"></div></section>'
        f'<section id="gradcam"><h2>Grad-CAM</h2><p class="sub">where the chosen image '
        f"holds the evidence for a class: the layer's feature maps weighted by the mean "
        f"gradient of the class score</p><p><label>class "
        f'<select id="class-select"><option value="">predicted</option></select></label> '
        f'<label>layer <select id="cam-layer-select"><option value="">last convolution'
        f"</option>{options}</select></label> "
        f'<span id="cam-caption" class="sub"></span></p><div id="cam" class="cam"></div>'
        f"</section>"
        f'<section id="model"><h2>Model (explained summary)</h2>'
        f'<pre id="summary">{esc(described.get("summary", ""))}</pre></section>'
        f'<section id="config"><h2>Configuration</h2><table>{config}</table></section>')
    return _page(f"cnnlab · {run['name']}", body, "run",
                 {"run": run["id"], "live": "1" if run.get("live") else "0"})


def compare(runs: list[dict]) -> str:
    """The comparison page of several runs (every value escaped)."""
    names = ", ".join(esc(r["name"]) for r in runs)
    rows = "".join(run_row(r) for r in runs)
    head = "".join(f"<th>{esc(c)}</th>" for c in ("", *RUN_COLUMNS))
    body = (f'<header><p><a href="/">← all runs</a></p><h1>Compare</h1>'
            f'<p class="sub">{names} · <span id="connection">loaded</span></p></header>'
            f'<section id="compare-curves"><h2>Curves</h2><div class="charts">'
            f'{_chart("val-accuracy-chart", "validation accuracy")}'
            f'{_chart("val-loss-chart", "validation loss")}'
            f'{_chart("train-loss-chart", "training loss")}</div></section>'
            f'<section id="compare-table"><h2>Runs</h2><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></section>")
    ids = ",".join(r["id"] for r in runs)
    return _page("cnnlab · compare", body, "compare", {"runs": ids})


def error(status: int, message: str) -> str:
    """An error page with an escaped message."""
    body = (f'<header><p><a href="/">← all runs</a></p><h1>{status}</h1></header>'
            f'<p class="error">{esc(message)}</p>')
    return _page(f"cnnlab · {status}", body, "error")
