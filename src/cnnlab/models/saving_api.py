"""Saving and loading as a mixin of :class:`cnnlab.models.Model`: ``save``,
``save_weights``, ``load_weights``, ``get_config``/``from_config``, ``to_json``.

Each method is one delegation: the file formats are :mod:`cnnlab.io` (below ``models`` in the
layering), the architecture as data is :mod:`cnnlab.models.config`.
"""

from __future__ import annotations

import json
from typing import Any

from cnnlab.files.atomic import check_target
from cnnlab.io.keras_weights import save_keras_h5
from cnnlab.io.saving import save_model, save_weights
from cnnlab.io.weight_files import load_weights_file
from cnnlab.models.config import functional_config, model_from_config


class SavingAPI:
    """Keras's save/load methods (mixed into ``Model``)."""

    def save(self, filepath: str, overwrite: bool = True, include_optimizer: bool = True,
             **kwargs: Any) -> None:
        """Write ``config.json`` + ``weights.safetensors`` (+ optimizer state) as one zip."""
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath: str, overwrite: bool = True, save_format: str | None = None,
                     options: Any = None) -> None:
        """Write the weights atomically: cnnlab's safetensors file whatever the name
        (``model.weights.h5`` too), or with ``save_format='h5'`` a Keras 2 HDF5 file that
        Keras's ``load_weights`` reads (needs h5py). Differs from Keras 2, which picks HDF5 from
        an ``.h5`` name. ``options`` is accepted and ignored."""
        if save_format in (None, "cnnlab", "tf", "safetensors"):
            save_weights(self, filepath, overwrite=overwrite)
        elif save_format in ("h5", "keras2-h5"):
            save_keras_h5(self, check_target(filepath, overwrite))
        else:
            raise ValueError(f"save_weights: `save_format` must be None or 'h5', got "
                             f"{save_format!r}")

    def load_weights(self, filepath: str, by_name: bool = False, skip_mismatch: bool = False,
                     options: Any = None) -> None:
        """Load weights from any file cnnlab reads, recognised by its content
        (:mod:`cnnlab.io.weight_files`: cnnlab, Keras 3 ``.keras``/``.weights.h5``, Keras 2
        HDF5, PyTorch state dicts). ``by_name``/``skip_mismatch`` as in Keras 2 (HDF5 files
        only). ``options`` is accepted and ignored."""
        load_weights_file(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def get_config(self) -> dict:
        """The architecture as JSON-able data (Keras's functional format); ``Sequential``
        overrides it. A subclassed model has none: its ``call`` is code."""
        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict) -> Any:
        """A new model (fresh weights) from :meth:`get_config`'s data."""
        return model_from_config(config, cls)

    def to_json(self, **kwargs: Any) -> str:
        """``{"class_name", "config"}`` as a JSON string (``json.dumps`` keywords pass on)."""
        return json.dumps({"class_name": self.class_name, "config": self.get_config()}, **kwargs)
