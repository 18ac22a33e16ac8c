"""Keras layers on PyTorch."""
