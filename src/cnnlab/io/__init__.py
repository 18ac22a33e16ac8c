"""Reading and writing models: architecture as JSON, tensors as safetensors, never code."""

from cnnlab.io.saving import load_model, load_weights, save_model, save_weights

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]
