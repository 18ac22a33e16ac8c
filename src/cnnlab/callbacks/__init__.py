"""Keras callbacks: ``from cnnlab.callbacks import EarlyStopping, ModelCheckpoint``.

A callback's hooks run at the boundaries of training, testing and predicting (see
:mod:`cnnlab.training.callback` for the order and the logs). The base class, `CallbackList`,
`History` and `ProgbarLogger` live in :mod:`cnnlab.training`, which the models use; the
callbacks users pass to ``fit`` live here, one per module. Semantics, messages and warnings
follow tf.keras 2.15.
"""

from cnnlab.callbacks.csv_logger import CSVLogger
from cnnlab.callbacks.early_stopping import EarlyStopping
from cnnlab.callbacks.lambda_callback import LambdaCallback
from cnnlab.callbacks.learning_rate_scheduler import LearningRateScheduler
from cnnlab.callbacks.model_checkpoint import ModelCheckpoint
from cnnlab.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from cnnlab.callbacks.tensorboard import TensorBoard
from cnnlab.callbacks.terminate_on_nan import TerminateOnNaN
from cnnlab.training.callback import Callback
from cnnlab.training.callback_list import CallbackList
from cnnlab.training.history import History
from cnnlab.training.progbar_logger import ProgbarLogger

__all__ = ["CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
           "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger",
           "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN"]
