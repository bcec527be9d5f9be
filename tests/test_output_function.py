"""A final softmax or sigmoid: the SNN applies the model's own TensorFlow operation to the exact logits
(snn.predict == model.predict bit for bit); the firmware and the RTL output the logits."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QDense, quantized_bits, quantized_relu
from tensorflow.keras.layers import Activation, Softmax

import hwflow
import hwflow.hls
from hwflow.errors import HwflowError
from hwflow.flow import save_snn
from hwflow.ops.output_function import logits_model
from hwflow.rtl import tools
from hwflow.serialize import load_snn
from randmodels import firmware_outputs

KQ, BQ = quantized_bits(6, 0, alpha=1), quantized_bits(8, 3, alpha=1)
ENDINGS = {  # the ways QKeras users end a classifier
    "QDense(activation='softmax')": lambda: [QDense(5, kernel_quantizer=KQ, bias_quantizer=BQ, activation="softmax")],
    "Activation('softmax')": lambda: [QDense(5, kernel_quantizer=KQ, bias_quantizer=BQ), Activation("softmax")],
    "Softmax()": lambda: [QDense(5, kernel_quantizer=KQ, bias_quantizer=BQ), Softmax()],
    "QActivation('softmax')": lambda: [QDense(5, kernel_quantizer=KQ, bias_quantizer=BQ), QActivation("softmax")],
    "Activation('sigmoid')": lambda: [QDense(5, kernel_quantizer=KQ, bias_quantizer=BQ), Activation("sigmoid")],
}


def classifier(ending: str, seed: int = 3) -> tf.keras.Model:
    """16 inputs -> 12 IF neurons -> 5 logits -> the final function; weights on their grids, wide logits."""
    rng = np.random.default_rng(seed)
    model = tf.keras.Sequential([tf.keras.Input((16,)), QActivation(quantized_relu(4, 1)),
                                 QDense(12, kernel_quantizer=KQ, bias_quantizer=BQ), QActivation(quantized_relu(3, 1)),
                                 *ENDINGS[ending]()])
    for layer in model.layers:
        if isinstance(layer, QDense):
            k, b = layer.get_weights()
            layer.set_weights([rng.integers(-32, 32, k.shape).astype(np.float32) / 32,
                               rng.integers(-128, 128, b.shape).astype(np.float32) / 16])
    return model


def samples(n: int = 400, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).integers(0, 16, (n, 16)) / 8).astype(np.float32)


@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_the_snn_applies_the_models_own_function_bit_for_bit(tmp_path, ending, encoding) -> None:
    model, x = classifier(ending), samples()
    snn = hwflow.convert(model, encoding=encoding)
    assert snn.output_function == ("sigmoid" if "sigmoid" in ending else "softmax")
    y = model.predict(x, verbose=0)
    np.testing.assert_array_equal(snn.predict(x), y)
    np.testing.assert_array_equal(snn.logits(x), logits_model(model).predict(x, verbose=0))
    assert not np.array_equal(snn.logits(x), y)  # the logits are not the probabilities
    save_snn(snn, tmp_path / "snn.json")
    np.testing.assert_array_equal(load_snn(tmp_path / "snn.json").predict(x), y)


def test_a_final_function_must_end_the_model_and_follow_the_readout() -> None:
    after_relu = tf.keras.Sequential([tf.keras.Input((4,)), QActivation(quantized_relu(4, 1)),
                                      QDense(3, kernel_quantizer=KQ, bias_quantizer=BQ),
                                      QActivation(quantized_relu(3, 1)), Activation("softmax")])
    with pytest.raises(HwflowError, match=r"softmax 'activation\w*' must directly follow the last QDense/QConv2D"):
        hwflow.convert(after_relu)
    not_last = tf.keras.Sequential([tf.keras.Input((4,)), QActivation(quantized_relu(4, 1)),
                                    QDense(3, kernel_quantizer=KQ, bias_quantizer=BQ), Activation("sigmoid"),
                                    QDense(2, kernel_quantizer=KQ, bias_quantizer=BQ)])
    with pytest.raises(HwflowError, match=r"follows the model's final sigmoid; hwflow converts a sigmoid only as the "
                                          r"last layer") as err:
        hwflow.convert(not_last)
    assert "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_output_the_exact_logits(tmp_path) -> None:
    """C simulation (event, io_stream) and the RTL twin give the logits; softmax of them is model.predict."""
    model, x = classifier("QDense(activation='softmax')"), samples(200, seed=2)
    snn = hwflow.convert(model, encoding="bitplane")
    hls_model = hwflow.hls.to_hls(snn, tmp_path / "hls", strategy="event", lanes=3, io_type="io_stream")
    hwflow.hls.compile(hls_model)
    firmware_outputs(model, snn, x, hwflow.hls.predict(hls_model, snn, x))
    firmware_outputs(model, snn, x, hwflow.to_rtl(snn, tmp_path / "rtl", architecture="event", lanes=3).simulate(x).output)


@pytest.mark.firmware
def test_hls4ml_ann_of_a_jet_style_model_is_exact(tmp_path) -> None:
    """Signed inputs, auto_po2 kernels (QKeras's default inside QDense), a final softmax: hls4ml's own ANN
    of the logits (the peer baseline) equals QKeras once its ApplyAlpha layers get exact types."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches
    from hwflow.metrics import count_mismatches

    tf.keras.utils.set_random_seed(5)
    bias = quantized_bits(10, 3, alpha=1)
    model = tf.keras.Sequential([
        tf.keras.Input((16,)), QActivation(quantized_bits(8, 2, alpha=1)),
        QDense(24, kernel_quantizer="quantized_bits(6,0)", bias_quantizer=bias, kernel_initializer="he_normal"),
        QActivation(quantized_relu(4, 1)),
        QDense(5, kernel_quantizer="quantized_bits(6,0)", bias_quantizer=bias, kernel_initializer="he_normal",
               activation="softmax")])
    assert model.layers[1].kernel_quantizer_internal.alpha == "auto_po2"
    snn = hwflow.convert(model)
    x = snn.quantize_input(np.random.default_rng(4).normal(0, 1.5, (1000, 16)).astype(np.float32))
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))
    logits = logits_model(model)
    ann = ann_to_hls(logits, tmp_path / "ann")
    hwflow.hls.compile(ann)
    y = csim_batches(ann, x).astype(np.float32).reshape(len(x), -1)
    assert count_mismatches(y, logits.predict(x, verbose=0)) == 0
