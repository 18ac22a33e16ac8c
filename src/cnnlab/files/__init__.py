"""Safe file primitives that every other package uses: atomic writes
(:mod:`cnnlab.files.atomic`) and checked zip archives (:mod:`cnnlab.files.archive`)."""

__all__: list[str] = []  # internal: import the modules themselves
