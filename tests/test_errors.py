"""Bad input gets a one-line HwflowError that names the problem and the fix."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QDense, quantized_bits, quantized_relu, quantized_tanh

import hwflow
from hwflow import HwflowError
from hwflow.cli import main

KQ = dict(kernel_quantizer=quantized_bits(4, 0, alpha=1), bias_quantizer=quantized_bits(4, 0, alpha=1))


def seq(*layers, shape=(8,)) -> tf.keras.Model:
    return tf.keras.Sequential([tf.keras.Input(shape), *layers])


def one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_unsupported_layer_names_it_and_the_supported_ones() -> None:
    model = seq(QActivation("quantized_relu(4,0)"), tf.keras.layers.UpSampling2D(name="up"), shape=(4, 4, 1))
    with pytest.raises(HwflowError) as err:
        hwflow.convert(model)
    msg = one_line(err)
    assert "'up' of type UpSampling2D" in msg and "QConv1D" in msg and "QDense" in msg and "MaxPooling2D" in msg


def test_float_dense_is_unsupported() -> None:
    model = seq(QActivation("quantized_relu(4,0)"), tf.keras.layers.Dense(3, name="plain"))
    with pytest.raises(HwflowError, match="'plain' of type Dense is not supported"):
        hwflow.convert(model)


def test_alpha_auto_is_rejected_with_the_fix() -> None:
    model = seq(QActivation("quantized_relu(4,0)"),
                QDense(3, kernel_quantizer=quantized_bits(4, 0, alpha="auto"), name="d"))
    with pytest.raises(HwflowError) as err:
        hwflow.convert(model)
    assert "alpha='auto'" in one_line(err) and "alpha=1" in str(err.value)


@pytest.mark.parametrize("act", [quantized_tanh(4), quantized_relu(4, 0, negative_slope=0.25), "relu"])
def test_non_relu_quantized_activation_is_rejected(act) -> None:
    model = seq(QActivation("quantized_relu(4,0)"), QDense(3, **KQ), QActivation(act, name="bad"), QDense(2, **KQ))
    with pytest.raises(HwflowError) as err:
        hwflow.convert(model)
    assert "'bad'" in one_line(err) and "quantized_relu" in str(err.value)


def test_model_without_input_quantizer_says_how_to_add_one() -> None:
    with pytest.raises(HwflowError, match="no input quantizer"):
        hwflow.convert(seq(QDense(3, **KQ)))
    snn = hwflow.convert(seq(QDense(3, **KQ)), input_quantizer="quantized_bits(6,2,alpha=1)")
    assert snn.encoder.grid.signed


def test_off_grid_and_out_of_range_inputs_are_rejected() -> None:
    snn = hwflow.convert(seq(QActivation("quantized_relu(4,0)"), QDense(3, **KQ)))
    x = np.zeros((2, 8), np.float32)
    x[1, 3] = 0.3
    with pytest.raises(HwflowError) as err:
        snn.predict(x)
    assert "off the fixed-point grid" in one_line(err) and "x[1, 3]" in str(err.value)
    assert "quantize_input" in str(err.value)
    with pytest.raises(HwflowError, match="outside the input range"):
        snn.predict(np.full((1, 8), 1.0, np.float32))
    np.testing.assert_array_equal(snn.quantize_input(x)[1, 3], np.float32(0.3125))


def test_bitplane_needs_unsigned_input() -> None:
    model = seq(QActivation(quantized_bits(6, 2, alpha=1)), QDense(3, **KQ))
    with pytest.raises(HwflowError, match="bit-plane input needs an unsigned"):
        hwflow.convert(model, encoding="bitplane")


def test_time_steps_must_match_the_quantizer() -> None:
    model = seq(QActivation("quantized_relu(4,0)"), QDense(3, **KQ), QActivation("quantized_relu(3,0)", name="a"),
                QDense(2, **KQ))
    assert hwflow.convert(model, time_steps=3).time_steps == [3]
    with pytest.raises(HwflowError, match="'a'.*time_steps=4"):
        hwflow.convert(model, time_steps=4)


def test_cli_bad_key_leaves_no_output(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "digits_mlp", "--set", "train.epoch=1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwflow: error:") and "epoch" in err and err.count("\n") == 0
    assert list(tmp_path.iterdir()) == []


def test_cli_missing_dataset_leaves_no_output(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    rc = main(["run", "mnist_mlp", "--set", f"dataset.path={tmp_path / 'nowhere'}", "--out", str(out)])
    assert rc == 2
    assert "not found" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("input_quantizer", [None, "quantized_bits(8,0,alpha=1)"])
def test_two_inputs_joined_by_concatenate_are_one_line(input_quantizer) -> None:
    """Found on a peer model: this crashed with a TypeError in shape_of(model.input_shape)."""
    a, b = tf.keras.Input((4,)), tf.keras.Input((4,))
    x = QActivation("quantized_relu(4,0)")(tf.keras.layers.Concatenate()([a, b]))
    model = tf.keras.Model([a, b], QDense(3, **KQ)(x), name="two")
    with pytest.raises(HwflowError) as err:
        hwflow.convert(model, input_quantizer=input_quantizer)
    assert one_line(err) == ("model 'two' has 2 inputs and 1 output; hwflow converts single-input, single-output "
                             "chains (no Concatenate, branches or skip connections)")
