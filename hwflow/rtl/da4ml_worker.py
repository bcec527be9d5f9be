"""Generate pipelined Verilog for an integer MLP with da4ml (runs inside the da4ml venv).

Usage: python da4ml_worker.py NETWORK_JSON OUT_DIR [--latency-cutoff C] [--hard-dc D]

The network (see reference.py for the exact semantics) is traced symbolically with
da4ml's ``FixedVariableArray``: every ``x @ W`` goes through da4ml's CMVM solver
(multiplier-free distributed arithmetic), the requantization is built from da4ml's
bit-exact fixed-point ops, ``comb_trace`` turns the trace into a ``CombLogic``,
``to_pipeline`` cuts it into register-balanced stages and ``VerilogModel`` writes the
RTL (da4ml's project layout in OUT_DIR/da4ml_project).  The Verilog files are copied
flat into OUT_DIR, next to OUT_DIR/da4ml.json describing the top module.
Exits non-zero with a message for networks it cannot build exactly.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

import da4ml
from da4ml.codegen import VerilogModel
from da4ml.trace import FixedVariableArray, HWConfig, comb_trace, to_pipeline
from da4ml.types import minimal_kif

TOP = 'da4ml_net'
EXACT = 2**53  # interval bounds must stay float64-exact: da4ml's QInterval holds floats


def clamp_bias(bias, weight, in_max, f, levels):
    """Replace biases that saturate the whole layer by an equivalent, small bias.

    With s = x @ w ranging over [lo, hi] (x in 0..in_max), q(u) is monotone in u, equals
    0 for every u <= 0 and 2^T - 1 for every u >= (2^T - 1) * 2^f.  So if bias + lo is
    already >= top, any bias' with bias' + lo >= top gives the same constant output
    (take bias' = top - lo); likewise bias + hi <= 0 can become -hi.  Exact by
    monotonicity, and it keeps the interval bounds da4ml sees float-exact.
    """
    top = (2**levels - 1) << f
    out = []
    for j, b in enumerate(bias):
        col = [int(r[j]) for r in weight]
        lo = sum(min(0, w * in_max) for w in col)
        hi = sum(max(0, w * in_max) for w in col)
        out.append(top - lo if b + lo >= top else -hi if b + hi <= 0 else b)
    return out


def low_bit(v, f):
    """floor(v / 2^f) mod 2 (bit f of v in two's complement) for one FixedVariable.

    da4ml's ``quantize(k=0, i=1, f=0, 'WRAP', 'TRN')`` gives exactly that (a wire), except
    that in da4ml 0.6.0 its constant-folding branch wraps unsigned values modulo 2^(i+1)
    instead of 2^i (a constant 10.5 becomes 2, not 0).  Constants are therefore folded here.
    """
    if v.low == v.high:
        return (int(v.low) >> f) & 1
    return (v * 2.0**-f).quantize(0, 1, 0, 'WRAP', 'TRN')


def requantize(u, f, levels):
    """q = clip(round_half_to_even(u / 2^f), 0, 2^T - 1) from exact da4ml ops.

    For f >= 1 write u = m*2^f + r (0 <= r < 2^f, m = floor(u/2^f)) and b = m mod 2.
    Then floor((u + 2^(f-1) - 1 + b) / 2^f) = m + floor((r + 2^(f-1) - 1 + b) / 2^f):
      r <  2^(f-1): numerator <= 2^f - 1        -> m      (below half: round down)
      r >  2^(f-1): 2^f <= numerator < 2^(f+1)  -> m + 1  (above half: round up)
      r == 2^(f-1): numerator = 2^f - 1 + b     -> m + b  (tie: m if m even, else m+1)
    which is round_half_to_even(u / 2^f).  In da4ml b is a bit select (``low_bit``), the
    sum is one adder, ``* 2.0**-f`` is a free rescaling, and
    ``quantize(k=0, i=T, f=0, 'SAT', 'TRN')`` is floor followed by clip to [0, 2^T-1].
    For f = 0 the rounding is the identity and only the clip remains.
    """
    if f > 0:
        b = np.array([low_bit(v, f) for v in u._vars], dtype=object)
        u = (u + FixedVariableArray(b, u.solver_options, hwconf=u.hwconf) + (2 ** (f - 1) - 1)) * 2.0**-f
    return u.quantize(0, levels, 0, 'SAT', 'TRN')


def trace_network(net, hard_dc):
    """Trace the network; returns (inputs, outputs) FixedVariableArrays."""
    n, bits = net['input']['n'], net['input']['bits']
    zeros = np.zeros(n, np.int8)
    x = FixedVariableArray.from_kif(zeros, np.full(n, bits, np.int8), zeros, HWConfig(1, -1, -1), 0.0, {'hard_dc': hard_dc})
    inp, in_max = x, 2**bits - 1
    for layer in net['layers']:
        weight, f, levels = layer['weight'], layer['shift'], layer['levels']
        w = np.array(weight, dtype=np.int64).reshape(len(weight), -1)
        if w.shape != (x.shape[0], len(layer['bias'])):
            raise ValueError(f'weight shape {w.shape} does not match {x.shape[0]} inputs, {len(layer["bias"])} biases')
        if np.any(np.abs(w) >= 2**24):
            raise ValueError('da4ml solves the CMVM in float32: |weight| must be < 2^24')
        bias = clamp_bias(layer['bias'], weight, in_max, f, levels) if levels else layer['bias']
        u = x @ w + np.array(bias, dtype=object)  # python ints go in as exact Decimals
        if any(max(abs(v.low), abs(v.high)) >= EXACT for v in u._vars):
            raise ValueError('a pre-activation range exceeds 2^53, beyond what da4ml represents exactly')
        x = requantize(u, f, levels) if levels else u
        in_max = 2**levels - 1
    return inp, x


def port_format(qints):
    """(bits per value, signed, lsb_shift) of the *_wrapper port, as da4ml's io wrapper
    (``hetero_io_map``) lays it out: every value gets max(i) + max(k) + max(f) bits, its LSB
    weighing 2^-max(f).  The values are integers, so max(f) <= 0; it is < 0 only when every
    value is a multiple of 2^-max(f) (da4ml then drops those always-zero LSBs): value =
    field << lsb_shift with lsb_shift = -max(f)."""
    k, i, f = zip(*map(minimal_kif, qints))
    return max(i) + max(k) + max(f), bool(max(k)), -max(f)


def fix_lint(code):
    """Verilator 5.006 predates the WIDTHTRUNC/WIDTHEXPAND codes; use the older WIDTH."""
    return re.sub(r'\bWIDTH(TRUNC|EXPAND)\b', 'WIDTH', code)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('network_json', type=Path)
    ap.add_argument('out_dir', type=Path)
    ap.add_argument('--latency-cutoff', type=float, default=5.0,
                    help="max delay per pipeline stage, in da4ml's delay units (one adder level each with "
                         "HWConfig(1, -1, -1)); default 5 as da4ml's CLI; <= 0: combinational")
    ap.add_argument('--hard-dc', type=int, default=2, help="CMVM solver's delay constraint (da4ml's default 2)")
    args = ap.parse_args()

    net = json.loads(args.network_json.read_text())
    inp, out = trace_network(net, args.hard_dc)
    comb = comb_trace(inp, out, keep_dead_inputs=True)  # keep every input in the port
    pipelined = args.latency_cutoff > 0
    sol = to_pipeline(comb, args.latency_cutoff, verbose=False) if pipelined else comb  # retimed stages

    in_bits, in_signed, in_shift = port_format(sol.inp_qint)
    out_bits, out_signed, out_shift = port_format(sol.out_qint)
    assert (in_bits, in_signed, in_shift) == (net['input']['bits'], False, 0), (in_bits, in_signed, in_shift)
    if out_bits == 0:
        sys.exit('da4ml_worker: every output is the constant 0; da4ml would emit a zero-width port')

    out_dir = args.out_dir.resolve()
    prj = out_dir / 'da4ml_project'  # da4ml's own project layout (src/, model/, metadata.json, tcl)
    VerilogModel(sol, TOP, prj, print_latency=False).write()
    da4ml_meta = json.loads((prj / 'metadata.json').read_text())

    # Flat copy of the RTL: generated modules + the da4ml primitives they instantiate.
    generated = sorted((prj / 'src').glob('*.v'))
    text = ''.join(p.read_text() for p in generated)
    static = [p for p in sorted((prj / 'src/static').glob('*.v')) if re.search(rf'\b{p.stem}\s+#', text)]
    sources = []
    for p in generated + static:
        (out_dir / p.name).write_text(fix_lint(p.read_text()))
        sources.append(p.name)

    n_in, n_out = comb.shape
    stages = len(sol.solutions) if pipelined else 0
    meta = {
        'top': f'{TOP}_wrapper',
        'sources': sources,
        'pipelined': pipelined,
        'latency_cutoff_requested': args.latency_cutoff if pipelined else None,
        'latency_cutoff_achieved': da4ml_meta.get('latency_cutoff'),
        'pipeline_stages': stages,
        'latency_cycles': stages + 1 if pipelined else 0,
        'initiation_interval': 1 if pipelined else 0,
        'timing': (
            f'model_inp is registered on a rising clk edge; model_out (a register) shows the result '
            f'{stages + 1} rising edges later counting that edge ({stages} comb stages between '
            f'{stages + 1} register layers); one new input per cycle'
            if pipelined else 'purely combinational, no clk port'
        ),
        'inputs': n_in,
        'input_bits': in_bits,
        'input_signed': False,
        'outputs': n_out,
        'output_bits': out_bits,
        'output_signed': out_signed,
        'output_lsb_shift': out_shift,
        'ports': {'clk': 'clk' if pipelined else None, 'input': 'model_inp', 'output': 'model_out'},
        'port order/packing': (
            f'value i occupies model_inp[{in_bits}*i+{in_bits - 1}:{in_bits}*i] (unsigned) and '
            f'model_out[{out_bits}*i+{out_bits - 1}:{out_bits}*i] '
            + ("(two's complement, sign-extended)" if out_signed else '(unsigned, zero-extended)')
            + f'; value 0 at the LSBs; output value = field * 2^{out_shift} (output_lsb_shift)'
        ),
        'cost_estimate_luts': da4ml_meta['cost'],
        'register_bits_estimate': da4ml_meta.get('reg_bits'),
        'da4ml': da4ml.__version__,
    }
    (out_dir / 'da4ml.json').write_text(json.dumps(meta, indent=1) + '\n')
    print(json.dumps({k: meta[k] for k in ('top', 'latency_cycles', 'inputs', 'outputs', 'output_bits')}))


if __name__ == '__main__':
    main()
