"""Training side: config validation, datasets, QDenseBatchnorm folding, model save/load."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from hwflow.config import base_dir, load_config, zoo_names
from hwflow.datasets import load_dataset, read_idx
from hwflow.errors import HwflowError
from hwflow.model_builder import build_model
from hwflow.train import load_trained, shifted, train

MNIST_DIR = base_dir() / "../shared/datasets/mnist"
FAST = {"dataset": {"limit_train": 320, "limit_test": 100},
        "train": {"epochs": 1, "batch_size": 32, "lambda": 1e-4}}
CNN_LAYERS = [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same", "batchnorm": True},
              {"type": "maxpool", "pool": 2},
              {"type": "dense", "units": 10, "readout": True}]


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def test_config_defaults_and_zoo() -> None:
    cfg = load_config("digits_mlp")
    assert cfg["name"] == "digits_mlp" and cfg["input"]["encoding"] == "direct"
    assert cfg["layers"][-1]["readout"] and not cfg["layers"][0]["readout"]
    assert Path(load_config("mnist_mlp")["dataset"]["path"]).resolve() == MNIST_DIR.resolve()


def test_config_rejects_unknown_top_level_key() -> None:
    with pytest.raises(HwflowError, match=r"unknown key 'epoch' at top level .*allowed: .*time_steps"):
        load_config("digits_mlp", overrides={"epoch": 3})


def test_config_rejects_unknown_nested_key() -> None:
    with pytest.raises(HwflowError, match=r"unknown key 'epoch' in train of --set; "
                                          r"allowed: batch_size, epochs"):
        load_config("digits_mlp", overrides={"train": {"epoch": 3}})


def test_config_rejects_unknown_layer_key(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "name: x\nlayers:\n  - {type: dense, units: 10, unit: 3}\n")
    with pytest.raises(HwflowError, match=r"unknown key 'unit' in layers\[0\] \(dense\)"):
        load_config(path)


@pytest.mark.parametrize("overrides, words", [
    ({"time_steps": 17}, "time_steps"),
    ({"time_steps": "4"}, "time_steps"),
    ({"input": {"encoding": "rate"}}, "input.encoding"),
    ({"train": {"epochs": True}}, "train.epochs"),
    ({"layers": [{"type": "dense", "units": 10}, {"type": "flatten"}]}, "last layer"),
    ({"weights": {"alpha": "auto"}}, "weights.alpha .* must be 1 or auto_po2"),
])
def test_config_rejects_bad_values(overrides: dict, words: str) -> None:
    with pytest.raises(HwflowError, match=words) as err:
        load_config("digits_mlp", overrides=overrides)
    assert "--set" in str(err.value) and "YAML" not in str(err.value)  # the override is at fault, not the file


def test_the_jet_model_signed_inputs_auto_po2_and_a_final_softmax() -> None:
    """jet_mlp: synthetic jet features on the signed input grid, auto_po2 kernels, a final softmax that
    only a last readout may carry, signed input only with direct encoding."""
    cfg = load_config("jet_mlp")
    model = build_model(cfg)
    assert type(model.get_layer("input_quant").quantizer).__name__ == "quantized_bits"
    assert model.get_layer("dense1").kernel_quantizer_internal.alpha == "auto_po2"
    assert model.layers[-1].get_config()["activation"] == "softmax"
    ds = load_dataset("jets", limit_test=2000)
    assert ds.x_train.shape == (40_000, 16) and set(np.unique(ds.y_test)) == set(range(5))
    np.testing.assert_array_equal(np.round(ds.x_test * 32) / 32, ds.x_test)  # on the grid k/32 ...
    assert ds.x_test.min() >= -4 and ds.x_test.max() < 4  # ... of quantized_bits(8, 2)
    np.testing.assert_array_equal(load_dataset("jets").x_test[:2000], ds.x_test)  # the same draw every time
    with pytest.raises(HwflowError, match="only the last layer, a readout, may end the model with one"):
        load_config("jet_mlp", overrides={"layers": [{"type": "dense", "units": 8, "activation": "softmax"},
                                                     {"type": "dense", "units": 5, "readout": True}]})
    with pytest.raises(HwflowError, match="input.signed .* needs encoding direct"):
        load_config("jet_mlp", overrides={"input": {"encoding": "bitplane"}})


def test_a_bad_value_in_the_file_names_the_file(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "name: x\ntime_steps: 0\nlayers:\n  - {type: dense, units: 10}\n")
    with pytest.raises(HwflowError, match=r"time_steps of .*spec\.yaml must be an integer 1\.\.16, got 0; fix it in the YAML"):
        load_config(path, overrides={"train": {"epochs": 1}})


def test_config_overrides_merge_deeply() -> None:
    cfg = load_config("digits_mlp", overrides={"time_steps": 2, "train": {"lambda": 1e-3}})
    assert cfg["time_steps"] == 2 and cfg["train"]["lambda"] == 1e-3
    assert cfg["train"]["epochs"] == load_config("digits_mlp")["train"]["epochs"]


def test_missing_mnist_gives_hwflow_error(tmp_path: Path) -> None:
    with pytest.raises(HwflowError, match="train-images-idx3-ubyte.gz not found; set dataset.path"):
        load_dataset("mnist", tmp_path)
    with pytest.raises(HwflowError, match="dataset.path"):
        load_dataset("mnist", None)
    with pytest.raises(HwflowError, match="digits, mnist"):
        load_dataset("cifar10")


def test_idx_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as f:
        f.write((1234).to_bytes(4, "big") + bytes(8))
    with pytest.raises(ValueError, match="bad.gz"):
        read_idx(path, 2051)


def test_digits_split() -> None:
    ds = load_dataset("digits")
    assert ds.x_train.shape == (1437, 8, 8, 1) and ds.x_test.shape == (360, 8, 8, 1)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert np.all(ds.x_train * 16 == np.round(ds.x_train * 16)) and ds.x_train.max() == 1.0
    small = load_dataset("digits", limit_train=10, limit_test=5)
    assert len(small.x_train) == 10 and len(small.y_test) == 5


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not found in {MNIST_DIR}")
def test_mnist_loader() -> None:
    ds = load_dataset("mnist", MNIST_DIR)
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert np.bincount(ds.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(ds.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    for x in (ds.x_train, ds.x_test):
        assert np.array_equal(x * 256, np.round(x * 256))
        assert x.min() == 0.0 and x.max() == 255 / 256


def test_model_builder_layers() -> None:
    model = build_model(load_config("digits_mlp", overrides={"train": {"lambda": 1e-3}}))
    names = [layer.name for layer in model.layers]
    assert names == ["model_input", "input_quant", "flatten1", "dense1", "act1", "dense2"]
    assert type(model.get_layer("dense1")).__name__ == "QDenseBatchnorm"
    assert model.get_layer("act1").activity_regularizer.lam == 1e-3
    for name in ("dense1", "dense2"):
        clip = model.get_layer(name).kernel_constraint
        assert type(clip).__name__ == "Clip" and (clip.min_value, clip.max_value) == (-1, 1)


@pytest.fixture(scope="module")
def trained_mlp(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("digits_mlp")
    return train(load_config("digits_mlp", overrides=FAST), out, verbose=0), out


def test_qdense_batchnorm_inference_is_quantized_folded_dense(trained_mlp) -> None:
    result, _ = trained_mlp
    layer = result.model.get_layer("dense1")
    bn = layer.batchnorm
    assert not np.allclose(bn.moving_mean.numpy(), 0) and not np.allclose(bn.moving_variance.numpy(), 1)
    x = tf.keras.Model(result.model.input, result.model.get_layer("flatten1").output)(
        result.dataset.x_test).numpy()
    kernel, bias = layer.get_folded_weights()
    kq = layer.kernel_quantizer_internal(kernel).numpy()
    bq = layer.bias_quantizer_internal(bias).numpy()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x @ kq + bq)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_save_load_round_trip(kind: str, trained_mlp, tmp_path: Path) -> None:
    if kind == "mlp":
        cfg_in = load_config("digits_mlp", overrides=FAST)
        result, out = trained_mlp
    else:
        cfg_in = load_config("digits_mlp", overrides={**FAST, "layers": CNN_LAYERS})
        result, out = train(cfg_in, tmp_path, verbose=0), tmp_path
    model, cfg = load_trained(out)
    assert cfg == cfg_in
    x = result.dataset.x_test
    np.testing.assert_array_equal(model.predict(x, verbose=0), result.model.predict(x, verbose=0))


def test_training_is_deterministic(trained_mlp) -> None:
    result, _ = trained_mlp
    again = train(load_config("digits_mlp", overrides=FAST), verbose=0)
    for a, b in zip(result.model.get_weights(), again.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_builder_residual_blocks() -> None:
    """depthwise and residual: true build Add()([layer(a), a]) before the activation (the form hwflow fuses),
    with QKeras's batch-norm folding layers; the float twin has the same Adds."""
    cfg = load_config("mnist_resnet")
    model = build_model(cfg)
    adds = [layer for layer in model.layers if type(layer).__name__ == "Add"]
    assert len(adds) == 4
    assert [type(add.inbound_nodes[0].inbound_layers[0]).__name__ for add in adds] == [
        "QDepthwiseConv2DBatchnorm", "QConv2DBatchnorm"] * 2
    for add in adds:  # the layer's own input is the Add's other input
        layer, skip = add.inbound_nodes[0].inbound_layers
        assert layer.input is skip.output
    assert sum(type(layer).__name__ == "Add" for layer in build_model(cfg, quantized=False).layers) == 4


