# TensorFlow tutorial "Convolutional Neural Network (CNN)" (tensorflow.org/tutorials/images/cnn).
# Source: https://github.com/tensorflow/docs/blob/master/site/en/tutorials/images/cnn.ipynb
# (all code cells up to `print(test_acc)`, as published on tensorflow.org).
# Changed: the import lines (tensorflow -> cnnlab) and the lines marked "# cnnlab harness":
# CIFAR-10 cannot be downloaded here, so load_data() serves learnable synthetic images with
# CIFAR-10's dtypes and shapes; the test may shrink them and cap the epochs.
from cnnlab import tf

from cnnlab.keras import datasets, layers, models
import matplotlib.pyplot as plt
import tutorial_harness as harness  # cnnlab harness
harness.use_cifar10_standin()  # cnnlab harness

(train_images, train_labels), (test_images, test_labels) = datasets.cifar10.load_data()

# Normalize pixel values to be between 0 and 1
train_images, test_images = train_images / 255.0, test_images / 255.0

class_names = ['airplane', 'automobile', 'bird', 'cat', 'deer',
               'dog', 'frog', 'horse', 'ship', 'truck']

plt.figure(figsize=(10,10))
for i in range(25):
    plt.subplot(5,5,i+1)
    plt.xticks([])
    plt.yticks([])
    plt.grid(False)
    plt.imshow(train_images[i], cmap=plt.cm.binary)
    # The CIFAR labels happen to be arrays, 
    # which is why you need the extra index
    plt.xlabel(class_names[train_labels[i][0]])
plt.show()

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))

model.summary()

model.add(layers.Flatten())
model.add(layers.Dense(64, activation='relu'))
model.add(layers.Dense(10))

model.summary()

model.compile(optimizer='adam',
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=['accuracy'])

history = model.fit(train_images, train_labels, epochs=harness.epochs(10),  # cnnlab harness: 10
                    validation_data=(test_images, test_labels))

plt.plot(history.history['accuracy'], label='accuracy')
plt.plot(history.history['val_accuracy'], label = 'val_accuracy')
plt.xlabel('Epoch')
plt.ylabel('Accuracy')
plt.ylim([0.5, 1])
plt.legend(loc='lower right')

test_loss, test_acc = model.evaluate(test_images,  test_labels, verbose=2)

print(test_acc)
