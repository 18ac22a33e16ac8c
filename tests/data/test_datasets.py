"""Dataset loaders and the find-or-download logic, on small files in the official formats."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import os
import pickle
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from cnnlab.data.datasets import cifar10, cifar100, digits, fashion_mnist, mnist
from cnnlab.data.download import DatasetNotFoundError, DataSource, RemoteFile, fetch

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def _mnist_like(folder: Path, formats, n_train=5, n_test=3, seed=0):
    """Write the four IDX files; return the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        formats.write_idx(folder / name, array)
    return arrays


# ----------------------------------------------------------------------------- MNIST family


@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_mnist_like_load_data_from_path(tmp_path, formats, monkeypatch, module):
    arrays = _mnist_like(tmp_path / "files", formats)
    monkeypatch.setattr(module, "SOURCE", formats.pinned(module.SOURCE, tmp_path / "files"))
    (x_train, y_train), (x_test, y_test) = module.load_data(path=tmp_path / "files")
    expected = list(arrays.values())
    for got, want in zip((x_train, y_train, x_test, y_test), expected, strict=True):
        assert got.dtype == np.uint8 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_cnnlab_data_environment_folder_is_searched(tmp_path, formats, monkeypatch):
    arrays = _mnist_like(tmp_path / "data" / "fashion-mnist", formats)
    source = formats.pinned(fashion_mnist.SOURCE, tmp_path / "data" / "fashion-mnist")
    monkeypatch.setattr(fashion_mnist, "SOURCE", dataclasses.replace(source, system_dirs=()))
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data"))
    (x_train, _), _ = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])


def test_mismatched_image_and_label_counts(tmp_path, formats, monkeypatch):
    _mnist_like(tmp_path, formats)
    formats.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    monkeypatch.setattr(mnist, "SOURCE", formats.pinned(mnist.SOURCE, tmp_path))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: expected 5 uint8 labels"):
        mnist.load_data(path=tmp_path)


def test_truncated_gzip_in_dataset_is_an_error(tmp_path, formats, monkeypatch):
    _mnist_like(tmp_path, formats)
    target = tmp_path / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-30])
    monkeypatch.setattr(mnist, "SOURCE", formats.pinned(mnist.SOURCE, tmp_path))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz: corrupted or truncated"):
        mnist.load_data(path=tmp_path)


def test_offline_without_copy_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "envdata"))
    source = dataclasses.replace(fashion_mnist.SOURCE, system_dirs=(str(tmp_path / "system"),))
    monkeypatch.setattr(fashion_mnist, "SOURCE", source)
    (tmp_path / "given").mkdir()
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist.load_data(path=tmp_path / "given")
    message = str(info.value)
    for place in (tmp_path / "given", tmp_path / "envdata" / "fashion-mnist",
                  tmp_path / "xdg-cache" / "cnnlab" / "fashion-mnist", tmp_path / "system"):
        assert str(place) in message
    assert "CNNLAB_OFFLINE" in message and "apt install dataset-fashion-mnist" in message
    assert "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels" in message
    assert isinstance(info.value, FileNotFoundError)


def test_path_must_be_a_folder(tmp_path):
    with pytest.raises(ValueError, match="path= must be a folder.*does not exist"):
        mnist.load_data(path=tmp_path / "nope")


def test_copy_with_unknown_checksum_is_skipped_with_warning(tmp_path, formats, monkeypatch):
    good = _mnist_like(tmp_path / "system", formats, seed=1)
    _mnist_like(tmp_path / "given", formats, seed=2)  # same names, other bytes
    source = formats.pinned(mnist.SOURCE, tmp_path / "system")
    monkeypatch.setattr(mnist, "SOURCE", dataclasses.replace(
        source, system_dirs=(str(tmp_path / "system"),)))
    with pytest.warns(UserWarning, match="skipped .*given.*SHA-256"):
        (x_train, _), _ = mnist.load_data(path=tmp_path / "given")
    np.testing.assert_array_equal(x_train, good["train-images-idx3-ubyte.gz"])


def test_search_order_prefers_path_over_cache(tmp_path):
    for folder, text in ((tmp_path / "given", b"given"),
                         (tmp_path / "xdg-cache" / "cnnlab" / "toy", b"cached")):
        folder.mkdir(parents=True)
        (folder / "f.bin").write_bytes(text)
    digests = tuple(hashlib.sha256(t).hexdigest() for t in (b"cached", b"given"))
    source = DataSource("toy", (RemoteFile("f.bin", digests, ()),))
    assert fetch(source, tmp_path / "given")["f.bin"] == tmp_path / "given" / "f.bin"
    assert fetch(source)["f.bin"] == tmp_path / "xdg-cache" / "cnnlab" / "toy" / "f.bin"