@pytest.mark.parametrize("name", zoo_names())
def test_hls4ml_converts_every_zoo_model(name: str) -> None:
    """The ANN baseline's first step (hls4ml's converter, batch norm folded) takes every model the builder makes."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.ops.output_function import logits_model
    from hwflow.options import FirmwareOptions

    cfg = load_config(name)  # as hwflow.firmware.firmware_stage calls it
    hls_model = ann_to_hls(logits_model(build_model(cfg)), "unused_never_written", FirmwareOptions.from_config(cfg))
    assert not any(type(layer).__name__.endswith("Batchnorm") for layer in hls_model.get_layers())


def test_a_residual_that_changes_the_shape_is_one_line() -> None:
    layers = [{"type": "conv2d", "filters": 3, "kernel": 3, "padding": "same", "residual": True},
              {"type": "flatten"}, {"type": "dense", "units": 10, "readout": True}]
    with pytest.raises(HwflowError, match=r"layers\[0\] \(conv2d\) has residual: true but maps shape \(8, 8, 1\) "
                                          r"to \(8, 8, 3\)"):
        build_model(load_config("digits_mlp", overrides={"layers": layers}))


def test_float_twin_has_no_quantizers() -> None:
    from hwflow.model_builder import build_model
    cfg = load_config("mnist_cnn")
    kinds = {type(layer).__name__ for layer in build_model(cfg, quantized=False).layers}
    assert not any(k.startswith("Q") for k in kinds)
    assert {"Conv2D", "BatchNormalization", "ReLU", "MaxPooling2D", "Dense"} <= kinds


def test_shifted_images_are_whole_pixel_moves_with_zeros_shifted_in() -> None:
    """Every shifted image is its original moved by one offset within +-shift (so its pixels stay on the input
    grid), the offsets differ between images and between draws, and shift 0 changes nothing."""
    rng = np.random.default_rng(1)
    x = (rng.integers(1, 256, size=(40, 6, 7, 1)) / 256).astype(np.float32)  # no zero pixel: a move shows
    out = shifted(x, 2, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    offsets = []
    for i in range(len(x)):
        hits = [(dy, dx) for dy in range(5) for dx in range(5)
                if np.array_equal(out[i], padded[i, dy:dy + 6, dx:dx + 7])]
        assert len(hits) == 1, i
        offsets.append(hits[0])
    assert len(set(offsets)) > 10
    again = shifted(x, 2, np.random.default_rng(1))
    assert not np.array_equal(again, out)
    np.testing.assert_array_equal(shifted(x, 0, np.random.default_rng(0)), x)


def test_training_with_shift_runs_every_epoch_and_is_deterministic(capsys) -> None:
    def run(shift: int, verbose: int = 0):
        return train(load_config("digits_mlp", overrides={**FAST, "train": {**FAST["train"], "epochs": 2,
                                                                                "shift": shift,
                                                                                "validation_split": 0.25}}),
                     verbose=verbose)
    first, second, plain = run(1, verbose=2), run(1), run(0)
    assert "Epoch 1/2" in capsys.readouterr().out  # the progress counts the run's epochs
    assert len(first.history["loss"]) == 2 and len(first.history["val_accuracy"]) == 2
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(plain.model.get_weights()[0], first.model.get_weights()[0])


def test_shift_on_feature_vectors_is_one_line() -> None:
    with pytest.raises(HwflowError, match=r"train.shift moves images but dataset jets .*set train.shift to 0"):
        train(load_config("jet_mlp", overrides={"train": {"shift": 2}}), verbose=0)
