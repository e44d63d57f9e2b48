"""Loss, gradients and optimizer steps of a small CNN, made by PyTorch CPU, checked by Keras.

Writes Tests/Fixtures/grad/small_net.h5 (or --out DIR). The net, in NHWC / Keras terms:

  x [4, 8, 8, 2] → conv: Conv2D 4 filters 3×3 same, bias → bn: BatchNormalization
  (training mode: batch mean and biased batch variance, epsilon 1e-3, Keras momentum 0.9)
  → ReLU → MaxPooling2D 2 → Flatten (NHWC order) → dense: Dense 5 (logits)
  → softmax cross-entropy with integer labels, mean over the batch.

PyTorch computes it in NCHW, permuting to NHWC before the flatten, so every stored array is
what an NHWC Keras model holds. The optimizer steps use Keras 3 formulas (see README.md, "grad
fixtures"); the same loss, gradients and steps are recomputed by Keras 3 (JAX) and must agree.

Run:  python make_grad_fixtures.py [--out DIR]
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SEED = 1234
N, H, W, C, FILTERS, CLASSES = 4, 8, 8, 2, 4, 5
EPS = 1e-3  # BatchNorm epsilon (Keras default)
KERAS_MOMENTUM = 0.9  # moving = moving·0.9 + batch·0.1  (PyTorch momentum 0.1)
SGD = dict(lr=0.1, momentum=0.9)
ADAM = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7)
TRAINABLE = ["conv/kernel", "conv/bias", "bn/gamma", "bn/beta", "dense/kernel", "dense/bias"]
MOVING = ["bn/movingMean", "bn/movingVariance"]
REPO = Path(__file__).resolve().parents[2]


def initial_parameters(rng):
    """Parameters in adascale layout (HWIO conv kernel, [in, out] dense kernel, NHWC flatten)."""
    torch.manual_seed(SEED)
    conv = torch.nn.Conv2d(C, FILTERS, 3, padding=1)
    dense = torch.nn.Linear((H // 2) * (W // 2) * FILTERS, CLASSES)
    f32 = np.float32
    return {
        "conv/kernel": conv.weight.detach().permute(2, 3, 1, 0).numpy().astype(f32),
        "conv/bias": rng.normal(0, 0.2, FILTERS).astype(f32),
        "bn/gamma": rng.uniform(0.5, 1.5, FILTERS).astype(f32),
        "bn/beta": rng.normal(0, 0.3, FILTERS).astype(f32),
        "bn/movingMean": rng.normal(0, 0.3, FILTERS).astype(f32),
        "bn/movingVariance": rng.uniform(0.5, 2.0, FILTERS).astype(f32),
        "dense/kernel": dense.weight.detach().T.numpy().astype(f32),  # rows in NHWC flatten order
        "dense/bias": rng.normal(0, 0.2, CLASSES).astype(f32),
    }


def forward(p, x, labels):
    """Training-mode forward in PyTorch. p holds torch tensors in adascale layout.
    Returns (loss, logits, batch mean [C], biased batch variance [C])."""
    xc = x.permute(0, 3, 1, 2)  # NHWC → NCHW
    w = p["conv/kernel"].permute(3, 2, 0, 1)  # HWIO → OIHW
    z = F.conv2d(xc, w, p["conv/bias"], padding=1)
    mean = z.mean(dim=(0, 2, 3))
    var = z.var(dim=(0, 2, 3), unbiased=False)
    zn = (z - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + EPS)
    zn = zn * p["bn/gamma"][None, :, None, None] + p["bn/beta"][None, :, None, None]
    a = F.max_pool2d(F.relu(zn), 2)
    flat = a.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # NHWC flatten, as Keras
    logits = flat @ p["dense/kernel"] + p["dense/bias"]
    loss = F.cross_entropy(logits, labels)
    return loss, logits, mean.detach(), var.detach()


def loss_and_grads(params, x, labels):
    t = {k: torch.tensor(v, requires_grad=k in TRAINABLE) for k, v in params.items()}
    xt = torch.tensor(x, requires_grad=True)
    loss, logits, mean, var = forward(t, xt, torch.tensor(labels, dtype=torch.long))
    loss.backward()
    grads = {k: t[k].grad.numpy().copy() for k in TRAINABLE}
    logits = logits.detach()
    moving = {
        "bn/movingMean": params["bn/movingMean"] * KERAS_MOMENTUM
        + mean.numpy() * (1 - KERAS_MOMENTUM),
        "bn/movingVariance": params["bn/movingVariance"] * KERAS_MOMENTUM
        + var.numpy() * (1 - KERAS_MOMENTUM),
    }
    return float(loss.detach()), logits.numpy(), grads, xt.grad.numpy(), moving


def sgd_step(params, grads, state):
    """Keras 3 SGD: m = momentum·m − lr·g; p = p + m (nesterov False)."""
    out = dict(params)
    for k in TRAINABLE:
        m = SGD["momentum"] * state.get(k, 0) - SGD["lr"] * grads[k]
        state[k] = m
        out[k] = params[k] + m
    return out


def adam_step(params, grads, state, t):
    """Keras 3 Adam (step t from 1): lr_t = lr·√(1−β2^t)/(1−β1^t); m += (g−m)(1−β1);
    v += (g²−v)(1−β2); p −= lr_t·m/(√v + ε). ε is added to √v, not to √v̂."""
    b1, b2 = ADAM["beta1"], ADAM["beta2"]
    lr_t = ADAM["lr"] * np.sqrt(1 - b2**t) / (1 - b1**t)
    out = dict(params)
    for k in TRAINABLE:
        g = grads[k].astype(np.float64)
        m, v = state.get(k, (0.0, 0.0))
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        state[k] = (m, v)
        out[k] = (params[k] - lr_t * m / (np.sqrt(v) + ADAM["eps"])).astype(np.float32)
    return out


def keras_check(params, x, labels, expected):
    """Recomputes loss, gradients, moving stats and optimizer steps with Keras 3 (JAX)."""
    import jax
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((H, W, C)),
        layers.Conv2D(FILTERS, 3, padding="same", name="conv"),
        layers.BatchNormalization(momentum=KERAS_MOMENTUM, epsilon=EPS, name="bn"),
        layers.ReLU(), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dense(CLASSES, name="dense"),
    ])

    def load(model, p):
        model.get_layer("conv").set_weights([p["conv/kernel"], p["conv/bias"]])
        model.get_layer("bn").set_weights([p["bn/gamma"], p["bn/beta"], p["bn/movingMean"],
                                           p["bn/movingVariance"]])
        model.get_layer("dense").set_weights([p["dense/kernel"], p["dense/bias"]])

    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def step_grads(model):
        tv = [v.value for v in model.trainable_variables]
        nv = [v.value for v in model.non_trainable_variables]

        def f(tv):
            y, nv2 = model.stateless_call(tv, nv, x, training=True)
            return loss_fn(labels, y), nv2

        (loss, nv2), g = jax.value_and_grad(f, has_aux=True)(tv)
        for var, value in zip(model.non_trainable_variables, nv2):
            var.assign(value)
        return float(loss), [np.asarray(a) for a in g]

    def close(name, a, b, tol=1e-5):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol, err_msg=name)

    load(model, params)
    loss, g = step_grads(model)
    close("loss", loss, expected["loss"])
    order = ["conv/kernel", "conv/bias", "bn/gamma", "bn/beta", "dense/kernel", "dense/bias"]
    for k, gk in zip(order, g):
        close(f"grad/{k}", gk, expected["grad"][k])
    bn = model.get_layer("bn")
    close("moving mean", bn.moving_mean.numpy(), expected["bn"]["bn/movingMean"])
    close("moving variance", bn.moving_variance.numpy(), expected["bn"]["bn/movingVariance"])

    for opt, key, steps in [(keras.optimizers.SGD(SGD["lr"], momentum=SGD["momentum"]), "sgd", 1),
                            (keras.optimizers.Adam(ADAM["lr"], ADAM["beta1"], ADAM["beta2"],
                                                   ADAM["eps"]), "adam", 1),
                            (keras.optimizers.Adam(ADAM["lr"], ADAM["beta1"], ADAM["beta2"],
                                                   ADAM["eps"]), "adam3", 3)]:
        load(model, params)
        for _ in range(steps):
            _, g = step_grads(model)
            opt.apply(g, model.trainable_variables)
        for k, var in zip(order, model.trainable_variables):
            # conv/bias has a zero gradient in exact arithmetic (training-mode BN follows);
            # Adam turns its float32 rounding noise into steps up to ~lr/10.
            tol = 2e-4 if k == "conv/bias" and key.startswith("adam") else 1e-6
            close(f"{key}/{k}", var.numpy(), expected[key][k], tol=tol)
        # The batch mean includes conv/bias, so after Adam steps it carries that noise too.
        close(f"{key}/bn/movingMean", bn.moving_mean.numpy(), expected[key]["bn/movingMean"],
              tol=1e-4 if key.startswith("adam") else 1e-5)
        close(f"{key}/bn/movingVariance", bn.moving_variance.numpy(),
              expected[key]["bn/movingVariance"])
    return keras.__version__


def torch_adam_difference(params, grads):
    """Max |difference| between one torch.optim.Adam step and the Keras step (ε placement),
    over all trainables except the noise-driven conv/bias."""
    t = {k: torch.tensor(params[k], requires_grad=True) for k in TRAINABLE}
    opt = torch.optim.Adam(t.values(), lr=ADAM["lr"], betas=(ADAM["beta1"], ADAM["beta2"]),
                           eps=ADAM["eps"])
    for k in TRAINABLE:
        t[k].grad = torch.tensor(grads[k])
    opt.step()
    keras_step = adam_step(params, grads, {}, 1)
    return max(float(np.abs(t[k].detach().numpy() - keras_step[k]).max())
               for k in TRAINABLE if k != "conv/bias")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "Tests/Fixtures/grad")
    parser.add_argument("--no-keras-check", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    params = initial_parameters(rng)
    x = rng.normal(0, 1, (N, H, W, C)).astype(np.float32)
    labels = rng.integers(0, CLASSES, N).astype(np.int32)

    loss, logits, grads, grad_x, moving = loss_and_grads(params, x, labels)
    sgd = {**sgd_step(params, grads, {}), **moving}
    adam = {**adam_step(params, grads, {}, 1), **moving}
    adam3, state, p = None, {}, dict(params)
    for t in range(1, 4):
        _, _, g, _, m = loss_and_grads(p, x, labels)
        p = adam_step(p, g, state, t)
        p.update(m)  # moving stats follow each training forward
    adam3 = p
    expected = {"loss": loss, "grad": grads, "bn": moving, "sgd": sgd, "adam": adam,
                "adam3": adam3}
    keras_version = "not checked" if args.no_keras_check else keras_check(params, x, labels,
                                                                          expected)
    torch_diff = torch_adam_difference(params, grads)

    args.out.mkdir(parents=True, exist_ok=True)
    with h5py.File(args.out / "small_net.h5", "w") as f:
        f.create_dataset("x", data=x)
        f.create_dataset("labels", data=labels)
        f.create_dataset("loss", data=np.float32(loss))
        f.create_dataset("logits", data=logits.astype(np.float32))
        f.create_dataset("grad_x", data=grad_x.astype(np.float32))
        for k, v in params.items():
            f.create_dataset(k, data=v)
        for k in TRAINABLE:
            f.create_dataset(f"grad/{k}", data=grads[k].astype(np.float32))
            f.create_dataset(f"sgd/{k}", data=sgd[k].astype(np.float32))
            f.create_dataset(f"adam/{k}", data=adam[k].astype(np.float32))
            f.create_dataset(f"adam3/{k}", data=adam3[k].astype(np.float32))
        for k in MOVING:
            f.create_dataset(f"after_forward/{k}", data=moving[k].astype(np.float32))
            f.create_dataset(f"adam3/{k}", data=adam3[k].astype(np.float32))
        f.attrs.update({
            "seed": SEED, "layout": "NHWC; conv/kernel HWIO; dense/kernel [in, out]",
            "bn_epsilon": EPS, "bn_momentum_keras": KERAS_MOMENTUM,
            "sgd": "lr 0.1, momentum 0.9, nesterov false (Keras 3 formula)",
            "adam": "lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7 (Keras 3 formula)",
            "torch_version": str(torch.__version__), "keras_check": str(keras_version),
            "torch_adam_max_abs_difference_without_conv_bias": torch_diff,
        })
    print(f"loss {loss:.6f}; Keras check: {keras_version}; "
          f"torch.optim.Adam vs Keras Adam, one step, max |diff| {torch_diff:.3g}")


if __name__ == "__main__":
    main()
