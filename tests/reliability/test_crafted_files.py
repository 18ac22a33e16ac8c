"""Crafted attacks on every file loader (issue 14 item 2), modelled on Keras's CVEs: code run by
configs and Lambda layers (CVE-2024-3660, CVE-2025-1550, -8747, -9905, -9906), path traversal
and zip bombs in archives (CVE-2025-12060), plus pickles, safetensors headers, HDF5 and image
decompression bombs.

Each crafted file is refused with a ``ValueError`` whose message says why; every payload tries
to create ``MARKER`` (``os.system('touch ...')``, ``open(..., 'w')``, ``Path.touch``), and
``Attack.refused`` checks that the marker never appears and that no file anywhere under the
test's folder is created or changed (the loaders extract nothing). Each file counts in the
tally as ``files attacked / held``. Regression tests for the failures fuzzing found are marked
``# found by fuzzing``.
"""

from __future__ import annotations

import base64
import io
import json
import marshal
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import time
import types
import warnings
import zipfile
import zlib
from pathlib import Path

import loader_seeds as seeds
import numpy as np
import pytest
import safetensors.torch
import tally
import torch

from cnnlab.data import formats
from cnnlab.data.directory import _load_image
from cnnlab.data.formats import parse_pickle, read_cifar_archive, read_idx
from cnnlab.data.image_files import load_img
from cnnlab.files import archive as archive_limits
from cnnlab.io.keras_archive import load_keras_archive
from cnnlab.io.keras_weights import load_keras_h5
from cnnlab.io.saving import load_model
from cnnlab.io.torch_weights import load_torch_weights, read_torch_state_dict

h5py = pytest.importorskip("h5py")


# ------------------------------------------------------------------------------------ harness
def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*")}


class Attack:
    """A folder ``target`` holding the crafted files (the working directory during the test)
    inside ``root``; ``MARKER`` in ``root`` is what every payload tries to create."""

    def __init__(self, root: Path):
        self.root, self.dir = root, root / "target"
        self.dir.mkdir()
        self.marker = root / "MARKER"

    def file(self, name: str, data: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(data)
        return path

    def refused(self, load, match: str, error=ValueError):
        """``load()`` raises ``error`` matching ``match``; nothing ran, nothing was written."""
        before, held = tree(self.root), False
        try:
            with pytest.raises(error, match=match) as info:
                load()
            held = True
        finally:
            untouched = tree(self.root) == before and not self.marker.exists() \
                and not (self.root.parent / "MARKER").exists()
            tally.record("files attacked / held", held=held and untouched)
        assert untouched, f"files changed: {set(tree(self.root)) ^ set(before)}"
        return info.value


@pytest.fixture
def attack(tmp_path, monkeypatch):
    crafted = Attack(tmp_path)
    monkeypatch.chdir(crafted.dir)
    return crafted


class SystemPayload:
    """Unpickling this runs ``os.system('touch MARKER')``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class OpenPayload:
    """Unpickling this runs ``exec("open(MARKER, 'w').close()")``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def live(payload_class, tmp_path) -> None:
    """The payload really runs when unpickled without a safeguard (checked on a probe)."""
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(payload_class(probe)))
    assert probe.exists()
    probe.unlink()


def cnnlab_members() -> dict[str, bytes]:
    return seeds.zip_members(seeds.cnnlab_file())


