"""``keras.utils``: ``to_categorical``, ``normalize``, ``Sequence``, ``set_random_seed``,
``plot_model``, ``model_to_dot``, ``get_file``, the image file helpers (``load_img``,
``img_to_array``, ``array_to_img``, ``save_img``, as in Keras >= 2.9), ..."""

from cnnlab.data import image_dataset_from_directory
from cnnlab.data.get_file import get_file
from cnnlab.data.image_files import array_to_img, img_to_array, load_img, save_img
from cnnlab.keras.utils import np_utils, vis_utils
from cnnlab.keras.utils.vis_utils import model_to_dot, plot_model
from cnnlab.utils import PyDataset, Sequence, normalize, set_random_seed, to_categorical

__all__ = ["PyDataset", "Sequence", "array_to_img", "get_file", "image_dataset_from_directory",
           "img_to_array", "load_img", "model_to_dot", "normalize", "np_utils", "plot_model",
           "save_img", "set_random_seed", "to_categorical", "vis_utils"]
