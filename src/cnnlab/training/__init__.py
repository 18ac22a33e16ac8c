"""The training loop, callbacks and the progress bar."""
