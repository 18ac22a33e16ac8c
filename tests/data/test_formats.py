"""IDX and CIFAR readers against files written independently in the official formats."""

from __future__ import annotations

import gzip
import os
import pickle
import pickletools

import numpy as np
import pytest

from cnnlab.data.formats import cifar_batch, parse_pickle, read_cifar_archive, read_idx

# ------------------------------------------------------------------------------------ IDX


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        np.array([[-300, 2], [7, 32000]], dtype=np.int16),
        np.array([1.5, -2.25, 1e30], dtype=np.float32),
        np.array([[np.pi]], dtype=np.float64),
        np.array([3, 1, 4, 1, 5], dtype=np.int8),
    ],
)
def test_read_idx_round_trip(tmp_path, formats, array, compress):
    path = formats.write_idx(tmp_path / "a.idx.gz", array, compress=compress)
    got = read_idx(path)
    assert got.dtype == array.dtype and got.dtype.isnative
    np.testing.assert_array_equal(got, array)
    got[...] = 0  # writable, like Keras's arrays after astype


def test_read_idx_parses_header_by_hand(tmp_path):
    # 00 00 08 02 | 00000002 00000003 | 6 bytes: a 2x3 uint8 matrix, as on LeCun's page.
    path = tmp_path / "m.idx"
    path.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]))
    np.testing.assert_array_equal(read_idx(path), [[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]), "not an IDX file"),
        (bytes([0, 0, 0x0A, 1, 0, 0, 0, 1, 7]), "unknown IDX type code 0x0a"),
        (bytes([0, 0, 8, 0]), "0 dimensions"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 1]), "header truncated"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3]), "has 3 bytes but"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]), "has 3 bytes but"),
        (bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 1, 2]), "needs 4"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, raw, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_raises_naming_the_file(tmp_path, formats):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    full = gzip.compress(formats.idx_bytes(images))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match="truncated") as info:
        read_idx(path)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


def test_corrupted_gzip_crc_raises(tmp_path, formats):
    data = bytearray(gzip.compress(formats.idx_bytes(np.zeros((4, 4), np.uint8))))
    data[-8] ^= 0xFF  # the CRC-32 of the uncompressed data
    path = tmp_path / "x.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        read_idx(path)


# --------------------------------------------------------------------------- pickle parsing


