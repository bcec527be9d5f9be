"""Calibrate hwflow.hls.feasibility's resource estimates on Yosys counts of the RTL twin, and check them.

Rows: every design of reports/hardware_*.json and reports/hls_strategies.json with Yosys synth_xilinx
counts of the RTL twin whose run folder (runs/bench/hw_<config>_<encoding>_lam<lambda>) still holds
the trained model they were measured on (hardware_*.json: the same accuracy and spikes per sample;
hls_strategies.json is written from those folders). For the SNN (event, folded) the estimate of
hwflow's firmware with that strategy and lanes (hwflow.hls.lower.feasible); for the ANN the estimate
of the twin's folded ANN (`lanes` multipliers per layer, hwflow.hls.feasibility.estimate_ann, the
estimate hls4ml's ANN gets at its reuse factors: also recorded, as `hls4ml_estimate`). Prints estimate against Yosys per row
with the error, and the least-squares constants on these rows:
- SNN: LUT and FF per lane bit (lanes x membrane width, twice where the block fires), FF per block;
- ANN: LUT and FF per accumulator bit of its multipliers (multipliers x membrane width), through
  the origin for LUT, after FF_PER_BLOCK per block (layers, pools, flatten) for FF.

    python benchmarks/calibrate.py          # writes reports/feasibility_calibration.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, ROOT, save  # noqa: E402

from hwflow.hls import feasibility  # noqa: E402
from hwflow.hls.ann import ann_settings, data_blocks  # noqa: E402
from hwflow.hls.lower import feasible, layer_list  # noqa: E402
from hwflow.options import FirmwareOptions  # noqa: E402
from hwflow.serialize import load_snn  # noqa: E402
from hwflow.train import load_trained  # noqa: E402

KEYS = ("LUT", "FF", "DSP", "BRAM")


def measured() -> list[dict]:
    """(run folder, design kind, strategy, lanes, Yosys counts, source) of every usable row."""
    out = []
    for path in sorted(REPORTS.glob("hardware_*.json")) + [REPORTS / "hls_strategies.json"]:
        if not path.exists():
            continue
        for r in json.loads(path.read_text())["rows"]:
            yosys = r.get("yosys", r)
            if not isinstance(yosys, dict) or "LUT" not in yosys or r["design"].startswith("ANN da4ml"):
                continue
            run = ROOT / "runs" / "bench" / f"hw_{r['config']}_{r['encoding']}_lam{r['lambda']:g}"
            if not (run / "report.json").exists():
                continue
            trained = json.loads((run / "report.json").read_text())
            if "accuracy" in r and (r["accuracy"], r["spikes_per_sample"]) != (trained["snn_accuracy"],
                                                                              trained["spikes_per_sample"]):
                continue  # measured on an earlier training of that folder
            kind = "ANN" if r["design"].startswith("ANN") else "SNN"
            strategy = "ann" if kind == "ANN" else r["design"].split()[1]
            key = (run.name, strategy, r["lanes"])
            if key not in {(o["run"], o["strategy"], o["lanes"]) for o in out}:
                out.append(dict(run=run.name, kind=kind, strategy=strategy, lanes=r["lanes"], source=path.name,
                                yosys={k: yosys[k] for k in KEYS}))
    return out


def snn_features(dicts: list[dict]) -> dict[str, float]:
    """What the SNN estimate is linear in: lane bits (adder plus firing bits), blocks (all of them)."""
    syn = [d for d in dicts[1:] if "weight_data" in d]
    return {"lane_bits": sum(d["lanes"] * d["membrane_bits"] * (1 + bool(d["out_steps"])) for d in syn),
            "blocks": len(dicts) - 1}


def estimate(row: dict) -> tuple[dict, dict]:
    """(features, estimate) of the row's design."""
    run = ROOT / "runs" / "bench" / row["run"]
    snn = load_snn(run / "snn.json")
    if row["kind"] == "SNN":
        opts = FirmwareOptions(strategy=row["strategy"], lanes=row["lanes"])
        return snn_features(layer_list(snn, opts)[0]), vars(feasible(snn, opts).total)
    macs = twin_ann(snn, row["lanes"])
    model, _ = load_trained(run)
    row["hls4ml_estimate"] = vars(ann_settings(model, FirmwareOptions(strategy="event", lanes=row["lanes"]),
                                               snn).feasibility.total)
    blocks = data_blocks(model)
    return ({"acc_bits": sum(m.multipliers * m.acc_bits for m in macs), "blocks": len(macs) + len(blocks)},
            vars(feasibility.estimate_ann(macs, "", blocks).total))


