"""Train chapter 10's 2-layer attention-only Transformer and write its weights.

    .venv/bin/python tools/train_induction.py            # 20000 steps, writes the shipped files
    .venv/bin/python tools/train_induction.py --steps 500 --out /tmp/w.npz   # log: /tmp/w_training_log.txt

Deterministic: fixed seed, fresh random batches from that seed, Adam.  Writes
``helpers/induction_weights.npz`` (float32, compressed) and
``helpers/induction_training_log.txt`` (loss every 200 steps + the final
metrics, measured on the float32 weights as saved, exactly as the chapter
and the tests load them).
"""

from __future__ import annotations

import os

# tiny matrices: a multi-threaded BLAS only spins (measured ~25x more CPU per step)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import induction as ind  # noqa: E402

SHIPPED_LOG = ind.WEIGHTS_PATH.with_name("induction_training_log.txt")
DEFAULTS = {"steps": 20000, "seed": 0, "lr": 3e-3, "batch_size": 32, "decay_frac": 0.3}


def metrics_lines(m: dict) -> list[str]:
    """The target numbers as text lines (shared by the log and the console)."""
    fmt = lambda a: "  ".join(f"{v:.3f}" for v in a)  # noqa: E731
    lines = []
    for layer in range(m["prev_token"].shape[0]):
        lines.append(f"layer {layer + 1} previous-token scores per head: {fmt(m['prev_token'][layer])}")
        lines.append(f"layer {layer + 1} induction scores per head:      {fmt(m['induction'][layer])}")
    ab = m["ablation"]
    for layer in range(ab["rep"].shape[0]):
        lines.append(f"layer {layer + 1} repeated-half loss with one head ablated: {fmt(ab['rep'][layer])}")
    lines += [
        f"best layer-1 previous-token score: {m['best_prev_layer1']:.3f}   (target >= 0.7)",
        f"best layer-2 induction score:      {m['best_induction_layer2']:.3f}   (target >= 0.8)",
        f"loss repeated half {m['loss_rep']:.3f}, random half {m['loss_rand']:.3f}, "
        f"ratio {m['ratio']:.3f}   (target <= 0.2)",
        f"ablating layer-1 head {m['best_prev_head']}: repeated-half loss {m['ablate_prev_rep']:.3f} = "
        f"{m['ablation_ratio']:.3f} x random-half loss   (target >= 0.7)",
    ]
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=DEFAULTS["steps"])
    ap.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    ap.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    ap.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    ap.add_argument("--decay-frac", type=float, default=DEFAULTS["decay_frac"])
    ap.add_argument("--sinusoidal-pos", action="store_true",
                    help="fixed sinusoidal positional encoding instead of a learned one")
    ap.add_argument("--pos-init", choices=["random", "sinusoidal"], default=ind.CONFIG["pos_init"],
                    help="starting value of a learned positional embedding")
    ap.add_argument("--out", type=Path, default=ind.WEIGHTS_PATH)
    ap.add_argument("--log", type=Path, default=None,
                    help="training log (default: next to --out; the shipped log for the shipped weights)")
    args = ap.parse_args(argv)
    if args.log is None:     # never pair the shipped log with other weights
        shipped = args.out.resolve() == ind.WEIGHTS_PATH.resolve()
        args.log = SHIPPED_LOG if shipped else args.out.with_name(args.out.stem + "_training_log.txt")

    learned_pos = not args.sinusoidal_pos
    config = {**ind.CONFIG, "learned_pos": learned_pos, "pos_init": args.pos_init}  # as trained
    lines = [
        "# tools/train_induction.py -- chapter 10's induction-head model",
        f"# config {config}",
        f"# steps {args.steps}, seed {args.seed}, Adam lr {args.lr} (linear decay over the last "
        f"{args.decay_frac:.0%} of the steps), batch {args.batch_size}, "
        f"{'learned' if learned_pos else 'sinusoidal (fixed)'} positional encoding",
    ]
    for line in lines:
        print(line, flush=True)

    def log(line: str) -> None:
        print(line, flush=True)
        # keep the committed log small: every 200 steps
        step = int(line.split()[1])
        if step % 200 == 0 or step == args.steps:
            lines.append(line.rsplit("  (", 1)[0])

    start = time.perf_counter()
    params, hist = ind.train(args.steps, seed=args.seed, lr=args.lr, batch_size=args.batch_size,
                             decay_frac=args.decay_frac, log_every=100, log=log,
                             learned_pos=learned_pos, pos_init=args.pos_init)
    seconds = time.perf_counter() - start
    # this tool is what rebuilds the shipped file (its default --out): say so, save_weights refuses it otherwise
    ind.save_weights(params, args.out, overwrite_shipped=True, steps=args.steps, seed=args.seed, lr=args.lr,
                     batch_size=args.batch_size, decay_frac=args.decay_frac, learned_pos=learned_pos, pos_init=args.pos_init)
    loaded = ind.load_weights(args.out)
    m = ind.evaluate(loaded)
    tail = [f"# training time {seconds:.1f} s wall ({time.process_time():.1f} s CPU in total)",
            f"# weights {args.out.name}: {args.out.stat().st_size} bytes",
            "# metrics of the saved weights on the evaluation set (512 sequences, seed "
            f"{ind.EVAL_SEED}):"] + metrics_lines(m)
    for line in tail:
        print(line, flush=True)
    # the wall time depends on the machine; keep it out of the committed log's metrics
    args.log.write_text("\n".join(lines + tail[1:]) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