def patch_declared_size(data: bytes, member: str, size: int) -> bytes:
    """Set ``member``'s uncompressed size in the central directory (a lying zip bomb)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while out[at + 46:at + 46 + len(member)] != member.encode():
        at = out.find(b"PK\x01\x02", at + 4)
    out[at + 24:at + 28] = size.to_bytes(4, "little")
    return bytes(out)


# ------------------------------------------------------------------------------------ zip bombs
@pytest.mark.parametrize("kind", ["cnnlab", "keras", "torch"])
def test_declared_huge_member_is_refused_before_reading(attack, kind):
    """A member whose central-directory size says 3 GiB (the data is small)."""
    if kind == "cnnlab":
        data, member, load = seeds.cnnlab_file(), "weights.safetensors", load_model
    elif kind == "keras":
        data, member = seeds.zip_bytes(seeds.keras3_members()), "model.weights.h5"
        load = load_keras_archive
    else:
        data = seeds.torch_file("zip")
        member = next(n for n in seeds.zip_members(data) if n.endswith("data.pkl"))
        load = read_torch_state_dict
    path = attack.file(f"bomb.{kind}", patch_declared_size(data, member, 3 << 30))
    attack.refused(lambda: load(path), r"declare \d+ bytes uncompressed.*zip bomb")


@pytest.mark.parametrize("member", ["weights.safetensors", "training_state.safetensors",
                                    "optimizer.json"])
def test_cnnlab_zip_bomb_members_are_refused(attack, member):
    """A deflated member of zeros: 40 MB from 40 kB (the cnnlab loader read it all before)."""
    members = {**cnnlab_members(), member: bytes(40 << 20)}
    path = attack.file("bomb.cnnlab", seeds.zip_bytes(members, zipfile.ZIP_DEFLATED))
    attack.refused(lambda: load_model(path), rf"{member} expands .* more than 200.*zip bomb")


def test_json_member_over_its_limit_is_refused(attack, monkeypatch):
    monkeypatch.setattr(archive_limits, "MAX_JSON_BYTES", 1000)
    members = {**cnnlab_members(), "config.json": b" " * 2000 + cnnlab_members()["config.json"]}
    path = attack.file("big.cnnlab", seeds.zip_bytes(members))
    attack.refused(lambda: load_model(path), r"config.json declares \d+ bytes, more than 1000")


def test_torch_zip_bomb_is_refused_before_torch_reads_it(attack):
    members = seeds.zip_members(seeds.torch_file("zip"))
    name = next(n for n in members if n.endswith("data.pkl"))
    members[name] = members[name] + bytes(40 << 20)
    path = attack.file("bomb.pt", seeds.zip_bytes(members, zipfile.ZIP_DEFLATED))
    attack.refused(lambda: read_torch_state_dict(path), r"data.pkl expands .* zip bomb")


def test_idx_gzip_bomb_is_refused_before_decompressing(attack):
    """100 MB of zeros behind a valid header, from a 100 kB file."""
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 100, 1000, 1000)
    stream = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    body = stream.compress(header) + stream.compress(bytes(100_000_000))
    path = attack.file("bomb-idx3-ubyte.gz", body + stream.flush())
    start = time.monotonic()
    attack.refused(lambda: read_idx(path), r"declares 100000016 bytes.*gzip bomb")
    assert time.monotonic() - start < 1


def test_idx_header_claiming_a_billion_items_is_refused(attack):
    raw = bytes([0, 0, 8, 1]) + struct.pack(">I", 10**9) + bytes(10)
    for name, data in (("lie-idx1-ubyte", raw), ("lie-idx1-ubyte.gz", seeds.gz(raw))):
        path = attack.file(name, data)
        attack.refused(lambda p=path: read_idx(p),
                       "the header .* needs 1000000000|declares 1000000008 bytes")


def test_cifar_tar_bomb_members_are_refused(attack, monkeypatch):
    """A member over the size limit (1 MiB here, 512 MiB by default) of zeros, which tar.gz
    compresses 1000 times, and an archive of 2000 empty members."""
    monkeypatch.setattr(formats, "CIFAR_MAX_MEMBER_BYTES", 1 << 20)
    big = io.BytesIO()
    with tarfile.open(fileobj=big, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = 8 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    path = attack.file("bomb-python.tar.gz", big.getvalue())
    attack.refused(lambda: read_cifar_archive(path, ["cifar-10-batches-py/data_batch_1"]),
                   r"declares 8388608 bytes, more than 1048576")
    many = seeds.tar_gz({f"f{i}": b"" for i in range(2000)})
    path = attack.file("many-python.tar.gz", many)
    attack.refused(lambda: read_cifar_archive(path, ["x"]), r"more than 1000 members")


# ------------------------------------------------------------------------------------ members
EVIL_NAMES = ["../MARKER", "../../MARKER", "/tmp/MARKER", "C:\\MARKER", "..\\MARKER",
              "assets/../../MARKER"]


@pytest.mark.parametrize("kind", ["cnnlab", "keras", "torch"])
@pytest.mark.parametrize("name", EVIL_NAMES)
def test_traversal_and_absolute_member_names_are_refused(attack, kind, name):
    if kind == "cnnlab":
        members, load = cnnlab_members(), load_model
    elif kind == "keras":
        members, load = dict(seeds.keras3_members()), load_model
    else:
        members, load = seeds.zip_members(seeds.torch_file("zip")), read_torch_state_dict
    members[name] = b"pwned"
    path = attack.file(f"evil.{kind}", seeds.zip_bytes(members))
    attack.refused(lambda: load(path), r"is an absolute path|climbs out of the archive")


def symlink_zip(members: dict[str, bytes], link: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            if name != link:
                archive.writestr(name, data)
        info = zipfile.ZipInfo(link)
        info.create_system = 3  # Unix
        info.external_attr = 0o120777 << 16  # S_IFLNK
        archive.writestr(info, target)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["cnnlab", "keras"])
def test_symlink_members_are_refused(attack, kind):
    members = cnnlab_members() if kind == "cnnlab" else dict(seeds.keras3_members())
    path = attack.file(f"link.{kind}", symlink_zip(members, "config.json", "/etc/passwd"))
    attack.refused(lambda: load_model(path), r"'config.json' is a symbolic link")


@pytest.mark.parametrize("kind", ["cnnlab", "keras"])
def test_duplicate_member_names_are_refused(attack, kind):
    """Two ``config.json``: the second names ``os.system``; zipfile reads the last one."""
    members = cnnlab_members() if kind == "cnnlab" else dict(seeds.keras3_members())
    evil = json.dumps({"format": "cnnlab-model", "version": 1, "class_name": "os.system",
                       "config": {"command": f"touch {attack.marker}"}})
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # zipfile warns: "Duplicate name"
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("config.json", evil)
    path = attack.file(f"dup.{kind}", buffer.getvalue())
    attack.refused(lambda: load_model(path), r"'config.json' appears twice")


def test_encrypted_member_is_refused(attack):
    data = bytearray(seeds.zip_bytes(cnnlab_members()))
    at = data.find(b"PK\x01\x02")
    data[at + 8] |= 1  # general purpose flag bit 0: encrypted
    path = attack.file("enc.cnnlab", bytes(data))
    attack.refused(lambda: load_model(path), r"is encrypted")


# ------------------------------------------------------------------------------------ safetensors
def with_weights(weights: bytes) -> bytes:
    return seeds.zip_bytes({**cnnlab_members(), "weights.safetensors": weights})


def test_malformed_safetensors_headers_are_refused(attack):
    original = cnnlab_members()["weights.safetensors"]
    header, body = seeds.safetensors_parts(original)
    entries = [k for k in header if k != "__metadata__"]
    first = max(entries, key=lambda k: header[k]["data_offsets"][0])  # the last in the data
    begin, end = header[first]["data_offsets"]
    assert begin > 0
    cases = {
        "length_past_end": (seeds.safetensors_join(header, body, len(original) + 10**6),
                            "header length .* does not fit"),
        "length_100mb": (seeds.safetensors_join(header, body, 100_000_001),
                         "header length 100000001 does not fit"),
        "not_json": (seeds.safetensors_join(b"{not json" + b" " * 30, body), "not valid JSON"),
        "not_object": (seeds.safetensors_join(b"[1, 2]", body), "not a JSON object"),
        "bad_shape": (seeds.safetensors_join(
            {**header, first: {**header[first], "shape": [-1]}}, body), "bad header entry"),
        "offsets_out_of_range": (seeds.safetensors_join(
            {**header, first: {**header[first], "data_offsets": [begin, 10**12]}}, body),
            "not a valid safetensors file"),
        "offsets_overlap": (seeds.safetensors_join(
            {**header, first: {**header[first], "data_offsets": [0, end - begin]}}, body),
            "not a valid safetensors file"),
        "unknown_dtype": (seeds.safetensors_join(
            {**header, first: {**header[first], "dtype": "Q9"}}, body),
            "not a valid safetensors file"),
    }
    for name, (weights, match) in cases.items():
        path = attack.file(f"{name}.cnnlab", with_weights(weights))
        attack.refused(lambda p=path: load_model(p), f"{name}.cnnlab.*{match}")


def test_a_header_over_16_mib_is_refused_before_parsing(attack):
    header, body = seeds.safetensors_parts(cnnlab_members()["weights.safetensors"])
    raw = json.dumps(header).encode() + b" " * (17 << 20)
    path = attack.file("huge_header.cnnlab", with_weights(seeds.safetensors_join(raw, body)))
    attack.refused(lambda: load_model(path), r"header declares \d+ bytes, more than 16777216")


def test_dtype_mismatch_between_file_and_model_is_refused(attack):
    tensors = safetensors.torch.load(cnnlab_members()["weights.safetensors"])
    as_int = {k: v.to(torch.int64) for k, v in tensors.items()}
    path = attack.file("ints.cnnlab", with_weights(safetensors.torch.save(as_int)))
    attack.refused(lambda: load_model(path), r"is torch.int64 in the file but torch.float32")
    as_complex = {k: v.to(torch.complex64) for k, v in tensors.items()}
    path = attack.file("complex.cnnlab", with_weights(safetensors.torch.save(as_complex)))
    attack.refused(lambda: load_model(path), r"is torch.complex64 in the file")


def test_shape_mismatch_between_config_and_weights_is_refused(attack):
    members = cnnlab_members()
    config = json.loads(members["config.json"])
    config["config"]["layers"][-1]["config"]["units"] = 4
    path = attack.file("shape.cnnlab", seeds.zip_bytes({**members, "config.json":
                                                        json.dumps(config)}))
    attack.refused(lambda: load_model(path), r"weight 'dense.kernel' has shape \(3, 18\) in the "
                                             r"file but \(4, 18\)")


@pytest.mark.parametrize("kind", ["cnnlab", "keras"])
def test_a_config_asking_for_gigabytes_is_refused_before_allocating(attack, kind):  # fuzzing
    """``Dense(units=2**24)`` on 18 (48) inputs: 1.2 (3.2) GB of kernel, initialised, before
    the weights showed that it does not fit; now compared on the meta device first."""
    if kind == "cnnlab":
        members = cnnlab_members()
        config = json.loads(members["config.json"])
        config["config"]["layers"][-1]["config"]["units"] = 2**24
        data, match = seeds.zip_bytes({**members, "config.json": json.dumps(config)}), \
            r"weight 'dense.kernel' has shape \(3, 18\) in the file but \(16777216, 18\)"
    else:
        members = dict(seeds.keras3_members())
        config = seeds.keras3_config()
        config["config"]["layers"][-1]["config"]["units"] = 2**24
        data = seeds.zip_bytes({**members, "config.json": json.dumps(config).encode()})
        match = r"has weights of shapes \[\(48, 2\), \(2,\)\] in the file.*\(48, 16777216\)"
    path = attack.file(f"huge.{kind}", data)
    start = time.monotonic()
    attack.refused(lambda: load_model(path), match)
    assert time.monotonic() - start < 3


# ------------------------------------------------------------------------------------ configs
def cnnlab_with_config(config: dict) -> bytes:
    return seeds.zip_bytes({**cnnlab_members(), "config.json": json.dumps(config)})


DOTTED = ["os.system", "builtins.eval", "subprocess.Popen", "posix.system",
          "cnnlab.io.saving.os.system", "__import__"]


@pytest.mark.parametrize("name", DOTTED)
def test_dotted_names_anywhere_in_a_cnnlab_config_are_refused(attack, name):
    command = f"touch {attack.marker}"
    base = json.loads(cnnlab_members()["config.json"])
    places = {
        "model": lambda c: c.update(class_name=name),
        "layer": lambda c: c["config"]["layers"][0].update(class_name=name),
        "activation": lambda c: c["config"]["layers"][-1]["config"].update(activation=name),
        "initializer": lambda c: c["config"]["layers"][0]["config"].update(
            kernel_initializer={"class_name": name, "config": {"command": command}}),
        "optimizer": lambda c: c["compile_config"].update(
            optimizer={"class_name": name, "config": {"command": command}}),
        "loss": lambda c: c["compile_config"].update(loss=name),
        "metric": lambda c: c["compile_config"].update(metrics=[{"class_name": name,
                                                                 "config": {}}]),
        "custom_object": lambda c: c["compile_config"].update(loss={"custom_object": name}),
    }
    for place, edit in places.items():
        config = json.loads(json.dumps(base))
        edit(config)
        path = attack.file(f"{place}.cnnlab", cnnlab_with_config(config))
        attack.refused(lambda p=path: load_model(p), rf"{place}.cnnlab.*(unknown|Unknown|"
                                                     rf"custom function|not .*callable|"
                                                     rf"cannot compile)")


def keras_with_config(config: dict) -> bytes:
    return seeds.zip_bytes({**seeds.keras3_members(), "config.json": json.dumps(config)})


@pytest.mark.parametrize("field", ["module", "registered_name", "class_name"])
@pytest.mark.parametrize("where", ["model", "layer", "initializer", "activation", "dtype"])
def test_keras3_module_and_registered_name_fields_are_refused(attack, field, where):
    evil = {"module": "keras.layers", "class_name": "Dense", "registered_name": None}
    evil[field] = {"module": "os", "registered_name": "os>system",
                   "class_name": "os.system"}[field]
    config = seeds.keras3_config()
    dense = config["config"]["layers"][-1]
    if where == "model":
        config.update(evil if field != "class_name" else {"class_name": "os.system"})
    elif where == "layer":
        dense.update({k: v for k, v in evil.items() if k != "class_name"} if field !=
                     "class_name" else {"class_name": "os.system"})
    else:
        key = {"initializer": "kernel_initializer", "activation": "activation",
               "dtype": "dtype"}[where]
        dense["config"][key] = {**evil, "class_name": evil["class_name"] if field ==
                                "class_name" else "GlorotUniform",
                                "config": {"command": f"touch {attack.marker}"}}
    path = attack.file(f"{where}_{field}.keras", keras_with_config(config))
    attack.refused(lambda: load_model(path), rf"{where}_{field}.keras.*(not supported|unknown|"
                                             rf"Unknown|custom registered|must be a name)")


def lambda_payload(marker: Path) -> str:
    """Keras 3's form of a Lambda's function: base64 of marshal'd bytecode."""
    source = f"def f(x):\n    open({str(marker)!r}, 'w').close()\n    return x\n"
    namespace: dict = {}
    exec(compile(source, "payload", "exec"), namespace)  # noqa: S102  (builds the payload)
    return base64.b64encode(marshal.dumps(namespace["f"].__code__)).decode()


