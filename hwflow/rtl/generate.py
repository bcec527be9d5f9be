"""hwflow.to_rtl: the SNN as synthesizable Verilog, one template instance per block, wired in a top.

The top, `hwflow_top`, takes a sample as AXI-Stream beats (one input level each) after `ap_start`,
runs the blocks and streams the outputs (the readout's membranes, or the last layer's levels);
`ap_done` is high for one cycle when the last output beat is taken. Between two blocks sits the
producer's memory, RING rows of its image (`buffers`):
- 'frame': the whole image; the blocks run one after another (each starts in the cycle the one
  before it is done), and the latency is the sum of their cycle formulas;
- 'line': a ring of line buffers, the consumer's window height plus its stride in rows; every block
  starts with the sample and works row by row as its input rows arrive and its ring slots free up
  (the row handshake of hls_templates/rtl/hwflow_if_layer.v), and the output stage starts once every
  block is done. The latency follows the row schedule (hwflow.rtl.schedule).
Either is modelled by RtlDesign.cycle_model and measured by RtlDesign.simulate.
A graph (branches joined by hwflow.ops.join) runs on whole frames, its blocks one after another in the
SNN's order: each block reads the memories of its sources (`RtlStage.sources`; a join reads two), and a
memory several blocks read has its read port switched to whichever of them is running (one at a time).
Every branch's memory is then a frame buffer that holds it until its last reader is done; line buffers
('line') are refused for a graph in one line.
"""
from __future__ import annotations

import json
from pathlib import Path

from hwflow.errors import HwflowError
from hwflow.ir import INPUT, is_chain, sources
from hwflow.ops.encoder import lower_input_rtl, lower_output_rtl, reads_image
from hwflow.outputs import output_dir
from hwflow.package_data import TEMPLATE_DIR
from hwflow.defaults import MAX_LANES
from hwflow.rtl.block import ARCHITECTURES, BUFFERS, TOP, RtlStage, block_module, design_sources, vid
from hwflow.rtl.design import RtlDesign

RTL_DIR = TEMPLATE_DIR / "rtl"
ROW_BITS = 16  # width of the row handshake (rows written, first row still read) between blocks


def check_options(snn, lanes: int, architecture: str, buffers: str = "frame") -> None:
    """HwflowError unless the architecture and buffers are known and `lanes` fits the network (checked
    before training too)."""
    if architecture not in ARCHITECTURES:
        raise HwflowError(f"architecture {architecture!r} is not one of {', '.join(ARCHITECTURES)}")
    if buffers not in BUFFERS:
        raise HwflowError(f"buffers {buffers!r} is not one of {', '.join(BUFFERS)}")
    if isinstance(lanes, bool) or not isinstance(lanes, int) or not 1 <= lanes <= MAX_LANES:
        raise HwflowError(f"lanes must be an integer 1..{MAX_LANES}, got {lanes!r}")
    widest = max((int(s.weight.shape[-1]) for s in snn.synaptic_layers), default=1)
    if lanes > widest:
        raise HwflowError(f"lanes={lanes} is more than the widest layer's {widest} neurons; "
                          f"use lanes <= {widest}")


def lower_stages(snn, lanes: int, architecture: str, buffers: str = "frame") -> list[RtlStage]:
    """The encoder, one stage per layer with a block (reshapes pass through), and the output stage, in the SNN's
    order, each with the stages it reads (`sources`), and the memories between them sized for `buffers`."""
    check_options(snn, lanes, architecture, buffers)
    if buffers == "line" and not is_chain(snn.layers):
        joins = ", ".join(f"'{layer.name}'" for layer in snn.layers if layer.kind == "join")
        raise HwflowError(f"buffers='line' runs a chain of blocks row by row, and this SNN has branches (joined at "
                          f"{joins}); use buffers='frame'")
    stage, cur = lower_input_rtl(snn.encoder, lanes, architecture, spatial=reads_image(snn.layers))
    stages = [stage]
    cursors, held_by = {INPUT: cur}, {INPUT: stage.name}  # per IR node: what it hands on, the stage holding it
    for layer, src in zip(snn.layers, sources(snn.layers)):
        inputs = [cursors[name] for name in src]
        if layer.reshapes_only:
            cursors[layer.name], held_by[layer.name] = layer.relabel_rtl(inputs[0]), held_by[src[0]]
            continue
        stage, cursors[layer.name] = layer.lower_rtl_inputs(inputs, lanes, architecture)
        stage.sources, held_by[layer.name] = tuple(held_by[name] for name in src), stage.name
        stages.append(stage)
    last = snn.layers[-1].name
    stages.append(lower_output_rtl(cursors[last]))
    stages[-1].sources = (held_by[last],)
    size_rings(stages, buffers)
    return stages


