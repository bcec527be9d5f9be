"""Design-space sweep: the flow over a grid of time steps T x lambda, as Ray tasks.

Locally (one task per core) or on an existing Ray cluster. Each task runs `hwflow.flow.run` in a
node-local temporary folder and sends the run folder back as a tar archive, so cluster nodes need
hwflow installed (and any dataset path of the config) but no filesystem shared with the driver.
"""
from __future__ import annotations

import io
import json
import math
import os
import socket
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

import ray
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from tqdm import tqdm

from hwflow.compat import reload_ray_config
from hwflow.config import deep_merge, load_config, validate_config
from hwflow.defaults import MAX_TIME_STEPS
from hwflow.errors import HwflowError
from hwflow.flow import preflight
from hwflow.outputs import check_writable, output_dir
# One core per task: TensorFlow and OpenMP would otherwise each start a thread per core. And the
# Keras of `hwflow run` (keras 2.15): importing QKeras sets TF_USE_LEGACY_KERAS=1 in the driver, which
# workers would inherit and so run tf_keras (whose internals autograph converts: 5x slower training).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
              "TF_CPP_MIN_LOG_LEVEL": "3", "TF_USE_LEGACY_KERAS": "0"}
REPORT_FIELDS = ("snn_accuracy", "ann_accuracy", "mismatches", "spikes_per_neuron", "spikes_per_sample")


def parse_grid(text: str, kind: type[int] | type[float]) -> list:
    """'1,2,4' -> [1, 2, 4] (kind=int); '0,1e-6' -> [0.0, 1e-06] (kind=float)."""
    values = []
    for token in filter(None, (t.strip() for t in text.split(","))):
        try:
            values.append(kind(token))
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise HwflowError(f"grid value {token!r} is not {what}; give a comma-separated list "
                              f"such as {'1,2,4' if kind is int else '0,1e-6'}") from None
    return values