# ------------------------------------------------------------------------------- download


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving ``tmp_path / 'www'``; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    httpd.shutdown()
    httpd.server_close()


def _served_file(root: Path, name: str, size: int = 3_000_000) -> bytes:
    data = np.random.default_rng(3).integers(0, 256, size, dtype=np.uint8).tobytes()
    (root / name).write_bytes(data)
    return data


def test_download_verifies_and_writes_atomically_into_cache(server, monkeypatch, capsys):
    base, root = server
    data = _served_file(root, "blob.bin")
    monkeypatch.delenv("CNNLAB_OFFLINE")
    file = RemoteFile("blob.bin", (hashlib.sha256(data).hexdigest(),),
                      (base + "missing/blob.bin", base + "blob.bin"))  # first mirror: 404
    path = fetch(DataSource("toy", (file,)))["blob.bin"]
    assert path == Path(os.environ["XDG_CACHE_HOME"]) / "cnnlab" / "toy" / "blob.bin"
    assert path.read_bytes() == data
    assert sorted(p.name for p in path.parent.iterdir()) == ["blob.bin"]  # no .part left
    err = capsys.readouterr().err
    assert f"Downloading data from {base}blob.bin" in err and "100%" in err
    (root / "blob.bin").unlink()  # now only the cache has it
    monkeypatch.setenv("CNNLAB_OFFLINE", "1")
    assert fetch(DataSource("toy", (file,)))["blob.bin"] == path


def test_download_with_wrong_checksum_leaves_nothing(server, monkeypatch):
    base, root = server
    _served_file(root, "blob.bin")
    monkeypatch.delenv("CNNLAB_OFFLINE")
    file = RemoteFile("blob.bin", ("0" * 64,), (base + "blob.bin",))
    mismatch = r"(?s)blob\.bin: SHA-256 mismatch: got [0-9a-f]{64}, expected 0{64}"
    with pytest.raises(DatasetNotFoundError, match=mismatch):
        fetch(DataSource("toy", (file,)))
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "cnnlab" / "toy"
    assert list(cache.iterdir()) == []


def test_stale_cache_copy_is_replaced_by_download(server, monkeypatch):
    base, root = server
    data = _served_file(root, "blob.bin", size=1000)
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "cnnlab" / "toy"
    cache.mkdir(parents=True)
    (cache / "blob.bin").write_bytes(data[:500])  # an interrupted copy from elsewhere
    monkeypatch.delenv("CNNLAB_OFFLINE")
    file = RemoteFile("blob.bin", (hashlib.sha256(data).hexdigest(),), (base + "blob.bin",))
    with pytest.warns(UserWarning, match="skipped"):
        path = fetch(DataSource("toy", (file,)))["blob.bin"]
    assert path.read_bytes() == data


# ----------------------------------------------------------------------------------- CIFAR


def _cifar_rows(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 100, n).tolist()


def _expected_images(rows):
    """Channels-last images from CIFAR rows by the format's index formula, pixel by pixel."""
    n, r, c, ch = np.indices((len(rows), 32, 32, 3))
    return rows[n, ch * 1024 + r * 32 + c]


def _cifar10_archive(folder: Path, formats, per_batch=2):
    folder.mkdir(parents=True, exist_ok=True)
    members, rows, labels = {}, [], []
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data, lab = _cifar_rows(per_batch, seed=i)
        lab = [v % 10 for v in lab]
        members[f"cifar-10-batches-py/{name}"] = formats.py2_pickle(
            {"batch_label": f"batch {i}", "labels": lab, "data": data,
             "filenames": [f"f{i}_{j}.png" for j in range(per_batch)]})
        rows.append(data)
        labels.append(lab)
    members["cifar-10-batches-py/batches.meta"] = formats.py2_pickle({"num_vis": 3072})
    formats.cifar_tar(folder / "cifar-10-python.tar.gz", members)
    return rows, labels