def test_lambda_bytecode_is_never_run(attack, tmp_path):
    probe = tmp_path / "probe"  # the payload is live: Keras's deserialization runs it
    code = marshal.loads(base64.b64decode(lambda_payload(probe)))
    types.FunctionType(code, {"open": open})(1)
    assert probe.exists()
    function = {"class_name": "__lambda__", "config": {
        "code": lambda_payload(attack.marker), "defaults": None, "closure": None}}
    config = seeds.keras3_config()
    config["config"]["layers"].insert(2, seeds._keras_layer(
        "Lambda", "lam", function=function, arguments={}, output_shape=None))
    path = attack.file("lambda.keras", keras_with_config(config))
    attack.refused(lambda: load_model(path), r"Lambda 'lam'.*never executes")
    cnnlab_config = json.loads(cnnlab_members()["config.json"])
    cnnlab_config["config"]["layers"].insert(2, {"class_name": "Lambda", "config": {
        "name": "lam", "function": function}})
    path = attack.file("lambda.cnnlab", cnnlab_with_config(cnnlab_config))
    attack.refused(lambda: load_model(path), r"lambda.cnnlab.*cannot rebuild.*callable")
    config["config"]["layers"][2]["config"]["function"] = {
        "module": "builtins", "class_name": "function", "config": "exec",
        "registered_name": "function"}
    path = attack.file("lambda_builtin.keras", keras_with_config(config))
    attack.refused(lambda: load_model(path), r"lambda_builtin.keras.*never executes")


