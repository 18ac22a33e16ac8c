# Deep Learning with Python (1st ed.), notebook 5.1 "Introduction to convnets".
# Source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/
#         first_edition/5.1-introduction-to-convnets.ipynb (the code cells, in order).
# Changed: the import lines (keras -> cnnlab.keras) and the lines marked "# cnnlab harness":
# MNIST cannot be downloaded here, so load_data() serves a same-shape stand-in (a subset of
# the real Fashion-MNIST), and the test may cap the epochs.
from cnnlab import keras
import tutorial_harness as harness  # cnnlab harness
harness.use_mnist_standin()  # cnnlab harness

keras.__version__

from cnnlab.keras import layers
from cnnlab.keras import models

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))

model.summary()

model.add(layers.Flatten())
model.add(layers.Dense(64, activation='relu'))
model.add(layers.Dense(10, activation='softmax'))

model.summary()

from cnnlab.keras.datasets import mnist
from cnnlab.keras.utils import to_categorical

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()

train_images = train_images.reshape((harness.count(60000), 28, 28, 1))  # cnnlab harness: was 60000
train_images = train_images.astype('float32') / 255

test_images = test_images.reshape((harness.count(10000), 28, 28, 1))  # cnnlab harness: was 10000
test_images = test_images.astype('float32') / 255

train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
model.fit(train_images, train_labels, epochs=harness.epochs(5), batch_size=64)  # cnnlab harness: epochs=5

test_loss, test_acc = model.evaluate(test_images, test_labels)

test_acc
print('test_acc:', test_acc)  # cnnlab harness: the notebook displays the cell's value