def test_cifar10_load_data(tmp_path, formats, monkeypatch):
    rows, labels = _cifar10_archive(tmp_path, formats)
    monkeypatch.setattr(cifar10, "SOURCE", formats.pinned(cifar10.SOURCE, tmp_path))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=tmp_path)
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert y_train.shape == (10, 1) and y_test.shape == (2, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(x_train, _expected_images(np.concatenate(rows[:5])))
    np.testing.assert_array_equal(x_test, _expected_images(rows[5]))
    np.testing.assert_array_equal(y_train[:, 0], sum(labels[:5], []))
    np.testing.assert_array_equal(y_test[:, 0], labels[5])


def test_cifar10_archive_with_malicious_pickle_never_runs_it(tmp_path, formats, monkeypatch):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    _cifar10_archive(tmp_path, formats)
    data, _ = _cifar_rows(2, 0)
    evil = pickle.dumps({"labels": Evil(), "data": data}, protocol=2)
    members = {f"cifar-10-batches-py/data_batch_{k}": formats.py2_pickle(
        {"labels": [0, 1], "data": data}) for k in range(2, 6)}
    members["cifar-10-batches-py/data_batch_1"] = evil
    members["cifar-10-batches-py/test_batch"] = members["cifar-10-batches-py/data_batch_2"]
    formats.cifar_tar(tmp_path / "cifar-10-python.tar.gz", members)
    monkeypatch.setattr(cifar10, "SOURCE", formats.pinned(cifar10.SOURCE, tmp_path))
    with pytest.raises(ValueError, match="data_batch_1: unsafe or malformed pickle.*system"):
        cifar10.load_data(path=tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_load_data(tmp_path, formats, monkeypatch, label_mode):
    parts = {}
    for seed, name in enumerate(("train", "test")):
        data, fine = _cifar_rows(3 + seed, seed)
        coarse = [v // 5 for v in fine]
        parts[name] = (data, fine if label_mode == "fine" else coarse)
        parts[f"cifar-100-python/{name}"] = formats.py2_pickle(
            {"filenames": ["a"] * len(fine), "batch_label": name, "fine_labels": fine,
             "coarse_labels": coarse, "data": data})
    formats.cifar_tar(tmp_path / "cifar-100-python.tar.gz",
                      {k: v for k, v in parts.items() if "/" in k})
    monkeypatch.setattr(cifar100, "SOURCE", formats.pinned(cifar100.SOURCE, tmp_path))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode, path=tmp_path)
    assert x_train.shape == (3, 32, 32, 3) and x_test.shape == (4, 32, 32, 3)
    assert y_train.shape == (3, 1) and y_train.dtype == np.int64  # what Keras really returns
    np.testing.assert_array_equal(x_train, _expected_images(parts["train"][0]))
    np.testing.assert_array_equal(y_train[:, 0], parts["train"][1])
    np.testing.assert_array_equal(y_test[:, 0], parts["test"][1])


def test_cifar100_rejects_unknown_label_mode():
    with pytest.raises(ValueError, match="label_mode must be 'fine' or 'coarse', got 'medium'"):
        cifar100.load_data("medium")


# ---------------------------------------------------------------------------------- digits


def test_digits_is_sklearn_data_split_reproducibly():
    from sklearn.datasets import load_digits

    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)  # int(1797 * 0.8)
    assert x_train.dtype == y_train.dtype == np.uint8 and x_train.max() == 16
    # Same examples as scikit-learn's, each once (compare sorted rows with labels attached).
    bunch = load_digits()
    ours = np.concatenate([np.concatenate([x_train, x_test]).reshape(-1, 64),
                           np.concatenate([y_train, y_test])[:, None]], axis=1)
    ref = np.concatenate([bunch.images.reshape(-1, 64), bunch.target[:, None]], axis=1)
    def rows_sorted(a):
        return a[np.lexsort(a.T[::-1])]

    np.testing.assert_array_equal(rows_sorted(ours), rows_sorted(ref.astype(np.uint8)))
    again = digits.load_data()[0][0]
    other = digits.load_data(seed=1)[0][0]
    assert np.array_equal(again, x_train) and not np.array_equal(other, x_train)


def test_digits_without_sklearn_raises_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="needs scikit-learn.*pip install scikit-learn"):
        digits.load_data()


# ------------------------------------------------------------------------- real data (slow)


@pytest.mark.slow
@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian dataset-fashion-mnist missing")
def test_real_fashion_mnist_from_debian_package():
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    elapsed = time.perf_counter() - start
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    # Fashion-MNIST is balanced: 6000 training and 1000 test images per class 0..9.
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    # First training image: its pixels are bytes 16..16+784 of the raw file (IDX header 16).
    with gzip.open(DEBIAN_FASHION / "train-images-idx3-ubyte.gz") as f:
        raw = f.read(16 + 784)
    assert int(x_train[0].sum()) == sum(raw[16:])
    with gzip.open(DEBIAN_FASHION / "train-labels-idx1-ubyte.gz") as f:
        assert y_train[0] == f.read(9)[8]
    print(f"fashion_mnist.load_data(): {elapsed:.2f} s")