# ------------------------------------------------------------------------------------ pickles
@pytest.mark.parametrize("payload", [SystemPayload, OpenPayload])
def test_torch_pickle_payloads_are_refused(attack, tmp_path, payload):
    live(payload, tmp_path)
    for legacy in (False, True):
        buffer = io.BytesIO()
        torch.save({"0.weight": torch.zeros(1), "x": payload(attack.marker)}, buffer,
                   _use_new_zipfile_serialization=not legacy)
        path = attack.file(f"evil_{legacy}.pt", buffer.getvalue())
        attack.refused(lambda p=path: load_torch_weights(seeds.torch_model(), p),
                       "not a plain PyTorch state dict")
        attack.refused(lambda p=path: seeds.torch_model().load_weights(p),
                       "not a plain PyTorch state dict|not a weights file")


@pytest.mark.parametrize("payload", [SystemPayload, OpenPayload])
def test_cifar_pickle_payloads_are_refused(attack, tmp_path, payload):
    live(payload, tmp_path)
    batch = {**seeds.cifar_dict(), "labels": [payload(attack.marker)]}
    for protocol in (2, 4):
        data = pickle.dumps(batch, protocol=protocol)
        attack.refused(lambda d=data: parse_pickle(d, "data_batch_1"),
                       r"data_batch_1.*names the global (posix|os|builtins|__builtin__)")
        path = attack.file(f"evil{protocol}-python.tar.gz", seeds.tar_gz(
            {"cifar-10-batches-py/data_batch_1": data}))
        attack.refused(lambda p=path: read_cifar_archive(p, ["cifar-10-batches-py/data_batch_1"]),
                       r"data_batch_1.*nothing was executed")