class _Evil:
    """Unpickling this runs ``os.system('touch <marker>')``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _batch(n, seed=0, label_key="labels"):
    rng = np.random.default_rng(seed)
    return {
        "batch_label": "training batch 1 of 5",
        label_key: [int(v) for v in rng.integers(0, 10, n)],
        "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        "filenames": [f"img_{i}.png" for i in range(n)],
    }


def test_parse_python2_cifar_batch_matches_stdlib_unpickler(formats):
    batch = _batch(3)
    data = formats.py2_pickle(batch)
    reference = pickle.loads(data, encoding="latin1")  # trusted here: we wrote it
    parsed = parse_pickle(data)
    assert parsed.keys() == reference.keys() == batch.keys()
    np.testing.assert_array_equal(parsed["data"], batch["data"])
    assert parsed["labels"] == batch["labels"] and parsed["filenames"] == batch["filenames"]
    assert parsed["batch_label"] == reference["batch_label"]


@pytest.mark.parametrize("protocol", [3, 4])
def test_parse_python3_pickles_match_stdlib(protocol):
    obj = {"x": np.arange(12, dtype="<f8").reshape(3, 4), "y": [1, -2, 2**40], "z": (b"a", None),
           "big_endian": np.arange(5, dtype=">i4"), "flag": True, "f": 0.5}
    data = pickle.dumps(obj, protocol=protocol)
    parsed, reference = parse_pickle(data), pickle.loads(data)
    assert parsed.keys() == reference.keys()
    for key in ("x", "big_endian"):  # numpy's own unpickler may byteswap to native order
        assert parsed[key].dtype.newbyteorder("=") == reference[key].dtype.newbyteorder("=")
        np.testing.assert_array_equal(parsed[key], reference[key])
    assert [parsed[k] for k in "yz"] + [parsed["flag"], parsed["f"]] == [
        reference[k] for k in "yz"] + [True, 0.5]


def test_parse_fortran_ordered_array():
    array = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    parsed = parse_pickle(pickle.dumps(array, protocol=4))
    np.testing.assert_array_equal(parsed, array)


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_malicious_reduce_is_rejected_and_never_runs(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = pickle.dumps([_Evil(marker), 1], protocol=protocol)
    # The payload is live: the standard unpickler would run it (shown on a second marker).
    live = tmp_path / "live"
    pickle.loads(pickle.dumps(_Evil(live), protocol=protocol))
    assert live.exists()
    with pytest.raises(ValueError, match=r"batch_x: unsafe or malformed pickle.*system"):
        parse_pickle(payload, "batch_x")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (np.array([object(), 1], dtype=object), "not allowed"),  # object dtype
        (np.zeros(2, dtype=[("a", "<i4")]), "not allowed"),  # structured dtype
        (np.datetime64("2020-01-01"), "numpy"),  # numpy scalar: another global
        ({1, 2}, "EMPTY_SET"),
    ],
)
def test_non_plain_data_is_rejected(obj, message):
    with pytest.raises(ValueError, match=message):
        parse_pickle(pickle.dumps(obj, protocol=4))


def test_array_with_short_data_is_rejected():
    good = pickle.dumps(np.arange(4, dtype=np.uint8), protocol=3)
    bad = good.replace(b"C\x04\x00\x01\x02\x03", b"C\x03\x00\x01\x02")  # SHORT_BINBYTES 4 -> 3
    assert bad != good
    with pytest.raises(ValueError, match="array data has 3 bytes"):
        parse_pickle(bad)


def test_truncated_pickle_is_rejected(formats):
    data = formats.py2_pickle(_batch(2))
    with pytest.raises(ValueError, match="malformed"):
        parse_pickle(data[:-40])


def test_protocol5_out_of_band_arrays_are_refused_clearly():
    data = pickle.dumps(np.arange(3), protocol=5)
    ops = {op.name for op, _, _ in pickletools.genops(data)}
    assert "BYTEARRAY8" in ops or "STACK_GLOBAL" in ops
    with pytest.raises(ValueError, match="_frombuffer"):
        parse_pickle(data)


# --------------------------------------------------------------------------------- CIFAR


def test_cifar_batch_shapes_and_channel_layout(formats):
    batch = _batch(4)
    x, y = cifar_batch(parse_pickle(formats.py2_pickle(batch)), "labels", "b")
    assert x.shape == (4, 3, 32, 32) and x.dtype == np.uint8
    # CIFAR row layout: 1024 red, then 1024 green, then 1024 blue values, rows in order.
    n, ch, r, c = 2, 1, 5, 17
    assert x[n, ch, r, c] == batch["data"][n, ch * 1024 + r * 32 + c]
    np.testing.assert_array_equal(y, batch["labels"])


def test_cifar_batch_accepts_bytes_keys_as_pickle_encoding_bytes_gives():
    batch = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [3]}
    x, y = cifar_batch(batch, "labels", "b")
    assert x.shape == (1, 3, 32, 32) and y.tolist() == [3]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({"data": np.zeros((2, 3000), np.uint8), "labels": [0, 1]}, r"uint8 array \(N, 3072\)"),
        ({"data": np.zeros((2, 3072), np.int16), "labels": [0, 1]}, "uint8"),
        ({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, "2 images but 1 labels"),
        ({"data": np.zeros((2, 3072), np.uint8)}, "list of integers"),
        ([1, 2], "is a dict"),
    ],
)
def test_cifar_batch_validation(batch, message):
    with pytest.raises(ValueError, match=message):
        cifar_batch(batch, "labels", "somefile")


def test_read_cifar_archive_reads_members_and_reports_missing(tmp_path, formats):
    archive = formats.cifar_tar(tmp_path / "c.tar.gz", {
        "cifar-10-batches-py/data_batch_1": formats.py2_pickle(_batch(2, seed=1)),
        "cifar-10-batches-py/readme.html": b"<html/>",
    })
    parsed = read_cifar_archive(archive, ["cifar-10-batches-py/data_batch_1"])
    np.testing.assert_array_equal(
        parsed["cifar-10-batches-py/data_batch_1"]["data"], _batch(2, seed=1)["data"]
    )
    with pytest.raises(ValueError, match="no member.*test_batch"):
        read_cifar_archive(archive, ["cifar-10-batches-py/test_batch"])


def test_truncated_cifar_archive_raises_naming_it(tmp_path, formats):
    archive = formats.cifar_tar(tmp_path / "c.tar.gz", {
        "cifar-10-batches-py/data_batch_1": formats.py2_pickle(_batch(50)),
    })
    archive.write_bytes(archive.read_bytes()[:-5000])
    with pytest.raises(ValueError, match=r"c\.tar\.gz: corrupted or truncated archive"):
        read_cifar_archive(archive, ["cifar-10-batches-py/data_batch_1"])