def size_rings(stages: list[RtlStage], buffers: str) -> None:
    """The rows each producer's memory holds (OUT_RING; the encoder's RING) and what its consumer knows
    of them (IN_RING, IN_ROWS, IN_WHOLE): the whole image for 'frame', for the output stage and for a
    consumer that reads the image relabelled (after a Reshape); else its window height plus stride. A join
    reads whole frames."""
    named = {s.name: s for s in stages}
    for cons in stages[1:-1]:
        for prod in (named[name] for name in cons.sources):
            h, w = prod.rows
            if h >= 1 << ROW_BITS:
                raise HwflowError(f"'{prod.name}' has {h} rows; the RTL's row counters hold fewer than {1 << ROW_BITS}")
            ring = h
            if "IN_H" in cons.params:
                whole = (cons.params["IN_H"], cons.params["IN_W"]) != (h, w)
                window, stride = cons.params.get("K_H", cons.params.get("P_H")), cons.params["S_H"]
                ring = h if buffers == "frame" or whole else min(h, window + stride)
                cons.params.update(IN_RING=cons.params["IN_H"] if whole else ring, IN_ROWS=h, IN_WHOLE=int(whole))
            prod.params["RING" if prod.module == "hwflow_encode" else "OUT_RING"] = ring
    for s in stages[:-1]:
        s.params["LINE"] = int(buffers == "line")


def readers(stages: list[RtlStage]) -> dict[str, list[tuple[int, int]]]:
    """Per stage name: (consumer index, its input index) of every stage that reads its memory, in order."""
    out: dict[str, list[tuple[int, int]]] = {s.name: [] for s in stages}
    for k, s in enumerate(stages):
        for i, name in enumerate(s.sources):
            out[name].append((k, i))
    return out


def in_ports(i: int) -> tuple[str, str, str, str]:
    """The names of input i's read port and row handshake (a join's second input: in2_...)."""
    n = "" if i == 0 else str(i + 1)
    return f"in{n}_addr", f"in{n}_data", f"in{n}_rows", f"in{n}_need"


def ports(stages: list[RtlStage], k: int) -> list[tuple[str, str, int]]:
    """(direction, name, width) of stage k's ports besides clk, rst, start, done."""
    s = stages[k]
    named = {x.name: x for x in stages}
    if k == 0:
        return [("input", "s_axis_tdata", s.params["TDATA_BITS"]), ("input", "s_axis_tvalid", 1),
                ("output", "s_axis_tready", 1), ("input", "rd_addr", s.port[0]), ("output", "rd_data", s.port[1]),
                ("output", "out_rows", ROW_BITS), ("input", "out_need", ROW_BITS)]
    if k == len(stages) - 1:
        prev = named[s.sources[0]].port
        return [("output", "rd_addr", prev[0]), ("input", "rd_data", prev[1]),
                ("output", "m_axis_tdata", s.params["TDATA_BITS"]), ("output", "m_axis_tvalid", 1),
                ("input", "m_axis_tready", 1), ("output", "m_axis_tlast", 1)]
    out = []
    for i, name in enumerate(s.sources):
        addr, data, rows, need = in_ports(i)
        out += [("output", addr, named[name].port[0]), ("input", data, named[name].port[1])]
        if i:
            out += [("input", rows, ROW_BITS), ("output", need, ROW_BITS)]
    return out[:2] + [("input", "out_addr", s.port[0]), ("output", "out_data", s.port[1]),
                      ("input", "in_rows", ROW_BITS), ("output", "in_need", ROW_BITS)] + out[2:] + [
        ("output", "out_rows", ROW_BITS), ("input", "out_need", ROW_BITS)]


