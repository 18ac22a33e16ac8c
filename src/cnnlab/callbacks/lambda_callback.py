"""`LambdaCallback`: a callback made of plain functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnlab.training.callback import Callback

_HOOK_NAMES = frozenset(name for name in vars(Callback) if name.startswith("on_"))


class LambdaCallback(Callback):
    """A callback made of plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs['loss']))``.

    Hooks take positional arguments as in `Callback` (``on_train_begin(logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_batch_end(batch, logs)``, ...); any hook name is
    accepted as a keyword.
    """

    def __init__(self, **hooks: Callable[..., Any] | None) -> None:
        super().__init__()
        for name, function in hooks.items():
            if name not in _HOOK_NAMES:
                raise TypeError(
                    f"LambdaCallback: unknown hook {name!r}; expected one of "
                    f"{sorted(_HOOK_NAMES)}"
                )
            if function is not None:
                setattr(self, name, function)