def test_pickles_in_a_keras_archive_are_never_loaded(attack, tmp_path):
    live(OpenPayload, tmp_path)
    payload = pickle.dumps(OpenPayload(attack.marker))
    members = dict(seeds.keras3_members())
    for member in ("model.weights.h5", "config.json"):
        path = attack.file("pickled.keras", seeds.zip_bytes({**members, member: payload}))
        attack.refused(lambda p=path: load_model(p), "pickled.keras")
    extra = attack.file("extra.keras", seeds.zip_bytes({
        **members, "metadata.json": payload, "assets/model.pkl": payload, "model.pt": payload}))
    before = tree(attack.root)
    load_model(extra)  # members that are not read are ignored
    assert tree(attack.root) == before and not attack.marker.exists()
    tally.record("files attacked / held", held=True)


def test_billion_laughs_pickle_parses_in_linear_time():  # found by fuzzing
    """``[x, x]`` nested 40 levels deep through the memo: 2**40 items if copied."""
    data = bytearray(b"\x80\x02]q\x000")
    for i in range(1, 40):
        data += b"(h" + bytes([i - 1]) + b"h" + bytes([i - 1]) + b"lq" + bytes([i]) + b"0"
    data += b"h" + bytes([39]) + b"."
    start = time.monotonic()
    parsed = parse_pickle(bytes(data), "laughs")
    assert time.monotonic() - start < 1
    assert parsed[0] is parsed[1]  # shared, as pickle.loads shares it
    tally.record("files attacked / held", held=True)


