"""Data-parallel training on ``torch.distributed``: N processes, one model replica in each.

Run it (see docs/distributed.md)::

    cnnlab train --nproc-per-node 2                          # 2 processes on this machine
    torchrun --nproc-per-node 2 -m cnnlab train ...          # the same through torchrun
    torchrun --nproc-per-node 2 my_script.py                 # model.fit(..., distribute='ddp')
    torchrun --nnodes 2 --node-rank 0|1 --nproc-per-node 4 \\
             --rdzv-backend c10d --rdzv-endpoint host0:29500 my_script.py   # 2 machines

One step, with ``B = batch_size`` the **global** batch (Keras's rule under a distribution
strategy: the same ``fit`` arguments give the same training, only faster):

* global batch ``i`` holds the samples single-process ``fit`` takes at step ``i`` (same shuffle,
  same seed on every process); process ``r`` takes a contiguous part of ``n_r`` of its ``n``
  samples (``n // N`` or one more), so the parts are disjoint and together are the batch;
* each process computes the mean loss of its part and its gradient ``g_r``;
  ``DistributedDataParallel`` all-reduces ``g = sum_r (n_r / n) * g_r``, the single-process mean
  gradient, even for a ragged last batch; every process applies the same update;
* metric states (sums over samples) are summed over processes at the end of the epoch, so every
  process logs the single-process numbers.

Only process 0 prints, writes checkpoints and the run store. ``BatchNormalization`` normalizes
with each process's own part of the batch (PyTorch DDP's and Keras's default).
"""

from __future__ import annotations

import atexit
import io
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from cnnlab.layers.nest import map_structure
from cnnlab.training.callback import Callback
from cnnlab.training.data_adapter import ArrayData, Batch
from cnnlab.training.objectives import Objectives

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
BACKENDS = ("gloo", "nccl")
#: Callbacks that only write files; processes other than 0 leave them out.


