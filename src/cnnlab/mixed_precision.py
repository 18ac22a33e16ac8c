"""Mixed precision: ``set_global_policy('mixed_bfloat16')`` as in Keras.

``'mixed_bfloat16'`` runs the forward pass and the loss under ``torch.autocast`` with bfloat16
(CPUs with AVX-512-BF16/AMX and recent GPUs do this natively), keeping float32 weights and
optimizer state. ``'mixed_float16'`` (meant for CUDA) adds dynamic loss scaling so small
gradients do not underflow: the loss is multiplied by ``scale`` before backward, gradients are
divided by it, a step with inf/NaN gradients is skipped and the scale halves; after
``growth_interval`` good steps it doubles. ``'float32'`` (default) turns it off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch

_COMPUTE = {"float32": torch.float32, "mixed_bfloat16": torch.bfloat16,
            "mixed_float16": torch.float16}


@dataclass(frozen=True)
class Policy:
    """A dtype policy: ``name`` and the ``compute_dtype`` layers compute in."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in _COMPUTE:
            raise ValueError(f"unknown dtype policy {self.name!r}; use one of {sorted(_COMPUTE)}")

    @property
    def compute_dtype(self) -> torch.dtype:
        return _COMPUTE[self.name]

    @property
    def variable_dtype(self) -> torch.dtype:
        return torch.float32

    @property
    def mixed(self) -> bool:
        return self.name != "float32"


_policy = Policy("float32")


def set_global_policy(policy: str | Policy) -> None:
    """Set the policy every model uses from now on (Keras's ``set_global_policy``)."""
    global _policy
    _policy = policy if isinstance(policy, Policy) else Policy(str(policy))


def global_policy() -> Policy:
    """The policy models use now (``"float32"`` unless :func:`set_global_policy` changed it)."""
    return _policy


@contextlib.contextmanager
def autocast(device: torch.device) -> Iterator[None]:
    """The policy's autocast region for a forward pass on ``device`` (no-op for float32)."""
    if not _policy.mixed:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=_policy.compute_dtype):
        yield


def native_bfloat16(device: torch.device | str = "cpu") -> bool:
    """Whether ``device`` computes bfloat16 in hardware: CUDA with bf16 support, or a CPU with
    AVX-512-BF16 or AMX. Elsewhere bf16 is emulated and slower than float32."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private, hence getattr
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


class LossScaler:
    """Dynamic loss scaling for float16 training (see module docstring)."""

    def __init__(self, initial_scale: float = 2.0**15, growth_interval: int = 2000):
        self.scale, self.growth_interval, self.good_steps = initial_scale, growth_interval, 0

    def backward(self, loss: torch.Tensor) -> None:
        (loss * self.scale).backward()

    def unscale(self, params: list[torch.Tensor]) -> bool:
        """Divide gradients by the scale; return False (and shrink it) if any is not finite."""
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return True
        torch._foreach_mul_(grads, 1.0 / self.scale)
        finite = bool(torch.stack([torch.isfinite(g).all() for g in grads]).all())
        if not finite:
            self.scale, self.good_steps = self.scale / 2, 0
            return False
        self.good_steps += 1
        if self.good_steps >= self.growth_interval:
            self.scale, self.good_steps = self.scale * 2, 0
        return True


__all__ = ["LossScaler", "Policy", "autocast", "global_policy", "native_bfloat16",
           "set_global_policy"]
