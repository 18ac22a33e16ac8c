"""Seeing inside a CNN: the lecture's arithmetic, step-by-step convolution, image kernels,
filters, feature maps, Grad-CAM and saliency."""

from cnnlab.explain.arithmetic import LayerExplanation, explain_model, format_explained_summary

__all__ = ["LayerExplanation", "explain_model", "format_explained_summary"]
