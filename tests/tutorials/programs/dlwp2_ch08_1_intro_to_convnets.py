# Deep Learning with Python (2nd ed.), chapter 8, "Introduction to convnets" (section 8.1).
# Source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/
#         chapter08_intro-to-dl-for-computer-vision.ipynb (the code cells of section 8.1).
# Changed: the import lines (tensorflow -> cnnlab) and the lines marked "# cnnlab harness"
# (MNIST stand-in: a subset of the real Fashion-MNIST; epochs may be capped).
from cnnlab import keras
from cnnlab.keras import layers
import tutorial_harness as harness  # cnnlab harness
harness.use_mnist_standin()  # cnnlab harness

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)

model.summary()

from cnnlab.keras.datasets import mnist

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()
train_images = train_images.reshape((harness.count(60000), 28, 28, 1))  # cnnlab harness: was 60000
train_images = train_images.astype("float32") / 255
test_images = test_images.reshape((harness.count(10000), 28, 28, 1))  # cnnlab harness: was 10000
test_images = test_images.astype("float32") / 255
model.compile(optimizer="rmsprop",
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"])
model.fit(train_images, train_labels, epochs=harness.epochs(5), batch_size=64)  # cnnlab harness: epochs=5

test_loss, test_acc = model.evaluate(test_images, test_labels)
print(f"Test accuracy: {test_acc:.3f}")

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model_no_max_pool = keras.Model(inputs=inputs, outputs=outputs)

model_no_max_pool.summary()
