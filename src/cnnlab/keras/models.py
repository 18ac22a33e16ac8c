"""``keras.models``: ``Sequential``, ``Model``, ``load_model``, ``model_from_json``,
``clone_model``."""

from cnnlab.io import load_model
from cnnlab.models import Model, Sequential, clone_model
from cnnlab.models.config import model_from_json

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json"]
