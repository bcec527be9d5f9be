"""Command line: hwflow train | convert | simulate | run."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from hwflow.errors import HwflowError

DEFAULT_CONFIG = "digits_mlp"


def parse_overrides(pairs: list[str]) -> dict:
    """--set a.b=value pairs to a nested dict (values parsed as YAML scalars)."""
    out: dict = {}
    for pair in pairs:
        if "=" not in pair:
            raise HwflowError(f"--set {pair!r} is not KEY=VALUE; write e.g. --set train.epochs=5")
        key, value = pair.split("=", 1)
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = yaml.safe_load(value)
    return out


def load(args) -> dict:
    from hwflow.config import load_config
    return load_config(args.config, overrides=parse_overrides(args.set))


def cmd_train(args) -> None:
    from hwflow.flow import atomic_dir
    from hwflow.train import train
    cfg = load(args)
    out = Path(args.out or f"runs/{cfg['name']}")
    with atomic_dir(out) as tmp:
        result = train(cfg, tmp, verbose=2)
    print(f"trained {cfg['name']}: model and config in {out}/ (test accuracy {result.float_accuracy:.4f})")


def trained(run_dir: str):
    from hwflow.train import load_trained
    return load_trained(Path(run_dir))


def cmd_convert(args) -> None:
    from hwflow.convert import convert
    from hwflow.serialize import save_snn
    model, cfg = trained(args.run_dir)
    snn = convert(model, encoding=args.encoding or cfg["input"]["encoding"])
    print(snn.summary())
    out = Path(args.out or Path(args.run_dir) / "snn.json")
    save_snn(snn, out)
    print(f"SNN IR written to {out}")


def cmd_simulate(args) -> None:
    from hwflow.convert import convert
    from hwflow.datasets import load_dataset
    from hwflow.flow import evaluate, summary
    model, cfg = trained(args.run_dir)
    snn = convert(model, encoding=args.encoding or cfg["input"]["encoding"])
    d = cfg["dataset"]
    ds = load_dataset(d["name"], d.get("path"), limit_test=args.samples)
    report = {"model": cfg["name"], "dataset": ds.name, "time_steps": cfg["time_steps"]}
    report.update(evaluate(snn, model, snn.quantize_input(ds.x_test), ds.y_test, cfg)[1])
    print(summary(report))


def cmd_run(args) -> None:
    from hwflow.flow import run, summary
    cfg = load(args)
    out = Path(args.out or f"runs/{cfg['name']}")
    report = run(cfg, out)
    print(summary(report))
    print(f"report: {out / 'report.json'}")
    if args.json:
        print(json.dumps(report, indent=2))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwflow", description="Error-free QKeras -> binary-coded SNN -> FPGA flow")
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp, optional: bool) -> None:
        sp.add_argument("config", nargs="?" if optional else None, default=DEFAULT_CONFIG,
                        help="zoo name (models/NAME.yaml) or a YAML path")
        sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set time_steps=2 --set train.lambda=1e-6")
        sp.add_argument("--out", help="output folder (default runs/NAME)")

    sp = sub.add_parser("train", help="quantization-aware training from a YAML spec")
    with_config(sp, optional=False)
    sp.set_defaults(fn=cmd_train)
    for name, fn, helptext in (("convert", cmd_convert, "convert a trained run to the SNN IR"),
                               ("simulate", cmd_simulate, "simulate the test set with the SNN and compare")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("run_dir", help="folder written by 'hwflow train' (model.h5 + config.yaml)")
        sp.add_argument("--encoding", choices=("direct", "bitplane"), help="first-layer input encoding")
        if name == "convert":
            sp.add_argument("--out", help="where to write the SNN IR JSON (default RUN_DIR/snn.json)")
        else:
            sp.add_argument("--samples", type=int, help="only the first N test samples")
        sp.set_defaults(fn=fn)
    sp = sub.add_parser("run", help="train, convert, simulate the whole test set, write report.json")
    with_config(sp, optional=True)
    sp.add_argument("--json", action="store_true", help="also print report.json")
    sp.set_defaults(fn=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except HwflowError as e:
        print(f"hwflow: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