def one_line(exc: BaseException, limit: int = 300) -> str:
    """'Type: message' on one line, at most `limit` characters."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def run_name(t: int, lam: float) -> str:
    return f"T{t}_lam{lam:g}"


@ray.remote(num_cpus=1)
def run_point(cfg: dict, t: int, lam: float) -> tuple[dict | None, bytes | str]:
    """(report, the run folder as .tar.gz) or (None, one-line error)."""
    from hwflow.flow import run
    with tempfile.TemporaryDirectory() as tmp:
        try:
            point_cfg = validate_config(deep_merge(cfg, {"time_steps": t, "train": {"lambda": lam}}),
                                        f"{cfg['name']} at T={t}, lambda={lam:g}")
            report = run(point_cfg, Path(tmp) / "run", progress=False)
        except Exception as exc:
            return None, one_line(exc)
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            tar.add(Path(tmp) / "run", arcname=".")
        return report, archive.getvalue()


def sweep(config: str | Path, time_steps: list[int], lambdas: list[float], out: Path,
          address: str | None = None, overrides: dict | None = None, num_cpus: int | None = None,
          force: bool = False) -> dict:
    """Run the flow for every (T, lambda) and write out/{T*_lam*/, sweep.json, sweep.md, *.png}.

    address: an existing Ray cluster ('HOST:PORT', 'ray://HOST:PORT' or 'auto'); None starts a
    local instance with num_cpus cores (default: all). A Ray connection this process already has is
    used as it is (and left open). Failed points are reported in the result, not raised. force: write
    into an `out` that holds files hwflow did not write (they are kept; see hwflow.outputs).
    """
    time_steps, lambdas = check_grid(time_steps, lambdas)
    if address is not None and num_cpus is not None:
        raise HwflowError("num_cpus sets the size of a local Ray instance; drop it when giving an address")
    cfg = load_config(config, overrides)
    preflight(cfg)  # every point builds firmware with these options: fail now, not in each task
    check_writable(Path(out), force)
    started = connect(address, num_cpus)
    try:
        with output_dir(Path(out), force) as tmp:
            points = run_grid(cfg, time_steps, lambdas, tmp)
            result = {"config": cfg, "time_steps": time_steps, "lambdas": lambdas, "points": points}
            (tmp / "sweep.json").write_text(json.dumps(result, indent=2))
            (tmp / "sweep.md").write_text(markdown(result))
            plot_accuracy(points, tmp / "accuracy_vs_T.png")
            plot_sparsity(points, tmp / "sparsity.png")
    finally:
        if started:
            ray.shutdown()
    failed = sum(p["status"] == "failed" for p in points)
    print(f"sweep: {len(points) - failed} ok, {failed} failed; results in {Path(out) / 'sweep.md'}")
    return result


def check_grid(time_steps: list[int], lambdas: list[float]) -> tuple[list[int], list[float]]:
    """Sorted, de-duplicated grid values, or HwflowError."""
    if not time_steps or not lambdas:
        raise HwflowError("the sweep grid is empty; give at least one time step and one lambda")
    for t in time_steps:
        if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= MAX_TIME_STEPS:
            raise HwflowError(f"time steps must be integers 1..{MAX_TIME_STEPS}, got {t!r}")
    for lam in lambdas:
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not math.isfinite(lam) or lam < 0:
            raise HwflowError(f"lambda must be a number >= 0, got {lam!r}")
    return sorted(set(time_steps)), sorted({float(lam) for lam in lambdas})


def connect(address: str | None, num_cpus: int | None) -> bool:
    """Connect to Ray (a new local instance when address is None); False if this process already was.

    For an explicit cluster address the token goes with the connection (see `cluster_token`).
    """
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report sent over the network
    token = None
    if address not in (None, "auto"):
        probe(address)
        token = cluster_token()
    try:
        ray.init(address=address or "local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR", runtime_env={"env_vars": WORKER_ENV})
    except (ConnectionError, RuntimeError, ValueError) as exc:
        hint = ""
        if address not in (None, "auto"):
            hint = (f"; it refused the token from {token}, or did not answer" if token else
                    "; if the cluster uses token authentication, give this machine its token: copy the "
                    "head's ~/.ray/auth_token here (`ray get-auth-token` on the head prints it) or set "
                    "RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH")
        raise HwflowError(f"cannot start or reach Ray at {address or 'this machine'}: {one_line(exc)}{hint}") from None
    return True


def cluster_token() -> str | None:
    """Send Ray's token to an explicitly addressed cluster: where it comes from, or None.

    `ray start --head` turns token authentication on whenever a token exists (Ray >= 2.59 writes
    ~/.ray/auth_token on a first local `ray.init`), but `ray.init(address=HOST:PORT)` sends a token
    only under RAY_AUTH_MODE=token. So, with RAY_AUTH_MODE unset, hwflow sets it to `token` for
    this process when a token is found, in Ray's own order: RAY_AUTH_TOKEN, the file named by
    RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token. RAY_AUTH_MODE=disabled (or any set value) is left alone.
    The token reaches only the driver's connection: tasks run in workers that each node's raylet
    starts and that authenticate with that node's own token (the one its `ray start` used), so it
    is never put into the tasks' runtime environment (which the cluster stores and shows).
    """
    if os.environ.get("RAY_AUTH_TOKEN"):
        source = "RAY_AUTH_TOKEN"
    elif "RAY_AUTH_TOKEN_PATH" in os.environ:
        path = Path(os.environ["RAY_AUTH_TOKEN_PATH"]).expanduser()
        if not path.is_file() or not path.read_text().strip():  # Ray would abort the process
            raise HwflowError(f"RAY_AUTH_TOKEN_PATH={path} is not a file holding a token; point it at "
                              "the cluster's token file or unset it")
        source = f"RAY_AUTH_TOKEN_PATH={path}"
    elif (Path.home() / ".ray" / "auth_token").is_file():
        source = str(Path.home() / ".ray" / "auth_token")
    else:
        return None
    if "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"
        reload_ray_config()
    return source if os.environ["RAY_AUTH_MODE"].lower() == "token" else None


def probe(address: str, timeout: float = 5.0) -> None:
    """HwflowError unless something listens at the Ray address (ray.init would retry for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "localhost", int(port)), timeout=timeout).close()
    except (OSError, ValueError):
        raise HwflowError(f"no Ray cluster reachable at {address}; start one with 'ray start --head' "
                          "or give its HOST:PORT") from None


def run_grid(cfg: dict, time_steps: list[int], lambdas: list[float], out: Path) -> list[dict]:
    """Submit every point, collect them as they finish (one progress line each): the point rows."""
    grid = [(t, lam) for t in time_steps for lam in lambdas]
    pending = {run_point.remote(cfg, t, lam): (t, lam) for t, lam in grid}
    rows = {}
    with tqdm(total=len(grid), desc="sweep", unit="point") as bar:
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            t, lam = pending.pop(ref)
            try:
                report, payload = ray.get(ref)
            except ray.exceptions.RayError as exc:  # the worker died (out of memory, node lost, ...)
                report, payload = None, one_line(exc)
            rows[t, lam] = row = point_row(t, lam, report, payload, out)
            bar.write(f"T={t} lambda={lam:g}: " + (
                f"accuracy {row['snn_accuracy']:.4f}, SNN vs QKeras mismatches "
                f"{row['mismatches']['snn_vs_qkeras']}, spikes/sample {row['spikes_per_sample']:.1f}"
                if report else f"FAILED {payload}"))
            bar.update()
    return [rows[point] for point in grid]


