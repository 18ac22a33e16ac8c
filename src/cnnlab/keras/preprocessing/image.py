"""``keras.preprocessing.image``: image file helpers (and ``ImageDataGenerator``)."""

from cnnlab.data.image_files import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]
