"""A functional CNN with a skip connection (ResNet's ``a[l+2] = g(z[l+2] + a[l])``) on the
8x8 digits bundled with scikit-learn, written the TensorFlow 2 way (``from cnnlab import tf``).

Run: ``python examples/digits_functional_skip.py``; prints the test accuracy (about 0.95+).
"""

import numpy as np

from cnnlab import tf
from cnnlab.datasets import digits

(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train[..., None].astype("float32") / 16.0
x_test = x_test[..., None].astype("float32") / 16.0

inputs = tf.keras.Input(shape=(8, 8, 1))
a = tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
z = tf.keras.layers.Conv2D(16, 3, padding="same")(a)
z = tf.keras.layers.BatchNormalization()(z)
z = tf.keras.layers.Conv2D(16, 3, padding="same")(z)
a = tf.keras.layers.Activation("relu")(tf.keras.layers.Add()([z, a]))
x = tf.keras.layers.Flatten()(tf.keras.layers.MaxPooling2D(2)(a))
outputs = tf.keras.layers.Dense(10, activation="softmax")(x)
model = tf.keras.Model(inputs, outputs, name="skip_net")
model.summary()

tf.random.set_seed(0)
model.compile(optimizer=tf.keras.optimizers.Adam(0.003),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
model.fit(x_train, y_train, epochs=10, batch_size=64, validation_split=0.1, verbose=2)
probabilities = model.predict(x_test, verbose=0)
print("test accuracy", float(np.mean(probabilities.argmax(axis=1) == y_test)))
