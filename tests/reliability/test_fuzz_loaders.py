"""Fuzzing every file loader with mutated bytes (issue 14 item 1, the loader part).

Seeds are valid files of each format (``loader_seeds``); hypothesis mutates them at three
levels: raw bytes (header bytes, boundary integers such as a dimension of 10^9, truncation,
repeated slices), archive members (one member's bytes, the others intact) and structure (a
value of config.json or of a safetensors header replaced). The property, checked by
``loader_seeds.attempt`` for every case: the load succeeds or raises ValueError, TypeError or
an OSError whose message names the file or member; nothing else escapes, no case takes 30 s,
and (``memory_bound``) no test grows the process by more than 1 GiB.

Run longer with ``CNNLAB_FUZZ_PROFILE=long`` (2000 cases a test). Each case counts in the
tally as ``fuzz cases / unclean``.
"""

from __future__ import annotations

import itertools
import json
import resource
import sys
import zipfile

import loader_seeds as seeds
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from loader_seeds import attempt, mutate, mutations

from cnnlab.data.directory import _load_image
from cnnlab.data.formats import cifar_batch, parse_pickle, read_cifar_archive, read_idx
from cnnlab.data.image_files import load_img
from cnnlab.io.keras_weights import load_keras_h5
from cnnlab.io.saving import load_model
from cnnlab.io.torch_weights import load_torch_weights

