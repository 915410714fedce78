"""`generate`: expand a Hyperctl job template into a batch file, one job per combination of params."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from hypermetric import api
from hypermetric.errors import UsageError

TemplateOpt = Annotated[Optional[str], typer.Option("--template", "-t", help="The job template (YAML or JSON).")]
OutputOpt = Annotated[Optional[str], typer.Option("--output", "-o",
                                                  help="Where to write the batch JSON (default: standard output).")]


def register(app: typer.Typer) -> None:
    app.command("generate", help="Expand a job template (params with lists of values) into a batch file with "
                                 "one job per combination.")(cmd_generate)


def cmd_generate(template: TemplateOpt = None, output: OutputOpt = None) -> int:
    if template is None:
        raise UsageError("no template given", help="hypermetric generate --template job-template.yml "
                                                   "--output batch.json")
    batch, text = api.generate_batch(template, output)
    if output is None:
        sys.stdout.write(text)
    else:
        sys.stderr.write(f"wrote {len(batch['jobs'])} jobs to {output}\n")
    return 0
