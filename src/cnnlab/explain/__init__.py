"""Seeing inside a CNN (SPEC §5): the lecture's arithmetic for every layer, convolution and
pooling step by step, image kernels, filters, feature maps, Grad-CAM and saliency.

    from cnnlab import explain
    print(explain.format_explained_summary(model))
    print(explain.convolve_steps(image, kernel, stride=1, padding='same').to_text())
    heatmaps = explain.grad_cam(model, x_test[:4])
"""

from cnnlab.explain.activations import feature_maps, filters
from cnnlab.explain.arithmetic import LayerExplanation, explain_model, format_explained_summary
from cnnlab.explain.attribution import grad_cam, saliency
from cnnlab.explain.kernels import KERNELS, apply_kernel, kernel_matrix
from cnnlab.explain.stepwise import ConvTrace, Window, convolve_steps, pool_steps
from cnnlab.models.extensions import register

register("explained_summary", format_explained_summary)  # Model.summary(explain=True)

__all__ = [
    "KERNELS", "ConvTrace", "LayerExplanation", "Window", "apply_kernel", "convolve_steps",
    "explain_model", "feature_maps", "filters", "format_explained_summary", "grad_cam",
    "kernel_matrix", "pool_steps", "saliency",
]