pytest.importorskip("h5py")
# HDF5 cases start a child process each (cnnlab.io.hdf5_guard): fewer of them.
FEW = settings(max_examples=max(10, settings.default.max_examples // 3),
               suppress_health_check=[HealthCheck.too_slow])
_names = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(autouse=True)
def memory_bound():
    """The peak resident size may grow by at most 1 GiB during a test."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else kB
    assert grown * scale < 1 << 30, f"peak memory grew by {grown * scale / 2**20:.0f} MiB"


def write(folder, data: bytes, suffix: str):
    """A new file per case (so that messages name it and nothing is cached across cases)."""
    path = folder / f"case{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------------ IDX
IDX_SEEDS = [np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5),
             np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
             np.array([7, -3, 300], dtype=np.int16)]


@given(seed=st.sampled_from(range(len(IDX_SEEDS))), ops=mutations(hot=24),
       compressed=st.sampled_from(["raw", "gzip then mutate", "mutate then gzip"]))
@example(seed=0, ops=[("cut", 0, 0)], compressed="raw")  # a zero-byte file
@example(seed=0, ops=[("u32be", 4, 10**9)], compressed="mutate then gzip")  # 10^9 items
@example(seed=0, ops=[("u32be", 4, 0xFFFFFFFF)], compressed="raw")
def test_read_idx(folder, seed, ops, compressed):
    data = seeds.idx_bytes(IDX_SEEDS[seed])
    if compressed == "gzip then mutate":
        data = mutate(seeds.gz(data), ops)
    elif compressed == "mutate then gzip":
        data = seeds.gz(mutate(data, ops))
    else:
        data = mutate(data, ops)
    path = write(folder, data, "-idx3-ubyte.gz")
    attempt(lambda: read_idx(path), [path.name])


# ------------------------------------------------------------------------------------ CIFAR
@given(protocol=st.sampled_from([2, 3, 4, 5]), ops=mutations(hot=48))
def test_cifar_pickle(protocol, ops):
    data = mutate(seeds.cifar_pickle(protocol), ops)
    source = f"data_batch_p{protocol}"
    attempt(lambda: cifar_batch(parse_pickle(data, source), "labels", source), [source])


@given(ops=mutations(hot=600), level=st.sampled_from(["archive", "member"]))
@example(ops=[("cut", 0, 0)], level="archive")
@example(ops=[("cut", 3, 0)], level="archive")  # found: tarfile's TypeError escaped
def test_cifar_archive(folder, ops, level):
    member = seeds.cifar_pickle(2 if level == "archive" else 4)
    if level == "member":
        data = seeds.tar_gz({"cifar-10-batches-py/data_batch_1": mutate(member, ops)})
    else:
        data = mutate(seeds.tar_gz({"cifar-10-batches-py/data_batch_1": member}), ops)
    path = write(folder, data, "-cifar-10-python.tar.gz")

    def load():
        parsed = read_cifar_archive(path, ["cifar-10-batches-py/data_batch_1"])
        cifar_batch(parsed["cifar-10-batches-py/data_batch_1"], "labels", path.name)

    attempt(load, [path.name])


# ------------------------------------------------------------------------------------ images
@given(fmt=st.sampled_from(["PNG", "JPEG", "BMP", "GIF"]), ops=mutations(hot=128),
       reader=st.sampled_from(["load_img", "image_dataset_from_directory"]))
@example(fmt="PNG", ops=[("cut", 0, 0)], reader="load_img")
@example(fmt="PNG", ops=[("u32be", 16, 50000), ("u32be", 20, 50000)], reader="load_img")
@example(fmt="PNG", ops=[("u32be", 16, 10000), ("u32be", 20, 10000)],
         reader="image_dataset_from_directory")
def test_images(folder, fmt, ops, reader):
    path = write(folder, mutate(seeds.image_bytes(fmt), ops), f".{fmt.lower()}")
    if reader == "load_img":
        attempt(lambda: load_img(path, target_size=(6, 5)), [path.name])
    else:
        attempt(lambda: _load_image(str(path), 3, (6, 5), "bilinear", False), [path.name])


# ------------------------------------------------------------------------------------ cnnlab
def load_cnnlab(path):
    return lambda: load_model(path)


@given(ops=mutations(hot=256))
def test_cnnlab_file_bytes(folder, ops):
    path = write(folder, mutate(seeds.cnnlab_file(), ops), ".cnnlab")
    attempt(load_cnnlab(path), [path.name])


@given(member=st.sampled_from(["config.json", "weights.safetensors", "optimizer.json",
                               "optimizer.safetensors"]), ops=mutations(hot=128))
def test_cnnlab_members(folder, member, ops):
    members = seeds.zip_members(seeds.cnnlab_file())
    members[member] = mutate(members[member], ops)
    path = write(folder, seeds.zip_bytes(members), ".cnnlab")
    attempt(load_cnnlab(path), [path.name])


@given(member=st.sampled_from(["config.json", "optimizer.json"]),
       edits=st.lists(seeds.json_edit(), min_size=1, max_size=3))
# found: loss_weights '' raised a ValueError without the file name, restoring the optimizer
@example(member="config.json", edits=[(506, 4, "")])
def test_cnnlab_json(folder, member, edits):
    members = seeds.zip_members(seeds.cnnlab_file())
    tree = json.loads(members[member])
    for edit in edits:
        tree = seeds.edit_json(tree, edit)
    members[member] = json.dumps(tree).encode()
    path = write(folder, seeds.zip_bytes(members), ".cnnlab")
    attempt(load_cnnlab(path), [path.name])


@given(member=st.sampled_from(["weights.safetensors", "optimizer.safetensors"]),
       edits=st.lists(seeds.json_edit(), min_size=1, max_size=3),
       length=st.sampled_from([None, 0, 7, 2**31, 2**63, 100_000_001]))
def test_cnnlab_safetensors_header(folder, member, edits, length):
    members = seeds.zip_members(seeds.cnnlab_file())
    header, body = seeds.safetensors_parts(members[member])
    for edit in edits:
        header = seeds.edit_json(header, edit)
    members[member] = seeds.safetensors_join(header, body, length)
    path = write(folder, seeds.zip_bytes(members), ".cnnlab")
    attempt(load_cnnlab(path), [path.name])


# ------------------------------------------------------------------------------------ Keras 3
@given(level=st.sampled_from(["archive", "config.json", "metadata.json"]),
       ops=mutations(hot=256))
def test_keras3_archive_bytes(folder, level, ops):
    members = dict(seeds.keras3_members())
    if level == "archive":
        data = mutate(seeds.zip_bytes(members, zipfile.ZIP_DEFLATED), ops)
    else:
        members[level] = mutate(members[level], ops)
        data = seeds.zip_bytes(members)
    path = write(folder, data, ".keras")
    attempt(load_cnnlab(path), [path.name])


@given(edits=st.lists(seeds.json_edit(), min_size=1, max_size=3))
@example(edits=[(344776, 3, {})])  # found: a layer name {} (TypeError: unhashable)
def test_keras3_config(folder, edits):
    members = dict(seeds.keras3_members())
    tree = seeds.keras3_config()
    for edit in edits:
        tree = seeds.edit_json(tree, edit)
    members["config.json"] = json.dumps(tree).encode()
    path = write(folder, seeds.zip_bytes(members), ".keras")
    attempt(load_cnnlab(path), [path.name])


@FEW
@given(ops=mutations(hot=1024))
@example(ops=[("repeat", 139, 2)])  # found: RuntimeError "bad local heap signature"
def test_keras3_weights_member(folder, ops):
    members = dict(seeds.keras3_members())
    members["model.weights.h5"] = mutate(members["model.weights.h5"], ops)
    path = write(folder, seeds.zip_bytes(members), ".keras")
    attempt(load_cnnlab(path), [path.name])


# ------------------------------------------------------------------------------------ Keras 2
@FEW
@given(ops=mutations(hot=2048))
@example(ops=[("cut", 0, 0)])
@example(ops=[("byte", 921, 59)])  # found: segfault reading the 'backend' attribute
def test_keras2_h5(folder, ops):
    path = write(folder, mutate(seeds.keras2_file(), ops), ".h5")
    model = seeds.keras2_model()
    attempt(lambda: load_keras_h5(model, path), [path.name])


# ------------------------------------------------------------------------------------ PyTorch
@given(kind=st.sampled_from(["zip", "legacy", "safetensors"]), ops=mutations(hot=512),
       level=st.sampled_from(["file", "data.pkl"]))
@example(kind="zip", ops=[("cut", 0, 0)], level="file")
@example(kind="legacy", ops=[("cut", 28, 0)], level="file")  # found: struct.error escaped
@example(kind="legacy", ops=[("byte", 362, 0)], level="file")  # found: AssertionError
@example(kind="safetensors", ops=[("byte", 82, 32)], level="file")  # found: unnamed file
# found by the long profile: an end record claiming many disks made zipfile.is_zipfile raise
@example(kind="zip", ops=[("repeat", 0, 19), ("u32le", 9224291, 2_147_483_647)], level="file")
def test_torch_files(folder, kind, ops, level):
    data = seeds.torch_file(kind)
    if level == "data.pkl" and kind == "zip":
        members = seeds.zip_members(data)
        name = next(n for n in members if n.endswith("data.pkl"))
        members[name] = mutate(members[name], ops)
        data = seeds.zip_bytes(members)
    else:
        data = mutate(data, ops)
    path = write(folder, data, ".pt")
    model = seeds.torch_model()
    attempt(lambda: load_torch_weights(model, path, architecture="sequential"), [path.name])


# ------------------------------------------------------------------------------------ any file
@FEW
@given(kind=st.sampled_from(["cnnlab", "keras3", "keras2", "torch", "safetensors"]),
       ops=mutations(hot=256))
def test_load_weights_recognises_mutated_files(folder, kind, ops):
    """``model.load_weights`` tells the format from the content: the recognisers see the
    mutated bytes first."""
    data = {"cnnlab": seeds.cnnlab_file, "keras3": lambda: seeds.zip_bytes(
        seeds.keras3_members()), "keras2": seeds.keras2_file,
        "torch": lambda: seeds.torch_file("zip"),
        "safetensors": lambda: seeds.torch_file("safetensors")}[kind]()
    path = write(folder, mutate(data, ops), ".weights")
    model = {"cnnlab": seeds.cnnlab_model, "keras2": seeds.keras2_model}.get(
        kind, seeds.torch_model)()
    attempt(lambda: model.load_weights(path), [path.name])