def twin_ann(snn, lanes: int) -> list[feasibility.MacLayer]:
    """The RTL twin's folded ANN as estimate_ann's layers: `lanes` multipliers per synaptic layer, a ROM
    of n_in * ceil(n_out / lanes) words (hls_templates/rtl/hwflow_if_layer.v with ANN=1)."""
    out = []
    for s in snn.synaptic_layers:
        n_in, n_out = int(np.prod(s.weight.shape[:-1])), int(s.weight.shape[-1])
        out.append(feasibility.MacLayer(s.name, lanes, n_in * -(-n_out // lanes), s.membrane_bits,
                                        max(s.weight_bits, 2)))
    return out


def main() -> None:
    rows = measured()
    for row in rows:
        row["features"], row["estimate"] = estimate(row)
    fit = {}
    snn = [r for r in rows if r["kind"] == "SNN"]
    if snn:
        a = np.array([[r["features"]["lane_bits"], r["features"]["blocks"]] for r in snn], dtype=float)
        for target in ("LUT", "FF"):
            coef, *_ = np.linalg.lstsq(a, np.array([r["yosys"][target] for r in snn], float), rcond=None)
            fit[f"SNN {target}"] = dict(zip(("lane_bits", "blocks"), coef.round(3).tolist()))
    ann = [r for r in rows if r["kind"] == "ANN"]
    if ann:
        bits = np.array([r["features"]["acc_bits"] for r in ann], dtype=float)
        lut = np.array([r["yosys"]["LUT"] for r in ann], float)
        ff = np.array([r["yosys"]["FF"] - feasibility.FF_PER_BLOCK * r["features"]["blocks"] for r in ann], float)
        fit["ANN LUT"] = {"acc_bits": round(float(bits @ lut / (bits @ bits)), 3)}
        fit["ANN FF"] = {"acc_bits": round(float(bits @ ff / (bits @ bits)), 3), "per_block": feasibility.FF_PER_BLOCK}
    print(f"{'run':<34}{'design':<8}{'lanes':>6}{'LUT est':>9}{'Yosys':>7}{'err':>7}{'FF est':>8}{'Yosys':>7}"
          f"{'err':>7}{'DSP est':>8}{'Yosys':>6}{'BRAM est':>9}{'Yosys':>6}")
    errors: dict[str, dict[str, list[float]]] = {"SNN": {"LUT": [], "FF": []}, "ANN": {"LUT": [], "FF": []}}
    for row in rows:
        e, y = row["estimate"], row["yosys"]
        for k in ("LUT", "FF"):
            errors[row["kind"]][k].append(e[k] / y[k] - 1)
        print(f"{row['run']:<34}{row['strategy']:<8}{row['lanes']:>6}{e['LUT']:>9}{y['LUT']:>7}"
              f"{e['LUT'] / y['LUT'] - 1:>7.0%}{e['FF']:>8}{y['FF']:>7}{e['FF'] / y['FF'] - 1:>7.0%}"
              f"{e['DSP']:>8}{y['DSP']:>6}{e['BRAM']:>9}{y['BRAM']:>6}")
    summary = {kind: {k: {"designs": len(v), "mean_abs_error": float(np.mean(np.abs(v))),
                          "worst_error": float(max(v, key=abs))} for k, v in errs.items() if v}
               for kind, errs in errors.items()}
    print("least-squares constants on these rows:", json.dumps(fit))
    print("estimate error with hwflow's constants:", json.dumps(summary))
    print(table(rows))
    save("feasibility_calibration", dict(
        command="python benchmarks/calibrate.py", fit=fit, error=summary,
        constants={k: getattr(feasibility, k) for k in ("LUT_PER_BIT", "FF_PER_BIT", "FF_PER_BLOCK", "ANN_LUT_PER_BIT",
                                                        "ANN_FF_PER_BIT")}, rows=rows))


def table(rows: list[dict]) -> str:
    """The Markdown table of reports/BENCHMARKS.md: estimate against Yosys per design."""
    lines = ["| run | design | lanes | estimate LUT / FF / DSP / BRAM | Yosys (RTL twin) | LUT error | FF error "
             "| hls4ml's ANN at its reuse factors: estimate |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e, y = r["estimate"], r["yosys"]
        h = r.get("hls4ml_estimate")
        lines.append(f"| {r['run']} | {r['strategy']} | {r['lanes']} | " + " / ".join(f"{e[k]:,}" for k in KEYS)
                     + " | " + " / ".join(f"{y[k]:,}" for k in KEYS) + f" | {e['LUT'] / y['LUT'] - 1:+.0%} | "
                     f"{e['FF'] / y['FF'] - 1:+.0%} | " + (" / ".join(f"{h[k]:,}" for k in KEYS) if h else "") + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
