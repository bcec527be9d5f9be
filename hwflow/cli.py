"""Command line: hwflow train | convert | simulate | hls | csim | rtlsim | synth | build | report | sweep | run.

The step-by-step verbs work on one run folder: train writes model.h5 and config.yaml, convert
snn.json (which the later verbs load), simulate and csim merge their results into report.json,
hls and csim write firmware/, and report renders report.json as report.html and report.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hwflow.config import load_yaml
from hwflow.defaults import BACKENDS, IO_TYPES, RTL_FAMILY, STRATEGIES
from hwflow.errors import CheckFailed, HwflowError
from hwflow.rtl.block import ARCHITECTURES, BUFFERS, FAMILIES

DEFAULT_CONFIG = "digits_mlp"
MAX_SHOWN = 10  # testbench findings printed
EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


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
        node[leaf] = load_yaml(value)
    return out


def load(args) -> dict:
    from hwflow.config import load_config
    return load_config(args.config, overrides=parse_overrides(args.set))


def cmd_train(args) -> None:
    from hwflow.outputs import output_dir
    from hwflow.train import CONFIG_FILE, MODEL_FILE, train
    cfg = load(args)
    out = Path(args.out or f"runs/{cfg['name']}")
    with output_dir(out, args.force, (MODEL_FILE, CONFIG_FILE)) as tmp:
        result = train(cfg, tmp, verbose=2)
    print(f"trained {cfg['name']}: model and config in {out}/ (test accuracy {result.test_accuracy:.4f})")


def trained(run_dir: str):
    """(model, cfg) of a run folder written by 'hwflow train' or 'hwflow run'."""
    from hwflow.train import load_trained
    return load_trained(Path(run_dir))


def cmd_convert(args) -> None:
    from hwflow.flow import SNN_FILE, convert_run, save_snn
    model, cfg = trained(args.run_dir)
    snn = convert_run(model, cfg, args.encoding)
    print(snn.summary())
    out = Path(args.out or Path(args.run_dir) / SNN_FILE)
    save_snn(snn, out)
    print(f"SNN IR written to {out}")


def test_set(args, cfg: dict, snn):
    """The run's test set on the SNN's input grid: (x, labels, dataset name); --samples limits it."""
    from hwflow.datasets import load_dataset
    d = cfg["dataset"]
    ds = load_dataset(d["name"], d["path"], limit_test=getattr(args, "samples", None) or d["limit_test"])
    return snn.quantize_input(ds.x_test), ds.y_test, ds.name


def cmd_simulate(args) -> None:
    from hwflow.flow import evaluate, report_header, run_snn, summary, update_report
    model, cfg = trained(args.run_dir)
    snn = run_snn(Path(args.run_dir), model, cfg)
    x, y, name = test_set(args, cfg, snn)
    fields = report_header(cfg, name, snn)
    fields.update(evaluate(snn, model, x, y, cfg)[1])
    report = update_report(Path(args.run_dir), fields)
    print(summary(report))
    print(f"report fields written to {Path(args.run_dir) / 'report.json'}")


def hls_config(args, cfg: dict) -> dict:
    """The config with the firmware settings given on the command line."""
    from hwflow.config import deep_merge, validate_config
    from hwflow.options import FirmwareOptions
    given = {k: getattr(args, k) for k in FirmwareOptions.fields() if getattr(args, k, None) is not None}
    return validate_config(deep_merge(cfg, {"hls": given}), "the command line")


def cmd_hls(args) -> None:
    from hwflow.firmware import FIRMWARE_DIR, snn_firmware
    from hwflow.flow import run_snn
    from hwflow.outputs import check_writable, output_dir
    from hwflow.options import FirmwareOptions
    model, cfg = trained(args.run_dir)
    cfg = hls_config(args, cfg)
    snn = run_snn(Path(args.run_dir), model, cfg)
    x, _, _ = test_set(args, cfg, snn)
    opts = FirmwareOptions.from_config(cfg)
    out = Path(args.out or Path(args.run_dir) / FIRMWARE_DIR / "snn")
    check_writable(out, args.force)
    with output_dir(out, args.force) as tmp:
        _, seconds = snn_firmware(snn, tmp, opts, x, cfg["hls"]["testbench_samples"], progress=True)
    print(f"hls4ml project of {snn.name} ({opts.backend}, {opts.io_type}, {opts.strategy}, "
          f"{f'{opts.lanes} lanes' if opts.sequential else f'reuse factor {opts.reuse_factor}'}) in "
          f"{out}/ (g++ compile {seconds:.1f} s); its testbench holds "
          f"{min(cfg['hls']['testbench_samples'], len(x))} samples with their exact expected outputs")


def cmd_csim(args) -> None:
    if args.testbench:
        from hwflow.hls import csim_testbench
        result = csim_testbench(Path(args.testbench))
        lines = result.output.strip().splitlines()
        if result.samples is None and result.returncode != 0:  # it did not build, or stopped before its summary
            errors = [line for line in lines if ": error:" in line or line.startswith("ERROR")] or lines[-3:]
            for line in errors[:MAX_SHOWN]:
                print(line)
            raise HwflowError(f"the testbench in {args.testbench} did not run to its summary (exit code "
                              f"{result.returncode}); the first errors are listed above")
        findings = [line for line in lines if line.startswith(("MISMATCH", "ERROR", "error"))]
        for line in findings[:MAX_SHOWN]:
            print(line)
        if len(findings) > MAX_SHOWN:
            print(f"... and {len(findings) - MAX_SHOWN} more")
        print(lines[-1] if lines else "(no output)")
        if result.returncode != 0:
            raise CheckFailed(f"testbench in {args.testbench} failed: {result.mismatches} mismatches "
                              f"(exit code {result.returncode}); the first ones are listed above")
        return
    if not args.run_dir:
        raise HwflowError("give a run folder (hwflow csim RUN_DIR) or a project (hwflow csim --testbench DIR)")
    from hwflow.firmware import FIRMWARE_DIR, firmware_stage
    from hwflow.flow import run_snn, update_report
    from hwflow.ops.output_function import qkeras_reference
    from hwflow.outputs import check_writable, output_dir
    run_dir = Path(args.run_dir)
    check_writable(run_dir / FIRMWARE_DIR, args.force)
    model, cfg = trained(args.run_dir)
    cfg = hls_config(args, cfg)
    snn = run_snn(run_dir, model, cfg)
    x, _, _ = test_set(args, cfg, snn)
    with output_dir(run_dir / FIRMWARE_DIR, args.force) as tmp:
        fields = firmware_stage(snn, model, x, qkeras_reference(model, x, snn.output_function), cfg, tmp,
                                progress=True)
    report = update_report(run_dir, fields)
    mm = report["mismatches"]
    print(f"C simulation of {len(x)} samples: firmware vs QKeras {mm['csim_vs_qkeras']}, vs hls4ml ANN "
          f"{mm.get('csim_vs_hls4ml_ann', 'not built')} mismatches; trace first difference {mm['trace']}; "
          f"testbench {report['testbench']['samples']} samples, {report['testbench']['mismatches']} mismatches")
    print(f"firmware in {run_dir / 'firmware'}/, report fields in {run_dir / 'report.json'}")


def cmd_rtlsim(args) -> None:
    from hwflow.config import deep_merge, validate_config
    from hwflow.flow import rtl_summary, run_snn, update_report
    from hwflow.ops.output_function import qkeras_reference
    from hwflow.outputs import check_writable, output_dir
    from hwflow.rtl.stage import RTL_DIR, rtl_stage
    run_dir = Path(args.run_dir)
    check_writable(run_dir / RTL_DIR, args.force)
    model, cfg = trained(args.run_dir)
    given = {k: v for k, v in (("architecture", args.architecture), ("lanes", args.lanes), ("buffers", args.buffers))
             if v is not None}
    cfg = validate_config(deep_merge(cfg, {"rtl": {**given, "synthesize": False}}), "the command line")
    snn = run_snn(run_dir, model, cfg)
    x, _, _ = test_set(args, cfg, snn)
    y = qkeras_reference(model, x, snn.output_function)
    if args.da4ml:  # checked before the slow work: the network must be one da4ml takes
        from hwflow.rtl.da4ml_baseline import DA4ML_DIR, da4ml_stage, network
        network(snn)
        check_writable(run_dir / DA4ML_DIR, args.force)
    with output_dir(run_dir / RTL_DIR, args.force) as tmp:
        fields = rtl_stage(snn, x, y, cfg, tmp, progress=True)
    if "skipped" in fields["rtl"]:
        raise HwflowError(f"no RTL twin: {fields['rtl']['skipped']}")
    if args.da4ml:
        with output_dir(run_dir / DA4ML_DIR, args.force) as tmp:
            baseline = da4ml_stage(snn, x, y, tmp, progress=True)
        fields["mismatches"].update(baseline.pop("mismatches"))
        fields.update(baseline)
    report = update_report(run_dir, fields)
    print("\n".join(rtl_summary(report)))
    print(f"RTL design in {run_dir / RTL_DIR}/, report fields in {run_dir / 'report.json'}")
    mm = report["mismatches"]
    if mm["rtl_vs_qkeras"] or mm["rtl_trace"] or mm.get("rtl_ann_vs_qkeras") or mm.get("rtl_da4ml_vs_qkeras"):
        raise CheckFailed(f"the RTL differs from QKeras on {mm['rtl_vs_qkeras']} samples (its ANN: "
                          f"{mm.get('rtl_ann_vs_qkeras')}, da4ml: {mm.get('rtl_da4ml_vs_qkeras')}); first trace "
                          f"difference: {mm['rtl_trace']}")


def cmd_synth(args) -> None:
    from hwflow.flow import rtl_summary, update_report
    from hwflow.rtl.design import place_and_route_dir, synthesize_dir
    from hwflow.rtl.stage import RTL_DIR
    from hwflow.rtl import da4ml_baseline
    from hwflow.rtl.stage import ANN_DIR
    from hwflow.flow import REPORT_FILE
    run_dir = Path(args.run_dir)
    fields = {"rtl": {"resources": synthesize_dir(run_dir / RTL_DIR, args.family),
                      "fmax": place_and_route_dir(run_dir / RTL_DIR)}}
    report = json.loads((run_dir / REPORT_FILE).read_text()) if (run_dir / REPORT_FILE).is_file() else {}
    if (run_dir / RTL_DIR / ANN_DIR / "design.json").is_file() and isinstance(report.get("rtl", {}).get("ann"), dict):
        fields["rtl"]["ann"] = {**report["rtl"]["ann"], "resources": synthesize_dir(run_dir / RTL_DIR / ANN_DIR,
                                                                                    args.family)}
    if (run_dir / da4ml_baseline.DA4ML_DIR / da4ml_baseline.META).is_file() and "rtl_da4ml" in report:
        print("[hwflow] Yosys: synth_xilinx -flatten of the da4ml design ...", file=sys.stderr, flush=True)
        fields["rtl_da4ml"] = {"resources": da4ml_baseline.synthesize_dir(run_dir / da4ml_baseline.DA4ML_DIR,
                                                                         args.family)}
    report = update_report(run_dir, fields)
    print("\n".join(rtl_summary(report)[1:]))


def cmd_build(args) -> None:
    from hwflow.hls import build
    result = build(Path(args.project_dir), synth=args.synth, csim=args.csim, cosim=args.cosim, vsynth=args.vsynth,
                   export=args.export)
    print(f"{result.backend} build finished in {result.seconds:.0f} s (log: {result.log})")
    for kind, report in vars(result.reports).items():
        if report is not None:
            print(f"  {kind}: {report}")


def cmd_report(args) -> None:
    from hwflow.report_page import write_report
    html, md = write_report(Path(args.run_dir), args.vivado_dir, args.sweep, trust_foreign=args.trust_foreign_reports)
    print(f"report: {html} and {md}")


def cmd_sweep(args) -> None:
    from hwflow.config import load_config
    from hwflow.sweep import parse_grid, sweep
    cfg = load_config(args.config)  # fails early on a bad config name or key
    out = Path(args.out or f"runs/{cfg['name']}_sweep")
    sweep(args.config, parse_grid(args.time_steps, int), parse_grid(args.lambdas, float), out,
          address=args.address, overrides=parse_overrides(args.set), force=args.force)


def cmd_run(args) -> None:
    from hwflow.flow import run, summary
    cfg = load(args)
    out = Path(args.out or f"runs/{cfg['name']}")
    report = run(cfg, out, force=args.force)
    print(summary(report))
    print(f"report: {out / 'report.json'}, {out / 'report.html'}, {out / 'report.md'}")
    if args.json:
        print(json.dumps(report, indent=2))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwflow", description="Error-free QKeras -> binary-coded SNN -> FPGA flow")
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp, optional: bool, default_out: str = "runs/NAME") -> None:
        sp.add_argument("config", nargs="?" if optional else None, default=DEFAULT_CONFIG,
                        help="zoo name (models/NAME.yaml) or a YAML path")
        sp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set time_steps=2 --set train.lambda=1e-6")
        sp.add_argument("--out", help=f"output folder (default {default_out})")
        with_force(sp)

    def with_force(sp) -> None:
        sp.add_argument("--force", action="store_true",
                        help="write into an output folder that holds files hwflow did not write (they are kept)")

    sp = sub.add_parser("train", help="quantization-aware training from a YAML spec")
    with_config(sp, optional=False)
    sp.set_defaults(fn=cmd_train)
    sp = sub.add_parser("convert", help="convert a trained run to the SNN IR (RUN_DIR/snn.json)")
    sp.add_argument("run_dir", help="folder written by 'hwflow train' (model.h5 + config.yaml)")
    sp.add_argument("--encoding", choices=("direct", "bitplane"), help="first-layer input encoding")
    sp.add_argument("--out", help="where to write the SNN IR JSON (default RUN_DIR/snn.json)")
    sp.set_defaults(fn=cmd_convert)
    sp = sub.add_parser("simulate", help="simulate the test set with the SNN, compare with QKeras, "
                                         "write RUN_DIR/report.json")
    sp.add_argument("run_dir", help="folder written by 'hwflow train' (and 'hwflow convert')")
    sp.add_argument("--samples", type=int, help="only the first N test samples")
    sp.set_defaults(fn=cmd_simulate)

    def with_hls(sp) -> None:
        sp.add_argument("--backend", choices=BACKENDS)
        sp.add_argument("--io-type", dest="io_type", choices=IO_TYPES)
        sp.add_argument("--reuse-factor", dest="reuse_factor", type=int)
        sp.add_argument("--part")
        sp.add_argument("--clock-period", dest="clock_period", type=float, help="ns")
        sp.add_argument("--strategy", choices=STRATEGIES)
        sp.add_argument("--lanes", type=int, help="output neurons per cycle of the folded and event strategies")

    sp = sub.add_parser("hls", help="write and compile the SNN firmware (hls4ml project + self-checking testbench)")
    sp.add_argument("run_dir", help="folder written by 'hwflow train' or 'hwflow run'")
    sp.add_argument("--out", help="project folder (default RUN_DIR/firmware/snn)")
    with_force(sp)
    with_hls(sp)
    sp.set_defaults(fn=cmd_hls)
    sp = sub.add_parser("csim", help="C-simulate the firmware on the test set, or run a project's testbench")
    sp.add_argument("run_dir", nargs="?", help="folder written by 'hwflow train' or 'hwflow run'")
    sp.add_argument("--testbench", metavar="PROJECT_DIR", help="build and run this project's testbench with g++")
    sp.add_argument("--samples", type=int, help="only the first N test samples")
    with_force(sp)
    with_hls(sp)
    sp.set_defaults(fn=cmd_csim)
    sp = sub.add_parser("rtlsim", help="the RTL twin in Verilator on the test set: outputs, measured cycles, trace")
    sp.add_argument("run_dir", help="folder written by 'hwflow train' or 'hwflow run'")
    sp.add_argument("--architecture", choices=ARCHITECTURES, help="default: the config's rtl.architecture")
    sp.add_argument("--lanes", type=int, help="output neurons per cycle in every block (default: rtl.lanes)")
    sp.add_argument("--buffers", choices=BUFFERS, help="memories between blocks: whole frames, blocks one after "
                    "another, or line buffers, blocks at once row by row (default: rtl.buffers)")
    sp.add_argument("--samples", type=int, help="only the first N test samples")
    sp.add_argument("--da4ml", action="store_true", help="also da4ml's fully parallel ANN of the same dense network "
                    "(in RUN_DIR/rtl_da4ml; its own numpy>=2 venv is created on first use)")
    with_force(sp)
    sp.set_defaults(fn=cmd_rtlsim)
    sp = sub.add_parser("synth", help="Yosys synth_xilinx of the run's RTL twin (RUN_DIR/rtl): LUT, FF, DSP, BRAM; "
                                      "nextpnr: its fmax on an ECP5")
    sp.add_argument("run_dir", help="folder holding rtl/ (from 'hwflow run' or 'hwflow rtlsim')")
    sp.add_argument("--family", choices=FAMILIES, default=RTL_FAMILY, help="UltraScale+ (default) or 7-series")
    sp.set_defaults(fn=cmd_synth)
    sp = sub.add_parser("build", help="run hls4ml's build_prj.tcl with Vivado HLS / Vitis HLS")
    sp.add_argument("project_dir")
    for flag, helptext in (("--synth", "C synthesis"), ("--csim", "C simulation with the testbench"),
                           ("--cosim", "C/RTL co-simulation"), ("--vsynth", "Vivado logic synthesis"),
                           ("--export", "export the IP")):
        sp.add_argument(flag, action="store_true", help=helptext)
    sp.set_defaults(fn=cmd_build)
    sp = sub.add_parser("report", help="one page (HTML + Markdown): the SNN design vs the hls4ml ANN")
    sp.add_argument("run_dir", help="folder written by 'hwflow run', or by 'hwflow simulate' (and 'csim')")
    sp.add_argument("--vivado-dir", action="append", default=[], metavar="[snn=|ann=]DIR",
                    help="folder of Vivado/Vitis reports; snn=/ann= says whose, else folder names do")
    sp.add_argument("--sweep", help="sweep JSON (default RUN_DIR/sweep.json or ../sweep.json)")
    sp.add_argument("--trust-foreign-reports", action="store_true",
                    help="use tool reports whose top function, part or clock differ from the run's (marked)")
    sp.set_defaults(fn=cmd_report)
    sp = sub.add_parser("sweep", help="run the flow over a T x lambda grid as Ray tasks")
    with_config(sp, optional=False, default_out="runs/NAME_sweep")
    sp.add_argument("--time-steps", dest="time_steps", default="1,2,3,4", help="e.g. 1,2,3,4")
    sp.add_argument("--lambda", dest="lambdas", default="0", help="regularizer weights, e.g. 0,1e-6")
    sp.add_argument("--address", help="an existing Ray cluster (HOST:PORT, ray://HOST:PORT or auto); "
                                      "default: a local Ray instance with one task per core")
    sp.set_defaults(fn=cmd_sweep)
    sp = sub.add_parser("run", help="train, convert, simulate the whole test set, write report.json")
    with_config(sp, optional=True)
    sp.add_argument("--json", action="store_true", help="also print report.json")
    sp.set_defaults(fn=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except CheckFailed as e:
        print(f"hwflow: check failed: {e}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    except HwflowError as e:
        print(f"hwflow: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        done = "" if args.command == "build" else "; its outputs were not written (partial ones removed)"
        print(f"hwflow: {args.command} interrupted{done}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
