"""The lecture's LeNet variant on Fashion-MNIST, written as a Keras 2 program.

Only the imports differ from the Keras version (``keras`` -> ``cnnlab.keras``).
Run: ``python examples/lenet_fashion_mnist.py [--epochs 2] [--subset N] [--seed 0]``.
SPEC reference: 1,256,080 parameters; about 0.89-0.91 test accuracy after 2 epochs.
"""

import argparse

from cnnlab.keras.datasets import fashion_mnist
from cnnlab.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from cnnlab.keras.models import Sequential
from cnnlab.keras.optimizers import Adam
from cnnlab.keras.utils import set_random_seed, to_categorical

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--subset", type=int, default=None, help="train on the first N images")
parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the shuffling")
args = parser.parse_args()
set_random_seed(args.seed)

(trainX, trainY), (testX, testY) = fashion_mnist.load_data()
if args.subset:
    trainX, trainY = trainX[: args.subset], trainY[: args.subset]
trainX = trainX.reshape((-1, 28, 28, 1)).astype("float32") / 255.0
testX = testX.reshape((-1, 28, 28, 1)).astype("float32") / 255.0
trainY, testY = to_categorical(trainY, 10), to_categorical(testY, 10)

model = Sequential()
model.add(Conv2D(20, (5, 5), padding="same", activation="relu", input_shape=(28, 28, 1)))
model.add(MaxPooling2D(pool_size=(2, 2), strides=(2, 2)))
model.add(Conv2D(50, (5, 5), padding="same", activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2), strides=(2, 2)))
model.add(Flatten())
model.add(Dense(500, activation="relu"))
model.add(Dense(10, activation="softmax"))
model.summary()

model.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=0.001),
              metrics=["accuracy"])
H = model.fit(trainX, trainY, validation_split=0.1, batch_size=128, epochs=args.epochs,
              verbose=2)
loss, accuracy = model.evaluate(testX, testY, batch_size=256, verbose=0)
print(f"test loss {loss:.4f}")
print(f"test accuracy {accuracy:.4f}")
