"""The row schedule of a design with line buffers (to_rtl(..., buffers='line')): a model of when each
block's output rows start, from the cycles of its rows and the row handshake of
hls_templates/rtl/hwflow_if_layer.v. RtlDesign.simulate measures the same in Verilator.

Cycle 0 is the cycle the sample starts in. A block's row r starts in cycle

    B[r] = max(B[r-1] + D[r-1]  (1 for r = 0),   its input rows are written,   its ring slot is free)

and is written (the next block sees it) from E[r] = B[r] + D[r], D the row's cycles. A block reads
input rows 0 .. min(IN_H, (r // U_H)*S_H - PAD_T + K_H) - 1 for its row r (all IN_ROWS if IN_WHOLE;
U_H = 1 but for an upsampling pool, whose window moves every U_H rows); its consumer still reads rows
from max(0, (j // U_H)*S_H - PAD_T) on (0 if IN_WHOLE) once j of its rows are written, and none once
all are, and row r may be written while r < that + RING. A block is done in cycle
E[last]; the output stage starts when every block is, and the sample is done `output_cycles` later.
"""
from __future__ import annotations

import numpy as np

from hwflow.rtl.block import RtlStage


def window(stage: RtlStage) -> tuple[int, int, int, int]:
    """(rows of the window, row stride, padding rows above, output rows per window row) of a block that
    reads an image."""
    p = stage.params
    return p.get("K_H", p.get("P_H")), p["S_H"], p["PAD_T"], p.get("U_H", 1)


def line_latency(stages: list[RtlStage], rows: list[np.ndarray]) -> int:
    """Start -> done of one sample: the blocks (encoder first) with their rows' cycles `rows`, then
    the output stage, stages[-1]."""
    blocks = stages[:-1]
    last = len(blocks) - 1

    def input_rows(k: int, r: int) -> int:
        """The producer's rows block k's row r reads (written before it starts)."""
        p = blocks[k].params
        if p["IN_WHOLE"]:
            return p["IN_ROWS"]
        size, stride, pad, up = window(blocks[k])
        return min(p["IN_H"], r // up * stride - pad + size)

    def consumer_rows(k: int, r: int) -> int:
        """How many rows block k + 1 must have written before block k may write its row r."""
        ring = blocks[k].params["RING" if k == 0 else "OUT_RING"]
        cons = blocks[k + 1]
        size, stride, pad, up = window(cons)
        height = len(rows[k + 1])
        for j in range(height):
            still = 0 if cons.params["IN_WHOLE"] else max(0, j // up * stride - pad)
            if r < still + ring:
                return j
        return height

    def after(k: int, r: int) -> list[tuple[int, int]]:
        """The rows whose E decides when block k's row r starts."""
        deps = [(k, r - 1)] if r else []
        if k > 0 and (n := input_rows(k, r)) > 0:
            deps.append((k - 1, n - 1))
        if k < last and (j := consumer_rows(k, r)) > 0:
            deps.append((k + 1, j - 1))
        return deps

    written: dict[tuple[int, int], int] = {}  # E of each (block, row), depth first over the rows it waits for

    def end(k: int, r: int) -> int:
        stack = [(k, r)]
        while stack:
            row = stack[-1]
            if row in written:
                stack.pop()
                continue
            deps = after(*row)
            todo = [d for d in deps if d not in written]
            if todo:
                stack.extend(todo)
                continue
            written[row] = max([1] + [written[d] for d in deps]) + int(rows[row[0]][row[1]])
            stack.pop()
        return written[(k, r)]

    done = max(end(k, len(rows[k]) - 1) for k in range(len(blocks)))
    return done + stages[-1].cycles(None)
