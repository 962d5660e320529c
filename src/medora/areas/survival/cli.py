"""The survival area's own verb, ``medora stratify``: risk groups and gene-expression subtypes
with their Kaplan-Meier curves, log-rank tests and hazard ratios.

Mounted on the ``medora`` command by :meth:`medora.areas.survival.SurvivalArea.commands`; this
module imports nothing heavy until the verb runs.
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

console = Console()
errors = Console(stderr=True)
#: Numbers of gene-expression subtypes tried by ``stratify``; the silhouette picks one.
SUBTYPE_COUNTS = range(2, 7)


def _fail(message: str) -> typer.Exit:
    """Print ``message`` as the ``medora`` command prints an error; the exit to raise."""
    errors.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


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

    from medora.areas.survival.run import grouped_curves, plot_risk_groups, risk_groups
    from medora.areas.survival.tasks import SurvivalTask
    from medora.core.registry import get_task
    from medora.registry.store import METRICS_NAME, ModelStore

    try:
        definition = get_task(task)
    except KeyError as error:
        raise _fail(str(error.args[0])) from None
    if not isinstance(definition, SurvivalTask):
        raise _fail(f"{task} is not a survival task; stratify needs time-to-event data "
                    "(see `medora tasks`, modality survival)")
    if out is not None:
        from medora.core.paths import UnwritablePathError, check_output_folder

        try:
            check_output_folder(out, "--out")
        except UnwritablePathError as error:
            raise _fail(str(error)) from None
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

