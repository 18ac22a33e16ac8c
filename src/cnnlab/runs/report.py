"""The HTML report of a run: ``runs/<id>/report.html``, one self-contained file.

Sections: configuration, the model summary with its arithmetic, training curves (with the
epoch where overfitting starts), scores, confusion matrix, misclassified test images, filters
and feature maps of the first convolution layers, and Grad-CAM on a few test images. Classes
are named by the dataset's ``class_names`` (figure titles and captions). Pictures are PNGs
written next to the report and embedded as data URIs, so the file can be mailed.
"""

from __future__ import annotations

import base64
import html
import io
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab import plots
from cnnlab.explain.arithmetic import format_explained_summary
from cnnlab.files.atomic import atomic_write
from cnnlab.layers.conv import BaseConv
from cnnlab.plots.classification import class_name
from cnnlab.runs.store import RunStore, run_folder

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 12px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 4px 10px; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.4rem 0; }
.scores td { font-size: 1.1rem; }
"""


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _section(section_id: str, title: str, body: str) -> str:
    return f'<section id="{section_id}"><h2>{html.escape(title)}</h2>{body}</section>'


def _table(rows: list[tuple[str, Any]], css: str = "") -> str:
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                    for k, v in rows)
    return f'<table class="{css}">{cells}</table>'


def _summary_text(model: Any) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        model.summary()
    return buffer.getvalue() + "\n" + format_explained_summary(model)


def write_report(run_id: str, model: Any, dataset: Any, store: RunStore | None = None,
                 examples: int = 4) -> Path:
    """Write the report of ``run_id`` for ``model`` evaluated on ``dataset``'s test split."""
    store = store or RunStore()
    run = store.get(run_id)
    folder = run_folder(run.id)
    folder.mkdir(parents=True, exist_ok=True)
    probabilities = model.predict(dataset.x_test, batch_size=512, verbose=0)
    predicted = probabilities.argmax(axis=1)
    truth = dataset.y_test
    history = {key: [h.get(key) for h in run.history] for key in
               (run.history[0] if run.history else {})}
    sections = [
        _section("config", "Configuration", _table(sorted(run.config.items()))),
        _section("summary", "Model", f"<pre>{html.escape(_summary_text(model))}</pre>"),
    ]
    if history:
        curves = plots.training_curves(history, folder / "curves.png")
        sections.append(_section("curves", "Training curves", _image(Path(curves), "curves")))
    accuracy = float(np.mean(predicted == truth))
    sections.append(_section("scores", "Scores", _table([
        ("test accuracy", f"{accuracy:.4f}"),
        ("best validation accuracy", "-" if run.best_val_accuracy is None
         else f"{run.best_val_accuracy:.4f}"),
        ("epochs", run.epochs), ("training time", f"{run.seconds:.1f} s")], "scores")))
    matrix = plots.confusion_matrix(truth, predicted, dataset.class_names,
                                    folder / "confusion.png")
    sections.append(_section("confusion", "Confusion matrix", _image(Path(matrix), "confusion")))
    wrong = plots.misclassified_grid(dataset.x_test, truth, predicted, dataset.class_names,
                                     folder / "misclassified.png")
    sections.append(_section("misclassified", "Misclassified test images",
                             _image(Path(wrong), "misclassified")))
    convs = [layer for layer in model.layers if isinstance(layer, BaseConv)][:2]
    sample = dataset.x_test[:examples]
    inside = []
    for layer in convs:
        inside.append(f"<h3>{html.escape(layer.name)}</h3>")
        inside.append(_image(Path(plots.filters_grid(model, layer.name,
                                                     folder / f"filters-{layer.name}.png")),
                             f"filters of {layer.name}"))
        inside.append(_image(Path(plots.feature_maps_grid(
            model, layer.name, sample[:1], folder / f"maps-{layer.name}.png")),
            f"feature maps of {layer.name}"))
    sections.append(_section("inside", "Filters and feature maps",
                             "".join(inside) or "<p>The model has no convolution layer.</p>"))
    if convs:
        cam = plots.grad_cam_overlay(model, sample, folder / "grad-cam.png",
                                     class_names=dataset.class_names, y_true=truth[:examples])
        caption = ", ".join(f"{i + 1}: {class_name(truth[i], dataset.class_names)} → "
                            f"{class_name(predicted[i], dataset.class_names)}"
                            for i in range(len(sample)))
        sections.append(_section("gradcam", "Grad-CAM", _image(Path(cam), "grad-cam") +
                                 f"<p>true → predicted: {html.escape(caption)}</p>"))
    title = f"cnnlab run {run.id}"
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(str(run.model))} on "
            f"{html.escape(str(run.dataset))} · status {html.escape(run.status)}</p>"
            f"{''.join(sections)}</body></html>")
    path = folder / "report.html"
    with atomic_write(path) as handle:
        handle.write(page.encode("utf-8"))
    return path
