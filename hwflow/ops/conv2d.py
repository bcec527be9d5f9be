"""Conv2D: QConv2D / QConv2DBatchnorm as a 2-D convolution of IF neurons (firmware: HwflowIFConv2D)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hwflow.errors import HwflowError
from hwflow.geometry import Padding, axis_paddings, conv2d, depthwise_kernel, fan_out, out_size, pad_before
from hwflow.hls.block import Cursor, HlsBlock
from hwflow.ops.keras_layers import shape_of, unsupported
from hwflow.ops.registry import hls_block, node, parses
from hwflow.ops.synaptic import SYNAPTIC_PARAMS, SYNAPTIC_TYPES, RtlWindow, SynapticLayer, keras_fields, \
    synaptic_call, synaptic_constants, synaptic_cycles
from hwflow.rtl.block import RtlCursor, image

GEOMETRY = ("in_height", "in_width", "n_chan", "out_height", "out_width", "n_filt", "filt_height", "filt_width",
            "stride_height", "stride_width", "pad_top", "pad_left")


def constants(a: dict) -> dict:
    """The HwflowIFConv2D config: geometry, plane sizes, taps per kernel row, and the shared IF constants."""
    in_plane = a["in_height"] * a["in_width"] * a["n_chan"]
    out_plane = a["out_height"] * a["out_width"] * a["n_filt"]
    return dict({k: a[k] for k in GEOMETRY}, in_plane=in_plane, in_size=a["in_steps"] * in_plane,
                out_plane=out_plane, n_out=out_plane, row_taps=a["filt_width"] * a["n_chan"],
                **synaptic_constants(a, a["n_filt"]))


IF_CONV2D = hls_block(HlsBlock(
    class_name="HwflowIFConv2D", struct="if_conv2d_config", headers=("hwflow_if_conv2d.h", "hwflow_if_neuron.h"),
    params={**SYNAPTIC_PARAMS, **dict.fromkeys(GEOMETRY, int)},
    constants=constants,
    call=synaptic_call("if_conv2d"),
    cycles=lambda a: synaptic_cycles(a, pixels=a["out_height"] * a["out_width"], n_psum=a["n_filt"]),
    synaptic=True, types=SYNAPTIC_TYPES))


@node
@dataclass
class Conv2D(SynapticLayer):
    """2-D convolution of IF neurons (Keras cross-correlation, channels last): weight [kh, kw, c_in, c_out]."""

    strides: tuple[int, int] = (1, 1)
    padding: Padding = "valid"  # or explicit ((top, bottom), (left, right)): a ZeroPadding2D folded in

    kind: ClassVar[str] = "conv2d"
    spatial: ClassVar[bool] = True
    synapses_per: ClassVar[str] = " per output pixel"

    def pads(self) -> bool:
        """Whether a window reads outside the input (its padding, or a folded ZeroPadding2D's zeros)."""
        for n, k, st, pad in zip(image(self.in_shape)[:2], self.weight.shape[:2], self.strides,
                                 axis_paddings(self.padding)):
            before = pad_before(n, k, st, pad)
            if before > 0 or (out_size(n, k, st, pad) - 1) * st + k - before > n:
                return True
        return False

    def weighted(self, planes: np.ndarray, dtype: type) -> np.ndarray:
        return conv2d(planes.astype(dtype), self.weight.astype(dtype), self.strides, self.padding)

    def fan_out(self) -> np.ndarray:
        """For each input pixel, how many (output pixel, tap) pairs read it: [H, W]."""
        return fan_out(image(self.in_shape)[:2], self.weight.shape[:2], self.strides, self.padding)

    def reach(self) -> int:
        """Output channels one input channel reaches per tap: all of them, or a depthwise kernel's multiplier M
        (hwflow.ops.depthwise lowers it with zero weights across channels, which are no synapses: the Keras
        layer has none, and the operation counts and energy estimates leave them out on both sides). A layer
        fused from several (a Concatenate's branches, a residual's pass-through channels or projection) counts
        every tap of its one window for every output, zero taps too, on both sides: what its firmware runs."""
        cin, cout = self.weight.shape[2:]
        return cout // cin if depthwise_kernel(self.weight) is not None else cout

    def synaptic_ops(self, spikes: np.ndarray) -> int:
        cin = self.weight.shape[2]
        fan = self.fan_out()
        if self.analog_input:
            return spikes.shape[0] * int(fan.sum()) * cin * self.reach()
        per_pixel = spikes.sum(axis=3, dtype=np.int64)  # [B, H, W]
        return int((per_pixel * fan).sum()) * self.reach()

    def ann_macs(self) -> int:
        return int(self.fan_out().sum()) * self.weight.shape[2] * self.reach()

    def block_geometry(self, cur: Cursor) -> dict:
        kh, kw, _, c_out = self.weight.shape
        (h, w, c), (ho, wo, _) = image(cur.shape), image(self.out_shape)  # a sequence is a one-row image
        (sh, sw), (pad_h, pad_w) = self.strides, axis_paddings(self.padding)
        return dict(class_name=IF_CONV2D.class_name, in_height=h, in_width=w, n_chan=c, out_height=ho,
                    out_width=wo, n_filt=int(c_out), filt_height=int(kh), filt_width=int(kw), stride_height=int(sh),
                    stride_width=int(sw), pad_top=pad_before(h, kh, sh, pad_h),
                    pad_left=pad_before(w, kw, sw, pad_w))

    def rtl_window(self, cur: RtlCursor) -> RtlWindow:
        if cur.shape != image(self.in_shape):
            raise HwflowError(f"layer '{self.name}' takes shape {self.in_shape} but gets {cur.shape} from '{cur.name}'")
        return RtlWindow(self.weight, tuple(self.strides), self.padding, image(self.out_shape)[:2])


@parses("QConv2D", "QConv2DBatchnorm")
def parse_conv2d(parser, layer) -> None:
    """A convolution waiting for its activation (the next QActivation, or its own activation)."""
    if layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1:
        raise unsupported(layer, " with data_format/dilation/groups other than channels_last/1/1")
    in_shape, padding = parser.padded_input(layer, tuple(layer.kernel_size), tuple(layer.strides), layer.padding)
    fields = keras_fields(layer, in_shape, shape_of(layer.output_shape), parser.steps, parser.grid.frac,
                          parser.analog())
    parser.start_linear(Conv2D(strides=tuple(layer.strides), padding=padding, **fields), layer)
