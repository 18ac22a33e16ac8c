"""``keras.utils``: ``to_categorical``, ``normalize``, ``Sequence``, ``set_random_seed``, ..."""

from cnnlab.data import image_dataset_from_directory
from cnnlab.keras.utils import np_utils
from cnnlab.utils import PyDataset, Sequence, normalize, set_random_seed, to_categorical

__all__ = ["PyDataset", "Sequence", "image_dataset_from_directory", "normalize", "np_utils",
           "set_random_seed", "to_categorical"]
