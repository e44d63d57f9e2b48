"""How far can a GAP head take the Fashion-MNIST CNN fixture? A reference in real Keras (JAX).

The `gap-head` row of docs/operators.md "Measured" misses 1.5 points after one epoch. This asks
Keras itself, independently of adascale: the fixture's conv1…relu2 (+ pool2) with their weights,
then GlobalAveragePooling2D and a Dense(10) fitted by ridge least squares to the teacher's
centred log-probabilities on the first 1,024 training images (as `GAPHead.fitHeads` does), then
trained by distillation (α 0.7, T 4, Adam, batch 64, seed 0) or plain cross-entropy.

    . tools/reference/venv.sh && $(keras_python) tools/reference/gap_head_ceiling.py \
        --variant pool2 --run ceil15      # 15 epochs, cosine from 1e-3: the ceiling

runs: init | kd_1e-3_const | kd_1e-3_cos | kd_3e-3_const | kd_3e-3_cos | ce_1e-3_cos
      | kd_1e-3_cos_frozenbn | ceil15         (kd: distillation, ce: labels only)
variant: pool2 (GAP after pool2) | relu2 (GAP replaces pool2)

Measured 2026-11-30, Keras 3.15.1, one thread (test accuracy, original 90.78 %): LS init 72.23
(pool2) / 72.65 (relu2); one epoch kd 1e-3 cos 83.31 / 82.64, kd 3e-3 cos 84.34 / 83.74, ce 1e-3
cos 84.60 / 84.84; 15 epochs kd cos 1e-3 (pool2): 82.04, 84.14, 87.22, 87.65 after epochs 1, 5,
10, 15 (flat from epoch 12). One JSON line per run goes to --out (and stdout).
"""
import argparse
import gzip
import json
import math
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import keras
from keras import ops

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Tests/Fixtures/keras/fmnist_cnn.h5")
DATA = os.environ.get("ADASCALE_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
BATCH, T, ALPHA = 64, 4.0, 0.7


def idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data():
    xtr = idx("train-images-idx3-ubyte.gz").astype(np.float32)[..., None] / 255.0
    ytr = idx("train-labels-idx1-ubyte.gz").astype(np.int32)
    xte = idx("t10k-images-idx3-ubyte.gz").astype(np.float32)[..., None] / 255.0
    yte = idx("t10k-labels-idx1-ubyte.gz").astype(np.int32)
    return xtr, ytr, xte, yte


def build_student(teacher, variant, frozen_bn=False):
    """conv1..relu2 (+pool2 for variant 'pool2') copied from teacher, GAP, Dense(10) logits."""
    inp = keras.Input((28, 28, 1))
    h = inp
    names = ["conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2"]
    if variant == "pool2":
        names.append("pool2")
    for n in names:
        src = teacher.get_layer(n)
        layer = src.__class__.from_config(src.get_config())
        h = layer(h)
        layer.set_weights(src.get_weights())
        if frozen_bn and isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # Keras 3: frozen BN runs in inference mode
    feat = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    # linear head; softmax(head) is the deployed output, argmax/log-softmax identical
    out = keras.layers.Dense(10, name="head")(feat)
    model = keras.Model(inp, out)
    features = keras.Model(inp, feat)
    return model, features


def ls_init(model, features, x, teacher_logp):
    G = np.asarray(features.predict(x, batch_size=256, verbose=0), np.float64)
    G = np.concatenate([G, np.ones((G.shape[0], 1))], 1)
    Y = teacher_logp.astype(np.float64)
    Y = Y - Y.mean(1, keepdims=True)
    GtG = G.T @ G
    C = G.shape[1]  # number of columns incl. bias -> lambda = 1e-3 * mean diagonal
    lam = 1e-3 * np.trace(GtG) / C
    W = np.linalg.solve(GtG + lam * np.eye(C), G.T @ Y)
    model.get_layer("head").set_weights([W[:-1].astype(np.float32), W[-1].astype(np.float32)])
    return lam


def kd_loss(y_true, y_pred):
    # y_true: [B, 11] = (label, teacher log-probs)
    label = ops.cast(y_true[:, 0], "int32")
    t = y_true[:, 1:]
    ls_s_T = ops.log_softmax(y_pred / T, axis=-1)
    ls_t_T = ops.log_softmax(t / T, axis=-1)
    kl = ops.sum(ops.exp(ls_t_T) * (ls_t_T - ls_s_T), axis=-1)
    ce = -ops.take_along_axis(ops.log_softmax(y_pred, axis=-1), label[:, None], axis=-1)[:, 0]
    return ALPHA * T * T * kl + (1 - ALPHA) * ce


def ce_loss(y_true, y_pred):
    label = ops.cast(y_true[:, 0], "int32")
    return -ops.take_along_axis(ops.log_softmax(y_pred, axis=-1), label[:, None], axis=-1)[:, 0]


def acc(model, x, y):
    p = np.asarray(model.predict(x, batch_size=1000, verbose=0))
    return float((p.argmax(1) == y).mean() * 100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=["pool2", "relu2"], required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", default="gap_head_ceiling.jsonl")
    a = ap.parse_args()

    keras.utils.set_random_seed(0)
    xtr, ytr, xte, yte = load_data()
    teacher = keras.models.load_model(FIX, compile=False)
    ptr = np.asarray(teacher.predict(xtr, batch_size=1000, verbose=0), np.float64)
    pte = np.asarray(teacher.predict(xte, batch_size=1000, verbose=0))
    tlp_tr = np.log(np.clip(ptr, 1e-12, None)).astype(np.float32)
    tacc = float((pte.argmax(1) == yte).mean() * 100)

    frozen = a.run.endswith("frozenbn")
    model, features = build_student(teacher, a.variant, frozen_bn=frozen)
    lam = ls_init(model, features, xtr[:1024], tlp_tr[:1024])
    rec = dict(variant=a.variant, run=a.run, teacher_acc=tacc, lam=lam,
               init_acc=acc(model, xte, yte))
    if a.run != "init":
        parts = a.run.split("_")
        kind, lr = parts[0], float(parts[1]) if parts[0] != "ceil15" else 1e-3
        epochs = 15 if kind == "ceil15" else 1
        sched = "cos" if (kind == "ceil15" or parts[2] == "cos") else "const"
        steps = math.ceil(len(xtr) / BATCH) * epochs
        lrs = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.0) if sched == "cos" else lr
        model.compile(optimizer=keras.optimizers.Adam(lrs),
                      loss=ce_loss if kind == "ce" else kd_loss)
        ytrain = np.concatenate([ytr[:, None].astype(np.float32), tlp_tr], 1)
        per_epoch = {}

        class Eval(keras.callbacks.Callback):
            def on_epoch_end(self, ep, logs=None):
                per_epoch[ep + 1] = acc(model, xte, yte)
                print(f"epoch {ep+1} loss {logs['loss']:.4f} test {per_epoch[ep+1]:.2f} "
                      f"t={time.time()-t0:.0f}s", flush=True)

        t0 = time.time()
        model.fit(xtr, ytrain, batch_size=BATCH, epochs=epochs, shuffle=True,
                  callbacks=[Eval()], verbose=0)
        rec.update(lr=lr, sched=sched, epochs=epochs, acc_by_epoch=per_epoch,
                   final_acc=per_epoch[epochs], train_s=round(time.time() - t0, 1))
    print(json.dumps(rec), flush=True)
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
