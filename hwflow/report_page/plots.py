"""The report's figures as PNG files (matplotlib's Agg canvas; pyplot's global state is not touched).

Each plot function returns a Plot: the PNG written, or no file and the reason it was skipped.

A sweep is the sweep.json that hwflow.sweep writes ({"points": [...]}) or benchmarks/regularizer.py's
({"time_steps": T, "rows": [...]}); each point holds "snn_accuracy", optionally "ann_accuracy",
"time_steps" (else the top-level T), "lambda", "spikes_per_neuron" {layer: spikes} and "status".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from hwflow.report_page.compare import DESIGN_NAMES, RESOURCES, TOOL, is_number

DPI = 110
SNN_COLOR, ANN_COLOR, AC_COLOR = "#1f6fb4", "#d9822b", "#7fb8e6"
SPIKE_CMAP = LinearSegmentedColormap.from_list("spikes", ["#ffffff", "#1d232a"])
RASTER_ROWS = 256  # larger layers are shown in groups of neurons


@dataclass
class Plot:
    id: str
    title: str
    file: Path | None  # None: skipped, see note
    note: str


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def load_sweep(run_dir: Path, sweep: str | Path | dict | None) -> tuple[list[dict], str]:
    """(the sweep's successful points, '') or ([], why there are none).

    Default: sweep.json in the run folder, or in its parent when the run is one point of a sweep.
    """
    if sweep is None:
        sweep = next((p for p in (run_dir / "sweep.json", run_dir.parent / "sweep.json") if p.is_file()), None)
        if sweep is None:
            return [], f"no sweep: no sweep.json in {run_dir} or its parent (hwflow sweep writes one)"
    if not isinstance(sweep, dict):
        try:
            sweep = json.loads(Path(sweep).read_text())
        except (OSError, ValueError) as exc:
            return [], f"cannot read the sweep {sweep}: {exc}"
    points = sweep.get("points", sweep.get("rows")) if isinstance(sweep, dict) else None
    if not isinstance(points, list):
        return [], "the sweep has no list of points"
    default_t = sweep.get("time_steps") if isinstance(sweep.get("time_steps"), int) else None
    rows = [{"time_steps": default_t, "lambda": 0.0, **p} for p in points if isinstance(p, dict)]
    rows = [p for p in rows if p.get("status", "ok") == "ok" and isinstance(p.get("snn_accuracy"), (int, float))
            and isinstance(p["time_steps"], int)]
    return rows, "" if rows else "the sweep has no successful points with snn_accuracy and time_steps"


def accuracy_vs_t(rows: list[dict], sweep_note: str, out: Path) -> Plot:
    title = "Accuracy versus time steps T"
    steps = sorted({r["time_steps"] for r in rows})
    if len(steps) < 2:
        return Plot("accuracy_vs_t", title, None, sweep_note or f"the sweep has one T only ({steps[0]})")
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    for i, lam in enumerate(sorted({r["lambda"] for r in rows})):
        sel = sorted((r for r in rows if r["lambda"] == lam), key=lambda r: r["time_steps"])
        t = [r["time_steps"] for r in sel]
        color = f"C{i}"
        ax.plot(t, [100 * r["snn_accuracy"] for r in sel], "o-", color=color, label=f"SNN, λ = {lam:g}")
        if all("ann_accuracy" in r for r in sel):
            ax.plot(t, [100 * r["ann_accuracy"] for r in sel], "x--", color=color, alpha=0.7,
                    label=f"QKeras ANN, λ = {lam:g}")
    ax.set(xlabel="time steps T (= activation bits)", ylabel="test accuracy (%)", xticks=steps)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return Plot("accuracy_vs_t", title, _save(fig, out / "accuracy_vs_t.png"), "measured (simulation), from the sweep")


def spikes_per_layer(report: dict, rows: list[dict], sweep_note: str, out: Path) -> Plot:
    title = "Spikes per neuron per layer"
    t = report.get("time_steps")
    sel = {r["lambda"]: r for r in rows if r["time_steps"] == t and isinstance(r.get("spikes_per_neuron"), dict)}
    if len(sel) >= 2:
        series = {f"λ = {lam:g}": sel[lam]["spikes_per_neuron"] for lam in sorted(sel)}
        note = f"measured (simulation), from the sweep at T = {t}: one bar per spike-regularizer weight λ"
    else:
        spn = report.get("spikes_per_neuron")
        if not isinstance(spn, dict) or not spn:
            return Plot("spikes", title, None, "report.json has no spikes_per_neuron")
        lam = report.get("lambda")
        series = {"this run" + (f", λ = {lam:g}" if is_number(lam) else ""): spn}
        note = ("measured (simulation), this run only: " + (sweep_note or f"the sweep has no λ pair at T = {t}")
                + "; a sweep over λ adds the with/without-regularizer comparison")
    layers = list(next(iter(series.values())))
    fig = Figure(figsize=(max(6.4, 1.2 * len(layers) + 2), 3.4))
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    for i, (label, spn) in enumerate(series.items()):
        x = np.arange(len(layers)) + (i - (len(series) - 1) / 2) * width
        bars = ax.bar(x, [spn.get(name, 0) for name in layers], width, label=label, color=f"C{i}")
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks(np.arange(len(layers)), layers)
    ax.set(ylabel="spikes per neuron per inference")
    if t:
        ax.axhline(t, color="grey", lw=0.8, ls=":")
        ax.text(-0.45, t, f"T = {t}: the most a neuron can fire", va="bottom", fontsize=7, color="grey")
        ax.set_ylim(0, 1.12 * t)
    ax.legend(fontsize=8)
    return Plot("spikes", title, _save(fig, out / "spikes_per_layer.png"), note)


def raster(run_dir: Path, out: Path) -> Plot:
    title = "Spike raster of test sample 0"
    path = run_dir / "trace_sample0.npz"
    if not path.is_file():
        return Plot("raster", title, None, f"{path} does not exist (hwflow run writes it)")
    try:
        trace = np.load(path)
        planes = {k[:-len(".spikes")]: trace[k][0] for k in trace.files if k.endswith(".spikes")}
    except (OSError, ValueError, KeyError) as exc:
        return Plot("raster", title, None, f"cannot read {path}: {exc}")
    if not planes:
        return Plot("raster", title, None, f"{path} has no LAYER.spikes arrays")
    planes = {name: a.reshape(a.shape[0], -1) for name, a in planes.items()}  # [steps, neurons]
    heights = [min(max(a.shape[1], 8), 64) for a in planes.values()]
    fig = Figure(figsize=(6.4, 1.0 + 0.045 * sum(heights) + 0.35 * len(planes)))
    axes = fig.subplots(len(planes), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    for ax, (name, a) in zip(axes, planes.items()):
        steps, neurons = a.shape
        binary = a.min() >= 0 and a.max() <= 1
        what = (f"{int(a.sum())} spikes" if binary else
                f"analog input levels {a.min()}..{a.max()} (direct encoding, darker = higher), not spikes")
        group = -(-neurons // RASTER_ROWS)  # neurons per image row
        if group > 1:  # each row: the mean of `group` neurons (the fraction spiking)
            a = np.pad(a.astype(float), ((0, 0), (0, -neurons % group))).reshape(steps, -1, group).mean(axis=2)
            what += f"; a row = {group} neurons, grey = fraction spiking" if binary else f"; a row = {group} neurons"
        ax.imshow(a.T, aspect="auto", interpolation="nearest", cmap=SPIKE_CMAP if binary else "Oranges",
                  vmin=0, vmax=1 if binary else None, extent=(-0.5, steps - 0.5, neurons - 0.5, -0.5))
        ax.set_xticks(np.arange(steps + 1) - 0.5, minor=True)
        if neurons <= 128:
            ax.set_yticks(np.arange(neurons + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="#c8ced6", lw=0.4)
        ax.tick_params(which="minor", length=0)
        ax.set_title(f"{name}: {neurons} neurons × {steps} step{'s' if steps > 1 else ''}, {what}",
                     fontsize=8, loc="left")
        ax.set_ylabel("neuron", fontsize=8)
        ax.set_xticks(range(steps), [f"t{t} (2^{steps - 1 - t})" if binary else f"t{t}" for t in range(steps)])
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("time step, most significant plane first (weight of the spike)", fontsize=8)
    fig.tight_layout()
    return Plot("raster", title, _save(fig, out / "spike_raster.png"),
                "measured (simulation): black = spike; the readout layer integrates without spiking (not shown)")


def resources(comp: dict, out: Path) -> Plot:
    title = "Resources: SNN vs ANN"
    summary = next(t for t in comp["tables"] if t["id"] == "summary")
    rows = {row[0]: row[1:3] for row in summary["rows"]}  # SNN, ANN
    known = [(label, rows[label]) for label, _ in RESOURCES if any(v["value"] is not None for v in rows[label])]
    if not known:
        return Plot("resources", title, None, "no resource numbers: no csynth or Vivado utilization report "
                    "(--vivado-dir snn=DIR / ann=DIR)")
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.add_subplot()
    x = np.arange(len(known))
    for i, (design, color) in enumerate((("snn", SNN_COLOR), ("ann", ANN_COLOR))):
        cells = [cell[i] for _, cell in known]
        heights = [c["value"] or 0 for c in cells]
        bars = ax.bar(x + (i - 0.5) * 0.4, heights, 0.4, color=color, label=DESIGN_NAMES[design])
        for bar, c in zip(bars, cells):
            if c["value"] is None:
                text = "n/a"
            else:
                kind = "HLS est." if "csynth" in (c["note"] or "") else "Vivado" if c["source"] == TOOL else c["source"]
                text = f"{c['value']:,.0f}\n{kind}"
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, max(bar.get_height(), 1)), ha="center",
                        va="bottom", fontsize=6.5, xytext=(0, 1), textcoords="offset points")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(0, 10 * max(c["value"] or 1 for _, pair in known for c in pair))
    ax.set_xticks(x, [label for label, _ in known])
    ax.set(ylabel="used (log scale)")
    ax.legend(fontsize=8, loc="upper right")
    return Plot("resources", title, _save(fig, out / "resources.png"),
                "tool reports: 'HLS est.' = csynth estimate, 'Vivado' = post-synthesis/implementation utilization")


def energy(report: dict, out: Path) -> Plot:
    title = f"Energy per inference by layer (45 nm op model {report.get('energy_pj', {}).get('model', 'fp32_45')})"
    try:
        layers = report["energy_pj"]["layers"]
        names = [layer["name"] for layer in layers]
        ann, snn = (np.array([layer[k] for layer in layers], float) / 1e3 for k in ("ann_pj", "snn_pj"))
        # the SNN's MACs (analog first layer) at the ANN's energy per MAC; the rest is accumulates
        mac = np.array([layer["snn_macs"] * layer["ann_pj"] / layer["ann_macs"] if layer["ann_macs"] else 0
                        for layer in layers]) / 1e3
    except (KeyError, TypeError, ValueError) as exc:
        return Plot("energy", title, None, f"report.json has no usable energy_pj.layers ({exc!r})")
    if not names:
        return Plot("energy", title, None, "report.json has no energy_pj.layers")
    fig = Figure(figsize=(max(6.4, 1.3 * len(names) + 2), 3.6))
    ax = fig.add_subplot()
    x = np.arange(len(names))
    ax.set_ylim(0, 1.45 * max(ann.max(), snn.max(), 1e-9))
    ax.bar(x - 0.2, ann, 0.4, color=ANN_COLOR, label="ANN: multiply-accumulates")
    ax.bar(x + 0.2, mac, 0.4, color=SNN_COLOR, label="SNN: multiply-accumulates (analog input)")
    ax.bar(x + 0.2, snn - mac, 0.4, bottom=mac, color=AC_COLOR, label="SNN: accumulates (spikes)")
    for xi, a, s in zip(x, ann, snn):
        ax.text(xi - 0.2, a, f"{a:.2f}", ha="center", va="bottom", fontsize=7)
        ax.text(xi + 0.2, s, f"{s:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, names)
    ax.set(ylabel="energy per inference (nJ)")
    ax.legend(fontsize=8, loc="upper right")
    return Plot("energy", title, _save(fig, out / "energy_per_layer.png"),
                "estimate (45 nm op model): ANN MACs vs SNN accumulates driven by the measured spikes")


def make_plots(run_dir: Path, comp: dict, sweep: str | Path | dict | None, out: Path) -> list[Plot]:
    """Every figure of the report, written to `out` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    rows, sweep_note = load_sweep(run_dir, sweep)
    report = comp["report"]
    return [accuracy_vs_t(rows, sweep_note, out), spikes_per_layer(report, rows, sweep_note, out),
            raster(run_dir, out), resources(comp, out), energy(report, out)]
