"""The training loop and what it needs (internal: import the modules themselves).

``loop`` (the step functions and epochs), ``data_adapter`` (arrays, generators, ``Sequence``,
``DataLoader`` -> batches), ``objectives`` (losses and metrics per output), ``callback`` /
``callback_list`` / ``history`` / ``progbar_logger`` (the hooks the loop calls; the Keras
callbacks users pass are :mod:`cnnlab.callbacks`), ``distributed`` (DDP), ``trainability``,
``validity``, ``allocator``.
"""

__all__: list[str] = []
