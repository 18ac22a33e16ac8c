"""``keras.models``: ``Sequential``, ``Model``, ``load_model``, ``model_from_json``."""

from cnnlab.io import load_model
from cnnlab.models import Model, Sequential
from cnnlab.models.config import model_from_json

__all__ = ["Model", "Sequential", "load_model", "model_from_json"]