def wrapper(stages: list[RtlStage], k: int) -> list[str]:
    """hwflow_blk_<stage>: the template instance with its parameters, one module per block (per-block counts)."""
    s = stages[k]
    ps = ports(stages, k)
    decl = ["input wire clk", "input wire rst", "input wire start", "output wire done"]
    decl += [f"{d} wire {'' if w == 1 else f'[{w - 1}:0] '}{n}" for d, n, w in ps]
    params = s.verilog_params() + (f", .LAYER_ID({k})" if s.synaptic else "")
    conns = ", ".join(f".{n}({n})" for n in ["clk", "rst", "start", "done"] + [n for _, n, _ in ps])
    return [f"module {block_module(s)} ({', '.join(decl)});",
            f"    {s.module} #({params}) block ({conns});", "endmodule", ""]


def top_verilog(stages: list[RtlStage], buffers: str) -> str:
    """hwflow_top: AXI-Stream in and out, ap_start/ap_done/ap_idle, the stages in order: one after another
    ('frame'), or all at once with the output stage after the last block is done ('line'). A memory several
    stages read (a branch source) has its read port switched to whichever of them is running ('frame')."""
    enc, out = stages[0], stages[-1]
    blocks = stages[:-1]
    reads = readers(stages)
    lines = [
        f"// Generated by hwflow.to_rtl: the blocks of hls_templates/rtl/ chained, buffers '{buffers}'.",
        f"module {TOP} (",
        "    input wire ap_clk,",
        "    input wire ap_rst,",
        "    input wire ap_start,",
        "    output wire ap_done,",
        "    output wire ap_idle,",
        f"    input wire [{enc.params['TDATA_BITS'] - 1}:0] s_axis_tdata,",
        "    input wire s_axis_tvalid,",
        "    output wire s_axis_tready,",
        f"    output wire [{out.params['TDATA_BITS'] - 1}:0] m_axis_tdata,",
        "    output wire m_axis_tvalid,",
        "    input wire m_axis_tready,",
        "    output wire m_axis_tlast",
        ");",
        "    reg busy;",
        "    wire go = ap_start && !busy;",
        "    assign ap_idle = !busy;",
        "    always @(posedge ap_clk) busy <= ap_rst ? 1'b0 : (go ? 1'b1 : (ap_done ? 1'b0 : busy));",
    ]
    for s in stages:
        lines.append(f"    wire {vid(s)}_done;")
        if s is not out:
            lines += [f"    wire [{s.port[0] - 1}:0] {vid(s)}_addr;", f"    wire [{s.port[1] - 1}:0] {vid(s)}_data;",
                      f"    wire [{ROW_BITS - 1}:0] {vid(s)}_rows, {vid(s)}_need;"]
        if len(s.sources) > 1:
            lines.append(f"    wire [{ROW_BITS - 1}:0] {', '.join(f'{vid(s)}_need{i + 1}' for i in range(1, len(s.sources)))};")
    lines.append(f"    wire [{ROW_BITS - 1}:0] output_need = 0;  // the output stage reads once every block is done")
    starts = ["go" if k == 0 else f"{vid(stages[k - 1])}_done" for k in range(len(stages))]
    if buffers == "line":  # every block starts with the sample; the output stage once all are done
        fin = [f"{vid(s)}_fin" for s in blocks]
        lines.append(f"    reg {', '.join(fin)}, out_go;")
        lines.append(f"    wire all_done = {' && '.join(f'({f} || {vid(s)}_done)' for f, s in zip(fin, blocks))};")
        lines.append("    always @(posedge ap_clk) begin")
        for f, s in zip(fin, blocks):
            lines.append(f"        {f} <= ap_rst || go ? 1'b0 : {f} || {vid(s)}_done;")
        lines += ["        out_go <= ap_rst || go ? 1'b0 : out_go || all_done;", "    end"]
        starts = ["go"] * len(blocks) + ["all_done && !out_go"]
    addr = {}  # (consumer, input) -> the wire its read address drives
    for s in stages:
        if len(reads[s.name]) < 2:
            addr.update({key: f"{vid(s)}_addr" for key in reads[s.name]})
            continue
        # several readers ('frame': one runs at a time): each drives its own wire, the running one the port
        for k, i in reads[s.name]:
            c = vid(stages[k])
            addr[(k, i)] = f"{c}_rd{i}"
            lines += [f"    wire [{s.port[0] - 1}:0] {c}_rd{i};", f"    reg {c}_run{i};",
                      f"    always @(posedge ap_clk) {c}_run{i} <= ap_rst || go ? 1'b0 : "
                      f"({starts[k]} ? 1'b1 : ({c}_done ? 1'b0 : {c}_run{i}));"]
        *first, (k_last, i_last) = reads[s.name]
        mux = "".join(f"{vid(stages[k])}_run{i} ? {addr[(k, i)]} : " for k, i in first)
        lines.append(f"    assign {vid(s)}_addr = {mux}{addr[(k_last, i_last)]};")
    named = {s.name: s for s in stages}
    for k, s in enumerate(stages):
        conns = [".clk(ap_clk)", ".rst(ap_rst)", f".start({starts[k]})", f".done({vid(s)}_done)"]
        readers_of = reads[s.name]
        need = f"{vid(stages[readers_of[0][0]])}_need" if readers_of and stages[readers_of[0][0]] is not out \
            else "output_need"
        if s is enc:
            conns += [".s_axis_tdata(s_axis_tdata)", ".s_axis_tvalid(s_axis_tvalid)",
                      ".s_axis_tready(s_axis_tready)", f".rd_addr({vid(s)}_addr)", f".rd_data({vid(s)}_data)",
                      f".out_rows({vid(s)}_rows)", f".out_need({need})"]
        elif s is out:
            src = vid(named[s.sources[0]])
            conns += [f".rd_addr({addr[(k, 0)]})", f".rd_data({src}_data)", ".m_axis_tdata(m_axis_tdata)",
                      ".m_axis_tvalid(m_axis_tvalid)", ".m_axis_tready(m_axis_tready)", ".m_axis_tlast(m_axis_tlast)"]
        else:
            for i, name in enumerate(s.sources):
                a, d, r, n = in_ports(i)
                own_need = f"{vid(s)}_need" if i == 0 else f"{vid(s)}_need{i + 1}"
                conns += [f".{a}({addr[(k, i)]})", f".{d}({vid(named[name])}_data)", f".{r}({vid(named[name])}_rows)",
                          f".{n}({own_need})"]
            conns += [f".out_addr({vid(s)}_addr)", f".out_data({vid(s)}_data)", f".out_rows({vid(s)}_rows)",
                      f".out_need({need})"]
        lines.append(f"    {block_module(s)} u_{vid(s)} ({', '.join(conns)});")
    lines += [f"    assign ap_done = {vid(out)}_done;", "endmodule", ""]
    for k in range(len(stages)):
        lines += wrapper(stages, k)
    return "\n".join(lines)


