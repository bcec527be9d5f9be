"""hwflow.hls: SNN -> hls4ml project of integrate-and-fire HLS blocks (hls4ml extension API).

    hls_model = hwflow.hls.to_hls(snn, "hls_projects/net", backend="Vitis")
    seconds = hwflow.hls.compile(hls_model)       # g++ C simulation library
    y = hwflow.hls.predict(hls_model, snn, x)     # == snn.predict(x), bit for bit

The C++ blocks live in hls_templates/ at the repository root (TEMPLATE_DIR); their header
comments give the loop structure and the latency / II formulas.
"""
from hwflow.hls.blocks import TEMPLATE_DIR, register
from hwflow.hls.lower import compile, layer_list, predict, to_hls

__all__ = ["to_hls", "compile", "predict", "layer_list", "register", "TEMPLATE_DIR"]