# ------------------------------------------------------------------------------- the job
def is_distributed() -> bool:
    """Whether this process belongs to an initialized process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's number, ``0 .. world_size() - 1`` (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """How many processes train together (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Process 0, the one that prints and writes files."""
    return rank() == 0


def launched() -> bool:
    """Whether torchrun (or an equivalent launcher) started this process: its variables
    ``RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT`` are set."""
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


def init_from_env(backend: str | None = None, timeout: float = 600.0) -> None:
    """Join the process group described by torchrun's environment variables.

    ``backend``: ``'gloo'`` (CPU) or ``'nccl'`` (one CUDA device per process, ``LOCAL_RANK``);
    ``None`` picks nccl when CUDA is available, else gloo. ``timeout`` (seconds) bounds every
    wait for the other processes: a process that ends (an uncaught error, a crash, a kill)
    makes the others' next collective fail at once; one that stays alive without taking part
    (it caught its error, or hangs) makes them fail after ``timeout``. Does nothing when a
    process group exists already.
    """
    if is_distributed():
        return
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"init_from_env: `backend` must be one of {BACKENDS} or None, got "
                         f"{backend!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"init_from_env: `timeout` must be a positive number of seconds, got "
                         f"{timeout!r}")
    missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
    if missing:
        raise RuntimeError(f"distributed training needs the variables torchrun sets; missing "
                           f"{', '.join(missing)}. Start it with `cnnlab train --nproc-per-node "
                           f"N` or `torchrun --nproc-per-node N script.py`")
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend, timeout=timedelta(seconds=timeout))
    atexit.register(_leave)
    sys.excepthook = _exit_after_uncaught_error(sys.excepthook)


def _leave() -> None:
    """At a normal exit: wait until every process is here, then leave the group together.
    Without the barrier, a process whose peer had already torn down its side could abort in
    gloo's threads (SIGABRT, "terminate called without an active exception")."""
    if is_distributed():
        try:
            dist.barrier()
        except RuntimeError:  # a peer is gone: nothing to wait for
            pass
        dist.destroy_process_group()


def _exit_after_uncaught_error(print_error: Callable[..., None]) -> Callable[..., None]:
    """An exception hook that prints the error and ends the process with exit code 1 at once.

    A normal interpreter exit would tear down the process group, whose threads abort the
    process (SIGABRT, "terminate called without an active exception") when a peer is gone, so
    the launcher would report a signal instead of the failing process's exit code 1."""
    def hook(kind: type[BaseException], error: BaseException, trace: Any) -> None:
        print_error(kind, error, trace)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    return hook


def device() -> torch.device:
    """Where this process computes: ``cuda:LOCAL_RANK`` with nccl, else the CPU."""
    if is_distributed() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


# ------------------------------------------------------------------------------- the data
class ShardedArrays:
    """This process's part of every global batch of an :class:`ArrayData` source.

    Global batch ``i`` is what ``source.batches(generator)`` yields at step ``i`` (same order
    for the same generator state). Its ``n`` samples are cut into ``world`` contiguous parts of
    ``n // world`` or ``n // world + 1`` samples; process ``rank`` takes part ``rank``, and
    ``share = n_rank / n`` is its weight in the gradient average.

    ``training=True``: every process yields the same number of batches (each step is a
    collective); a last global batch with fewer samples than processes is skipped (at most
    ``world - 1`` samples of that epoch). ``training=False`` (evaluation, no collectives): a
    process just skips its empty parts, so every sample is evaluated once.

    Example (10 samples, ``batch_size=4``, 2 processes, no shuffle): global batches
    ``[0..3] [4..7] [8, 9]``; process 0 gets ``[0, 1] [4, 5] [8]``, process 1 ``[2, 3] [6, 7]
    [9]``.
    """

    def __init__(self, source: ArrayData, rank: int, world: int, training: bool = True):
        if not isinstance(source, ArrayData):
            what = getattr(source, "what", type(source).__name__)
            raise TypeError(f"fit(distribute='ddp') splits array data across the processes; "
                            f"got {what}: pass arrays (x, y), not a generator, Sequence or "
                            f"DataLoader")
        if not 0 <= rank < world:
            raise ValueError(f"ShardedArrays: `rank` must be in [0, {world}), got {rank}")
        if training and source.batch_size < world:
            raise ValueError(f"fit: `batch_size`={source.batch_size} is the global batch, split "
                             f"over {world} processes; it must be at least {world}")
        self.source, self.rank, self.world, self.training = source, rank, world, training
        self.share = 1.0 / world

    @property
    def num_batches(self) -> int:
        """Steps per epoch (``training``) or at most that many batches (evaluation)."""
        n, size = self.source.n, self.source.batch_size
        tail = n % size
        return n // size + (1 if tail >= self.world or (tail and not self.training) else 0)

    def part(self, n: int) -> tuple[int, int]:
        """``(start, stop)`` of this process's part of a global batch of ``n`` samples."""
        base, extra = divmod(n, self.world)
        start = self.rank * base + min(self.rank, extra)
        return start, start + base + (1 if self.rank < extra else 0)

    def batches(self, generator: torch.Generator | None = None) -> Iterator[Batch]:
        """This process's ``(x, y, sample_weight)`` parts, updating :attr:`share` for each."""
        source = self.source
        order = torch.randperm(source.n, generator=generator) if source.shuffle else None
        for first in range(0, source.n, source.batch_size):
            n = min(source.batch_size, source.n - first)
            if self.training and n < self.world:
                return
            start, stop = self.part(n)
            if start == stop:
                continue
            self.share = (stop - start) / n
            a, b = first + start, first + stop
            if order is None:
                yield _take(source, lambda t, a=a, b=b: t[a:b])
            else:
                yield _take(source, lambda t, i=order[a:b]: t.index_select(0, i))


def _take(source: ArrayData, select: Any) -> Batch:
    def pick(part: Any) -> Any:
        return None if part is None else map_structure(select, part)

    return pick(source.x), pick(source.y), pick(source.sample_weight)


def shard(source: Any, training: bool = True) -> ShardedArrays:
    """``source`` split across the processes of the current job (see :class:`ShardedArrays`)."""
    return ShardedArrays(source, rank(), world_size(), training)


# ------------------------------------------------------------------------------- the model
def wrap_model(model: torch.nn.Module, data: ShardedArrays | None = None) -> torch.nn.Module:
    """``model`` in a ``DistributedDataParallel`` whose backward all-reduces the gradients.

    Building it copies process 0's weights and buffers to every process. With ``data``, the
    gradients are averaged with the weights ``data.share`` (exact for ragged batches); without,
    evenly. ``static_graph=True`` lets layers that take no part in the loss (an output without
    a loss) stay unused. A model without trainable weights is returned as is (there is nothing
    to all-reduce; its weights are still copied from process 0). Call the wrapper like the
    model: ``ddp(x, training=True)``.
    """
    if not any(p.requires_grad for p in model.parameters()):
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, 0)
        return model
    here = device()
    if next(model.parameters()).device != here:
        model.to(here)
    ddp = torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[here.index] if here.type == "cuda" else None, static_graph=True)
    if data is not None:
        ddp.register_comm_hook(data, _weighted_mean)
    # Conv kernels with one input channel get gradients whose stride on that size-1 axis
    # differs from the parameter's; the memory order is the same and DDP copies gradients into
    # its buckets anyway, so its warning about it says nothing useful here.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    return ddp


def _weighted_mean(data: ShardedArrays, bucket):
    """DDP communication hook: ``sum_r share_r * g_r`` over the processes.

    ``bucket`` is a ``dist.GradBucket``; the result a ``Future`` of the reduced bucket. DDP
    checks those annotations as objects, which postponed (string) annotations are not.
    """
    grads = bucket.buffer().mul_(data.share)
    return dist.all_reduce(grads, async_op=True).get_future().then(lambda f: f.value()[0])