def point_row(t: int, lam: float, report: dict | None, payload: bytes | str, out: Path) -> dict:
    """A sweep.json point; an ok point's run folder is unpacked into out/T*_lam*/."""
    row = {"time_steps": t, "lambda": lam, "status": "ok" if report else "failed", "error": None,
           "run_dir": None, **dict.fromkeys(REPORT_FIELDS), "energy_pj": None}
    if report is None:
        row["error"] = payload
        return row
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        tar.extractall(out / run_name(t, lam), filter="data")
    row.update({k: report[k] for k in REPORT_FIELDS}, run_dir=run_name(t, lam),
               energy_pj={k: report["energy_pj"][k] for k in ("ann", "snn")})
    return row


def markdown(result: dict) -> str:
    """sweep.md: one row per point."""
    lines = [f"# Sweep of {result['config']['name']}", "",
             "| T | lambda | QKeras acc. | SNN acc. | SNN vs QKeras mismatches | spikes/neuron "
             "| energy ANN / SNN (nJ) | run |", "|---:|---:|---:|---:|---:|---|---:|---|"]
    for p in result["points"]:
        if p["status"] == "failed":
            lines.append(f"| {p['time_steps']} | {p['lambda']:g} | | | | | | failed: {p['error'].replace('|', '/')} |")
            continue
        mm = p["mismatches"]["snn_vs_qkeras"]
        spikes = ", ".join(f"{k} {v:.3f}" for k, v in p["spikes_per_neuron"].items())
        lines.append(f"| {p['time_steps']} | {p['lambda']:g} | {p['ann_accuracy']:.4f} | {p['snn_accuracy']:.4f} "
                     f"| {'n/a' if mm is None else mm} | {spikes} | {p['energy_pj']['ann'] / 1e3:.2f} / "
                     f"{p['energy_pj']['snn'] / 1e3:.2f} | [{p['run_dir']}]({p['run_dir']}/report.json) |")
    return "\n".join(lines) + "\n"


def by_lambda(points: list[dict]) -> dict[float, list[dict]]:
    """The ok points grouped by lambda, each group sorted by T."""
    groups: dict[float, list[dict]] = {}
    for p in sorted(points, key=lambda p: p["time_steps"]):
        if p["status"] == "ok":
            groups.setdefault(p["lambda"], []).append(p)
    return groups


def plot_accuracy(points: list[dict], path: Path) -> None:
    """SNN test accuracy versus T, one line per lambda."""
    fig = Figure(figsize=(6.4, 4))
    ax = fig.add_subplot()
    for lam, sel in by_lambda(points).items():
        ax.plot([p["time_steps"] for p in sel], [p["snn_accuracy"] for p in sel], "o-", label=f"λ = {lam:g}")
    ax.set(ylabel="SNN test accuracy", title="Accuracy versus T")
    save(fig, [ax], points, path)


def plot_sparsity(points: list[dict], path: Path) -> None:
    """Spikes per neuron versus T, one panel per layer, one line per lambda."""
    groups = by_lambda(points)
    layers = list(dict.fromkeys(k for sel in groups.values() for p in sel for k in p["spikes_per_neuron"]))
    fig = Figure(figsize=(4 * max(1, len(layers)), 3.6))
    axes = fig.subplots(1, max(1, len(layers)), squeeze=False)[0]
    for ax, layer in zip(axes, layers or ["(no successful points)"]):
        for lam, sel in groups.items():
            ax.plot([p["time_steps"] for p in sel], [p["spikes_per_neuron"][layer] for p in sel], "o-",
                    label=f"λ = {lam:g}")
        ax.set(ylabel="spikes per neuron", title=layer)
    fig.suptitle("Spikes per neuron versus T")
    save(fig, axes, points, path)


def save(fig: Figure, axes: Iterable[Axes], points: list[dict], path: Path) -> None:
    """Label the T axes (integer ticks), add grids and legends, write the PNG."""
    for ax in axes:
        ax.set(xlabel="time steps T", xticks=sorted({p["time_steps"] for p in points}))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
