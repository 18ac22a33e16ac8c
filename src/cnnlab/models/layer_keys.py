"""Where a model keeps its layers as PyTorch submodules.

A layer is the submodule ``model.<layer name>``, except when its name is also an attribute of
the model class: Keras allows a layer named ``'output'`` or ``'input'`` (the zoo's LeNet-5 has
one) while ``model.output`` stays the symbolic tensor. Such a layer is kept under the key
``'layer:<name>'``, so that PyTorch tools which walk submodules by attribute (``torch.export``,
``get_submodule``, ``torch.func``) find a module there. ``state_dict()`` still names its weights
``'<name>.kernel'`` (the files cnnlab saves, and loads, keep the layer names).
"""

from __future__ import annotations

from typing import Any

import torch

ALIAS = "layer:"


def module_key(model: torch.nn.Module, name: str) -> str:
    """The submodule key of the layer called ``name`` in ``model``."""
    return ALIAS + name if hasattr(type(model), name) else name


def install_state_dict_names(model: torch.nn.Module) -> None:
    """Make ``state_dict``/``load_state_dict`` use layer names for aliased submodules."""
    model.register_state_dict_post_hook(_public_names)
    model.register_load_state_dict_pre_hook(_module_names)


def _public_names(module: torch.nn.Module, state: dict, prefix: str, metadata: Any) -> None:
    """``'<prefix>layer:output.kernel'`` -> ``'<prefix>output.kernel'``, order kept."""
    _rename(state, prefix + ALIAS, prefix)


def _module_names(module: torch.nn.Module, state: dict, prefix: str, *args: Any) -> None:
    """The reverse of :func:`_public_names`, for the aliased layers of ``module`` only."""
    for key in module._modules:
        if key.startswith(ALIAS):
            _rename(state, prefix + key[len(ALIAS):] + ".", prefix + key + ".")


def _rename(state: dict, old: str, new: str) -> None:
    if not any(key.startswith(old) for key in state):
        return
    items = [(new + key[len(old):] if key.startswith(old) else key, value)
             for key, value in state.items()]
    state.clear()
    state.update(items)