# ------------------------------------------------------------------------------- the state
def reduce_metrics(objectives: Objectives, prefix: str = "") -> dict[str, float]:
    """Sum every metric's state over the processes, then return the logs (same on every process).

    Metric states are sums over samples (the loss tracker's ``total = sum(n_b * loss_b)`` and
    ``count = sum(n_b)``, accuracy's hits and count, precision's TP/FP, ...), so the summed
    states give exactly the single-process epoch logs. One all-reduce for all of them.
    """
    if not is_distributed():
        return objectives.logs(prefix)
    states = [(m, key) for m in objectives.all_metrics() for key in type(m)._STATE]
    values = [getattr(m, key).reshape(1).to(torch.float64) for m, key in states]
    if values:
        total = torch.cat(values).to(device())
        dist.all_reduce(total)
        for (m, key), value in zip(states, total, strict=True):
            old = getattr(m, key)
            setattr(m, key, value.to(old.device, old.dtype))
    return objectives.logs(prefix)


def broadcast_object(value: Any) -> Any:
    """Process 0's ``value`` on every process: tensors, numbers, strings, lists, dicts.

    Sent as ``torch.save`` bytes and read with ``torch.load(weights_only=True)``, which builds
    only such data (a peer cannot make this process run code).
    """
    if not is_distributed():
        return value
    here = device()
    payload = torch.empty(0, dtype=torch.uint8)
    if is_main_process():
        buffer = io.BytesIO()
        torch.save(value, buffer)
        payload = torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)
    size = torch.tensor([payload.numel()], dtype=torch.int64, device=here)
    dist.broadcast(size, 0)
    if not is_main_process():
        payload = torch.empty(int(size), dtype=torch.uint8)
    data = payload.to(here)
    dist.broadcast(data, 0)
    if is_main_process():
        return value
    return torch.load(io.BytesIO(data.cpu().numpy().tobytes()), weights_only=True)


def sync_from_main(model: Any, generator: torch.Generator | None, epoch: int) -> int:
    """Make this process continue from process 0's training state; returns the first epoch.

    Process 0 may have resumed a run from its checkpoint: its optimizer state (slots, step
    counts, learning rate), its data-order generator state (the shuffling every process must
    share) and its first epoch reach every process. The weights follow when :func:`wrap_model`
    builds the DDP wrapper.
    """
    optimizer = model.optimizer
    built = optimizer is not None and optimizer.torch_optimizer is not None
    state = broadcast_object({
        "epoch": epoch,
        "generator": None if generator is None else generator.get_state(),
        "optimizer": optimizer.state_dict() if built else None})
    if not is_main_process():
        if state["generator"] is not None and generator is not None:
            generator.set_state(state["generator"])
        if state["optimizer"] is not None and built:
            optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"])


def local_callbacks(callbacks: Sequence[Callback] | None) -> list[Callback]:
    """The callbacks this process runs: all on process 0; elsewhere all but the file writers
    and progress bars (``Callback.main_process_only``). Callbacks that change training
    (EarlyStopping, ReduceLROnPlateau, ...) run everywhere and decide alike, since the epoch
    logs are equal."""
    callbacks = list(callbacks or [])
    if is_main_process():
        return callbacks
    return [c for c in callbacks if not c.main_process_only]


# ------------------------------------------------------------------------------- launching
def launch(nproc_per_node: int, argv: Sequence[str]) -> None:
    """Run ``python ARGV`` in ``nproc_per_node`` processes on this machine through torchrun
    (``torch.distributed.run --standalone``: a free local port, gloo or nccl as available).

    ``argv`` is what follows ``python``: ``['-m', 'cnnlab', 'train', ...]`` or
    ``['script.py', ...]``. Each process gets ``OMP_NUM_THREADS = cores // nproc_per_node``
    unless it is set. When a process fails, torchrun stops the others and this raises
    ``RuntimeError`` listing the processes that failed (each prints its own error).
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import main as torchrun

    if isinstance(nproc_per_node, bool) or not isinstance(nproc_per_node, int) \
            or nproc_per_node < 1:
        raise ValueError(f"launch: `nproc_per_node` must be an int >= 1, got "
                         f"{nproc_per_node!r}")
    if not argv:
        raise ValueError("launch: `argv` must name a script or '-m module', got nothing")
    threads = max(1, (os.cpu_count() or 1) // nproc_per_node)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        torchrun(["--standalone", f"--nproc-per-node={nproc_per_node}", *argv])
    except ChildFailedError as err:
        failed = ", ".join(f"process {r} exit code {f.exitcode}"
                           for r, f in sorted(err.failures.items()))
        raise RuntimeError(f"the job of {nproc_per_node} processes failed ({failed}); each "
                           f"process's own error is printed above") from None
