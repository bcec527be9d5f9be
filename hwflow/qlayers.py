"""QDenseBatchnorm: a QKeras dense layer with batch normalization folded into its quantized weights."""
from __future__ import annotations

import tensorflow as tf
from qkeras import QDense

from hwflow.compat import add_qkeras_objects, smart_cond, training_value

BN_KEYS = ("momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
           "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer",
           "gamma_regularizer", "beta_constraint", "gamma_constraint")


class QDenseBatchnorm(QDense):
    """QDense followed by BatchNormalization, folded as QKeras's QConv2DBatchnorm does (ema_stats_folding).

    The kernel is always folded with the moving variance, inv = gamma / sqrt(moving_var + eps), and
    then quantized. While training, the bias is folded with the batch statistics and the output is
    multiplied by y_corr = sqrt(moving_var + eps) / sqrt(batch_var + eps), so the layer behaves like
    dense + batch norm on the batch; otherwise the output is exactly
        dot(x, kernel_quantizer(inv * kernel)) + bias_quantizer(inv * (bias - moving_mean) + beta).
    """

    def __init__(self, units: int, momentum: float = 0.99, epsilon: float = 0.001,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(units, **kwargs)
        self.batchnorm = tf.keras.layers.BatchNormalization(
            axis=-1, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
            beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
            moving_mean_initializer=moving_mean_initializer,
            moving_variance_initializer=moving_variance_initializer,
            beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint, gamma_constraint=gamma_constraint,
            name=f"{self.name}_bn")

    def build(self, input_shape):
        super().build(input_shape)
        self.batchnorm.build(tf.TensorShape(input_shape)[:-1].concatenate([self.units]))

    def call(self, inputs, training=None):
        bn = self.batchnorm
        training = training_value(bn, training)
        if training is False:
            folded_kernel, folded_bias = self.get_folded_weights()
            y_corr = None
        else:
            bias = self.bias if self.use_bias else 0.0
            beta = bn.beta if bn.beta is not None else 0.0
            outputs = tf.keras.backend.dot(inputs, self.kernel) + bias
            bn(outputs, training=training)  # updates the moving statistics when training
            mean, variance = tf.nn.moments(outputs, axes=list(range(len(outputs.shape) - 1)))
            folded_kernel, moving_bias = self.get_folded_weights()
            batch_inv = tf.math.rsqrt(variance + bn.epsilon)
            if bn.gamma is not None:
                batch_inv *= bn.gamma
            folded_bias = smart_cond(training, lambda: batch_inv * (bias - mean) + beta,
                                     lambda: moving_bias)
            y_corr = smart_cond(
                training,
                lambda: tf.sqrt(bn.moving_variance + bn.epsilon) * tf.math.rsqrt(variance + bn.epsilon),
                lambda: tf.ones_like(bn.moving_variance))

        outputs = tf.keras.backend.dot(inputs, self._quantize_kernel(folded_kernel))
        if y_corr is not None:
            outputs *= y_corr
        outputs = tf.keras.backend.bias_add(outputs, self._quantize_bias(folded_bias),
                                            data_format="channels_last")
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def _quantize_kernel(self, kernel: tf.Tensor) -> tf.Tensor:
        return self.kernel_quantizer_internal(kernel) if self.kernel_quantizer_internal else kernel

    def _quantize_bias(self, bias: tf.Tensor) -> tf.Tensor:
        return self.bias_quantizer_internal(bias) if self.bias_quantizer_internal else bias

    def get_folded_weights(self) -> list[tf.Tensor]:
        """[inv * kernel, inv * (bias - moving_mean) + beta] with inv = gamma / sqrt(moving_var + eps).

        These are the float folded weights, before the kernel / bias quantizers, as in
        qkeras.QConv2DBatchnorm.get_folded_weights().
        """
        bn = self.batchnorm
        inv = tf.math.rsqrt(bn.moving_variance + bn.epsilon)
        if bn.gamma is not None:
            inv *= bn.gamma
        bias = self.bias if self.use_bias else 0.0
        beta = bn.beta if bn.beta is not None else 0.0
        return [inv * self.kernel, inv * (bias - bn.moving_mean) + beta]

    def get_config(self) -> dict:
        bn_config = self.batchnorm.get_config()
        return {**super().get_config(), **{k: bn_config[k] for k in BN_KEYS}}


def custom_objects() -> dict:
    """Every object needed to reload an hwflow model: QKeras's, QDenseBatchnorm, SpikeRegularizer."""
    from hwflow.regularizer import SpikeRegularizer

    objects: dict = {}
    add_qkeras_objects(objects)
    objects["QDenseBatchnorm"] = QDenseBatchnorm
    objects["SpikeRegularizer"] = SpikeRegularizer
    return objects