# ------------------------------------------------------------------------------------ HDF5
def keras3_with_h5(build) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        build(f)
    return seeds.zip_bytes({**seeds.keras3_members(), "model.weights.h5": buffer.getvalue()})


def test_hdf5_external_links_and_storage_are_refused(attack):
    secret = attack.root / "secret.h5"
    with h5py.File(secret, "w") as f:
        f.create_dataset("data", data=np.ones((3, 3, 2, 3), np.float32))
    original = h5py.File(io.BytesIO(seeds.keras3_members()["model.weights.h5"]), "r")

    def copy_with(f, replace):
        for path in ("layers/conv2d/vars/1", "layers/dense/vars/0", "layers/dense/vars/1"):
            f.create_dataset(path, data=original[path][()])
        f.create_group("vars")
        replace(f)

    cases = {
        "external_link": lambda f: f.__setitem__("layers/conv2d/vars/0",
                                                 h5py.ExternalLink(str(secret), "/data")),
        "soft_link": lambda f: (f.create_dataset("elsewhere", data=np.ones((3, 3, 2, 3),
                                                                           np.float32)),
                                f.__setitem__("layers/conv2d/vars/0", h5py.SoftLink(
                                    "/elsewhere"))),
        "external_storage": lambda f: f.create_dataset(
            "layers/conv2d/vars/0", shape=(3, 3, 2, 3), dtype=np.float32,
            external=[(str(secret), 0, 216)]),
    }
    for name, replace in cases.items():
        path = attack.file(f"{name}.keras", keras3_with_h5(lambda f, r=replace: copy_with(f, r)))
        attack.refused(lambda p=path: load_model(p), rf"{name}.keras.*(Link|external)")
    original.close()


