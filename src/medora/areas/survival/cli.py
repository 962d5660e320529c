"""The survival verbs: ``medora train`` on a survival task and ``medora stratify``.

Kept apart from :mod:`medora.cli.app` so the ``medora`` command stays thin; this module imports
nothing heavy until a verb runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from medora.areas.survival.tasks import SurvivalTask

console = Console()
#: Numbers of gene-expression subtypes tried by ``stratify``; the silhouette picks one.
SUBTYPE_COUNTS = range(2, 7)


def _fail(message: str) -> typer.Exit:
    from medora.cli.app import _fail as fail

    return fail(message)


def train_survival(task: SurvivalTask, model: str | None, seed: int, quick: bool,
                   out: Path | None, register: bool, split: str | None) -> None:
    """``medora train`` for a survival task: cross-validate, compare, register, print."""
    from medora.registry.card import format_estimate
    from medora.train.run import RunConfig
    from medora.areas.survival.run import SURVIVAL_METRICS, train_survival_task

    if split is not None:
        raise _fail(f"{task.name} is evaluated by repeated stratified cross-validation, not a "
                    f"split; drop --split {split}")
    config = RunConfig(model=model, seed=seed, quick=quick, out_dir=out, register=register)
    try:
        run = train_survival_task(task, config)
    except ValueError as error:
        raise _fail(str(error)) from None
    table = Table(title=f"{task.name}: {run.interval}")
    table.add_column("model")
    for metric in SURVIVAL_METRICS:
        table.add_column(SURVIVAL_METRICS[metric][0], overflow="fold")
    for result in run.results.values():
        table.add_row(result.display_name,
                      *(format_estimate(result.metrics[m]) for m in SURVIVAL_METRICS))
    for name, reason in run.unavailable.items():
        table.add_row(name, reason, *([""] * (len(SURVIVAL_METRICS) - 1)))
    console.print(table)
    for reference in run.references:
        console.print(f"published: {reference.model} {SURVIVAL_METRICS[reference.metric][0]} "
                      f"{reference.value} ({reference.setting}; source: {reference.source})",
                      highlight=False)
    if run.version:
        console.print(f"registered {task.name} v{run.version.version} (status: "
                      f"{run.version.status})")
    console.print(f"wrote {run.out_dir}/report.html, metrics.json, card.md")


def hazard_ratios(time: np.ndarray, event: np.ndarray, groups: np.ndarray, reference: str
                  ) -> pd.DataFrame:
    """Hazard ratio of each group against ``reference`` with its 95% CI: a Cox model (lifelines)
    on the group indicators."""
    import numpy as np
    import pandas as pd
    from lifelines import CoxPHFitter

    others = [g for g in dict.fromkeys(groups.tolist()) if g != reference]
    frame = pd.DataFrame({str(g): (groups == g).astype(float) for g in others})
    frame["time"], frame["event"] = time, event
    fitted = CoxPHFitter().fit(frame, duration_col="time", event_col="event")
    summary = fitted.summary
    return pd.DataFrame({
        "group": others,
        "hazard_ratio": np.exp(summary["coef"].to_numpy()),
        "ci_low": summary["exp(coef) lower 95%"].to_numpy(),
        "ci_high": summary["exp(coef) upper 95%"].to_numpy(),
        "p_value": summary["p"].to_numpy()})


def subtypes(expression: pd.DataFrame, seed: int) -> tuple[np.ndarray, int, dict[int, float]]:
    """Unsupervised subtypes of expression profiles: k-means on standardised probes, k from
    :data:`SUBTYPE_COUNTS` with the highest silhouette. Returns labels ("subtype 1", ...),
    the chosen k and every k's silhouette."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    values = StandardScaler().fit_transform(expression.to_numpy(dtype=float))
    fits = {k: KMeans(k, n_init=10, random_state=seed).fit(values) for k in SUBTYPE_COUNTS}
    silhouettes = {k: float(silhouette_score(values, fit.labels_)) for k, fit in fits.items()}
    best = max(silhouettes, key=silhouettes.__getitem__)
    labels = np.array([f"subtype {label + 1}" for label in fits[best].labels_])
    return labels, best, silhouettes


def stratify_command(
    task: Annotated[str, typer.Argument(help="Survival task, e.g. "
                                             "oncology.breast_recurrence_genes.")],
    version: Annotated[int | None, typer.Option(
        "--version", "-v", help="Model version (default: the newest not retired).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the Kaplan-Meier plots "
                                                  "(default: runs/<task>/stratify/).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the k-means subtyping.")] = 0,
) -> None:
    """Risk groups from a registered survival model's cross-validated risk, and gene-expression
    subtypes: Kaplan-Meier curves (PNG), log-rank p-values and hazard ratios."""
    import numpy as np

    from medora.cli.app import _task
    from medora.registry.store import METRICS_NAME, ModelStore
    from medora.areas.survival.tasks import SurvivalTask
    from medora.areas.survival.run import grouped_curves, plot_risk_groups, risk_groups

    definition = _task(task)
    if not isinstance(definition, SurvivalTask):
        raise _fail(f"{task} is not a survival task; stratify needs time-to-event data "
                    "(see `medora tasks`, modality survival)")
    try:
        record = ModelStore().get(definition.name, version)
    except LookupError as error:
        raise _fail(str(error.args[0])) from None
    document = json.loads((Path(record.path) / METRICS_NAME).read_text())
    dataset, x, time, event = definition.load_survival()
    risk = np.asarray(document.get("cross_validated_risk", []), dtype=float)
    if risk.shape != time.shape:
        raise _fail(f"{task} v{record.version} has no cross-validated risk for the "
                    f"{time.size} patients of {dataset.name}; retrain it with `medora train "
                    f"{task}`")
    folder = out or Path("runs") / definition.name / "stratify"
    folder.mkdir(parents=True, exist_ok=True)

    groupings = {"risk groups": (risk_groups(risk, time, event), "low",
                                 f"v{record.version} {record.model_name} risk tertiles")}
    if "genes" in definition.feature_groups:
        labels, k, silhouettes = subtypes(x[list(definition.feature_groups["genes"])], seed)
        groupings["expression subtypes"] = (grouped_curves(labels, time, event), "subtype 1",
                                            f"k-means subtypes (k={k}, silhouette "
                                            f"{silhouettes[k]:.3f})")
    for name, (groups, reference, title) in groupings.items():
        path = folder / f"{name.replace(' ', '_')}.png"
        plot_risk_groups(groups, definition.time_unit, title).savefig(path, dpi=120)
        table = Table(title=f"{definition.name}: {title}; log-rank p = "
                            f"{groups.logrank.p_value:.2g}")
        for column in ("group", "patients", "events", "hazard ratio vs " + reference,
                       "95% CI", "p"):
            table.add_column(column)
        ratios = hazard_ratios(time, event, groups.labels, reference).set_index("group")
        for group in sorted(set(groups.labels.tolist())):
            members = groups.labels == group
            row = ratios.loc[group] if group in ratios.index else None
            table.add_row(group, str(int(members.sum())), str(int(event[members].sum())),
                          "1 (reference)" if row is None else f"{row.hazard_ratio:.2f}",
                          "" if row is None else f"{row.ci_low:.2f} to {row.ci_high:.2f}",
                          "" if row is None else f"{row.p_value:.2g}")
        console.print(table)
        console.print(f"wrote {path}")