def to_rtl(snn, out_dir: str | Path, architecture: str = "event", lanes: int = 8, force: bool = False,
           buffers: str = "frame") -> RtlDesign:
    """Write the SNN as Verilog into out_dir: hwflow_top.v, the block templates, ROM files, design.json.

    architecture: 'event' (integration follows the input spikes), 'folded' (every synapse), or 'ann'
    (the ANN of the same integer network: multiply-accumulates over levels, for comparison);
    lanes: output neurons per cycle in every block; buffers: 'frame' (whole images between blocks,
    which run one after another) or 'line' (line buffers, blocks run at once row by row).
    Returns the design (simulate, synthesize).
    """
    stages = lower_stages(snn, lanes, architecture, buffers)
    out = Path(out_dir)
    with output_dir(out, force) as tmp:
        top, *templates = design_sources({s.module for s in stages})
        (tmp / top).write_text(top_verilog(stages, buffers))
        for name in templates:
            (tmp / name).write_text((RTL_DIR / name).read_text())
        for s in stages:
            for name, text in s.memories.items():
                (tmp / name).write_text(text)
        meta = dict(name=snn.name, architecture=architecture, lanes=lanes, buffers=buffers, top=TOP,
                    stages=[dict(name=s.name, module=s.module, params=s.params, sources=list(s.sources)) for s in stages])
        (tmp / "design.json").write_text(json.dumps(meta, indent=2))
    return RtlDesign(out.resolve(), snn, stages, architecture, lanes, buffers)
