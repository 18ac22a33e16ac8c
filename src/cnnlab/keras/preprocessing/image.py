"""``keras.preprocessing.image``: image file helpers (and ``ImageDataGenerator``)."""

from cnnlab.data.image_files import array_to_img, img_to_array, load_img, save_img
from cnnlab.data.image_generator import ImageDataGenerator
from cnnlab.data.image_iterators import DirectoryIterator, NumpyArrayIterator

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "DirectoryIterator",
           "ImageDataGenerator", "NumpyArrayIterator"]
