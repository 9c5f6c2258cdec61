import click
from flask.cli import AppGroup

from core import clock
from core.extensions import db
from supervision import red_flags

supervision_cli = AppGroup("supervision", help="Supervision.")


@supervision_cli.command("red-flags")
def recompute_red_flags():
    """Recompute the red flags over every section opened and every direct mall order, in batches."""
    with click.progressbar(length=len(red_flags.sections_with_openings()), label="Sections") as bar:
        done = [0]

        def progress(checked: int, _total: int) -> None:
            bar.update(checked - done[0])
            done[0] = checked

        raised = red_flags.compute_all(clock.now(), progress=progress, commit=db.session.commit)
    db.session.commit()
    click.echo(f"{raised} red flags raised or updated.")


@supervision_cli.command("rebuild-statistics")
def rebuild_statistics():
    """Recompute every row of the statistics rollup from the sections (INSERT … SELECT … GROUP BY)."""
    from supervision import rollup
    rows = rollup.rebuild(clock.now())
    db.session.commit()
    click.echo(f"{rows} rollup rows rebuilt.")
