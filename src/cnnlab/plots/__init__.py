"""The lecture's pictures as PNG files (matplotlib, Agg backend, written atomically).

Each function writes one PNG and returns its path; the ``draw_*`` functions draw into an Axes
you give them (for your own figures); the ``*_figure`` functions return a matplotlib Figure to
show in a notebook or save yourself. Sizes are fixed at 100 dpi, so a PNG's pixel size follows
from its content: image grids are 160x160 pixels per cell, curve panels 500x400.

    from cnnlab import plots
    plots.training_curves(history, "curves.png")
    plots.confusion_matrix(y_test, model.predict(x_test), class_names, "confusion.png")
"""

from cnnlab.plots._figure import draw_image
from cnnlab.plots.classification import (
    confusion_counts,
    confusion_matrix,
    draw_confusion_matrix,
    misclassified_figure,
    misclassified_grid,
)
from cnnlab.plots.curves import draw_metric, overfitting_epoch, overlaid_curves, training_curves
from cnnlab.plots.images import (
    augmentation_preview,
    draw_heatmap_overlay,
    feature_maps_grid,
    filters_grid,
    grad_cam_figure,
    grad_cam_overlay,
    image_grid,
    kernel_before_after,
    kernel_figure,
    steps_figure,
    write_steps,
)

__all__ = [
    "augmentation_preview", "confusion_counts", "confusion_matrix", "draw_confusion_matrix",
    "draw_heatmap_overlay", "draw_image", "draw_metric", "feature_maps_grid", "filters_grid",
    "grad_cam_figure", "grad_cam_overlay", "image_grid", "kernel_before_after", "kernel_figure",
    "misclassified_figure", "misclassified_grid", "overfitting_epoch", "overlaid_curves",
    "steps_figure", "training_curves", "write_steps",
]