def test_hdf5_dataset_bombs_are_refused(attack):
    """Datasets that read as gigabytes from a few stored bytes: never written (fill value)
    and gzip-compressed zeros; and a dataset of strings."""
    cases = {
        "fill": lambda f: f.create_dataset("layers/dense/vars/0", shape=(1 << 30,),
                                           dtype=np.float32, fillvalue=1.0),
        "gzip": lambda f: f.create_dataset("layers/dense/vars/0", data=np.zeros(1 << 22,
                                                                                np.float32),
                                           compression="gzip", chunks=(1 << 20,)),
        "strings": lambda f: f.create_dataset("layers/dense/vars/0", data=["a", "b"],
                                              dtype=h5py.string_dtype()),
    }
    for name, build in cases.items():
        path = attack.file(f"{name}.keras", keras3_with_h5(build))
        attack.refused(lambda p=path: load_model(p),
                       rf"{name}.keras.*(expands|not numbers|more than)")


def crashing_keras2_file() -> bytes:  # found by fuzzing
    """A Keras 2 weights file whose ``backend`` attribute's string type has a mutated class
    bit field: reading the attribute segfaults h5py 3.12 (HDF5 1.14.4) and h5py 3.16 (2.0)."""
    data = bytearray(seeds.keras2_file())
    at = data.index(b"backend\x00")
    assert data[at + 8] & 0x0F == 9  # the attribute's datatype: variable length (a string)
    data[at + 9] = 59
    return bytes(data)


def test_a_file_that_crashes_hdf5_is_a_clean_error(attack):  # found by fuzzing
    path = attack.file("crash.h5", crashing_keras2_file())
    probe = subprocess.run([sys.executable, "-c", "import h5py, sys; f = h5py.File(sys.argv[1]); "
                            "[f.attrs[k] for k in f.attrs]", str(path)], capture_output=True)
    error = attack.refused(lambda: load_keras_h5(seeds.keras2_model(), path),
                           r"crash.h5 (is a damaged HDF5 file|is not a readable HDF5 file)")
    if probe.returncode < 0:  # this h5py crashes on the file: the child process took it
        assert "crashed" in str(error)
    attack.refused(lambda: seeds.keras2_model().load_weights(path), r"crash.h5")


# ------------------------------------------------------------------------------------ images
def png_header(width: int, height: int) -> bytes:
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
            ">I", zlib.crc32(kind + payload))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                            0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(bytes(1 << 16))) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(50000, 50000), (10000, 10000)])
def test_image_decompression_bombs_are_refused(attack, size):  # found by fuzzing
    """50000x50000 made PIL raise DecompressionBombError, which load_img let through;
    10000x10000 (1e8 pixels, over MAX_IMAGE_PIXELS) only warned and was decoded."""
    path = attack.file("bomb.png", png_header(*size))
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL's DecompressionBombWarning
        attack.refused(lambda: load_img(path), r"bomb.png.*(decompression bomb|exceeds limit)")
        attack.refused(lambda: _load_image(str(path), 3, (8, 8), "bilinear", False),
                       r"bomb.png.*(decompression bomb|exceeds limit)")
    assert time.monotonic() - start < 2


def test_a_broken_png_chunk_is_a_clean_error(attack):  # found by fuzzing
    """Pillow raises SyntaxError for a chunk type that is not letters, after the header."""
    data = seeds.image_bytes("PNG")
    at = data.index(b"IDAT") - 4
    n = struct.unpack(">I", data[at:at + 4])[0]
    payload = data[at + 8:at + 8 + n]

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    broken = data[:at] + chunk(b"IDAT", payload[:n // 2]) + \
        chunk(b"\xb4\xc8\xb1\x15", payload[n // 2:]) + data[at + 12 + n:]
    path = attack.file("broken.png", broken)
    attack.refused(lambda: load_img(path), r"broken.png.*SyntaxError")
    attack.refused(lambda: _load_image(str(path), 3, (8, 8), "bilinear", False),
                   r"broken.png.*SyntaxError")
