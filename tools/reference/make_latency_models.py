"""Real keras.applications MobileNets for tools/latency_check.sh (untrained: latency does not
depend on weight values).

Writes into OUT (default /tmp/adascale-latency-models):
  mobilenetv2_035.h5   keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3),
                       weights=None, classes=10)
  mobilenet_025.h5     keras.applications.MobileNet(alpha=0.25, input_shape=(32, 32, 3),
                       weights=None, classes=10)

Batch-norm moving statistics are randomised so folding them is not an identity.
Run with KERAS_BACKEND=jax:  python make_latency_models.py [OUT]
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def randomize_batchnorm(model, rng):
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                    rng.uniform(-0.2, 0.2, beta.shape).astype("float32"),
                    rng.uniform(-0.2, 0.2, mean.shape).astype("float32"),
                    rng.uniform(0.5, 1.5, var.shape).astype("float32"),
                ]
            )


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/adascale-latency-models")
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(1234)
    rng = np.random.default_rng(1234)
    models = {
        "mobilenetv2_035": keras.applications.MobileNetV2(
            alpha=0.35, input_shape=(32, 32, 3), weights=None, classes=10
        ),
        "mobilenet_025": keras.applications.MobileNet(
            alpha=0.25, input_shape=(32, 32, 3), weights=None, classes=10
        ),
    }
    for name, model in models.items():
        randomize_batchnorm(model, rng)
        path = out / f"{name}.h5"
        model.save(path)
        print(f"{path}: {len(model.layers)} layers, {model.count_params():,} params")


if __name__ == "__main__":
    main()
