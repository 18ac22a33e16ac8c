"""keras.utils.get_file: Keras's cache folder rule, no network for cached files, downloads
(from file:// URLs here), hashes, safe extraction and the offline error."""

import hashlib
import io
import tarfile
import zipfile

import pytest

from cnnlab.keras.utils import get_file


@pytest.fixture()
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv("CNNLAB_OFFLINE", raising=False)
    return home


def test_a_cached_file_is_returned_without_downloading(keras_home, monkeypatch):
    monkeypatch.setenv("CNNLAB_OFFLINE", "1")
    cached = keras_home / "datasets" / "cat.jpg"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"jpeg")
    path = get_file(fname="cat.jpg", origin="https://img-datasets.s3.amazonaws.com/cat.jpg")
    assert path == str(cached)


def test_download_from_origin_into_the_cache_and_check_the_hash(keras_home, tmp_path):
    source = tmp_path / "data.bin"
    source.write_bytes(b"payload")
    digest = hashlib.sha256(b"payload").hexdigest()
    path = get_file("data.bin", origin=source.as_uri(), file_hash=digest,
                    cache_subdir="models")
    assert path == str(keras_home / "models" / "data.bin")
    assert open(path, "rb").read() == b"payload"
    with pytest.raises(ValueError, match="does not match file_hash"):
        get_file("other.bin", origin=source.as_uri(), file_hash="0" * 64)
    assert not (keras_home / "datasets" / "other.bin").exists()
    assert get_file(origin=source.as_uri()).endswith("data.bin")  # fname from the URL


def test_offline_error_names_the_file_and_where_to_put_it(keras_home, monkeypatch):
    monkeypatch.setenv("CNNLAB_OFFLINE", "1")
    with pytest.raises(OSError, match=r"'elephant.jpg' is not in the cache .* copy the file "
                                      r"to .*keras_home/datasets/elephant.jpg"):
        get_file("elephant.jpg", origin="https://img-datasets.s3.amazonaws.com/elephant.jpg")
    with pytest.raises(ValueError, match="`origin`"):
        get_file("x.jpg")


def test_untar_and_extract_unpack_archives_safely(keras_home, tmp_path):
    archive = tmp_path / "flowers.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        data = b"rose"
        info = tarfile.TarInfo("flowers/roses/1.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    folder = get_file("flowers", origin=archive.as_uri(), untar=True)
    assert folder == str(keras_home / "datasets" / "flowers")
    assert (keras_home / "datasets" / "flowers" / "roses" / "1.txt").read_bytes() == b"rose"
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../outside.txt", "x")
    with pytest.raises(ValueError, match="outside the target folder"):
        get_file("evil.zip", origin=evil.as_uri(), extract=True)
    assert not (keras_home / "outside.txt").exists()


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_a_zip_bomb_is_refused_before_anything_is_unpacked(keras_home, tmp_path, kind):
    """CVE-2025-12060-style archives: 64 MB of zeros compress to about 64 kB (ratio ~1000)."""
    bomb = tmp_path / f"bomb.{kind}"
    zeros = b"\0" * (64 << 20)
    if kind == "zip":
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("data/zeros.bin", zeros)
    else:
        with tarfile.open(bomb, "w:gz") as t:
            info = tarfile.TarInfo("data/zeros.bin")
            info.size = len(zeros)
            t.addfile(info, io.BytesIO(zeros))
    with pytest.raises(ValueError, match=r"would unpack to 67,108,864 bytes .* not unpacked"):
        get_file(f"bomb.{kind}", origin=bomb.as_uri(), extract=True)
    assert not (keras_home / "datasets" / "data").exists()
