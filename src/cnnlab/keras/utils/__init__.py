"""``keras.utils``: ``to_categorical``, ``normalize``, ``Sequence``, ``set_random_seed``,
``plot_model``, ``model_to_dot``, ..."""

from cnnlab.data import image_dataset_from_directory
from cnnlab.keras.utils import np_utils, vis_utils
from cnnlab.keras.utils.vis_utils import model_to_dot, plot_model
from cnnlab.utils import PyDataset, Sequence, normalize, set_random_seed, to_categorical

__all__ = ["PyDataset", "Sequence", "image_dataset_from_directory", "model_to_dot",
           "normalize", "np_utils", "plot_model", "set_random_seed", "to_categorical",
           "vis_utils"]
