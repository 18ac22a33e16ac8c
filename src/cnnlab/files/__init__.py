"""Safe file primitives that every other package uses: atomic writes
(:mod:`cnnlab.files.atomic`) and checked zip archives (:mod:`cnnlab.files.archive`)."""
