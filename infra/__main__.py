"""Two entry points share this file, as Python requires of `main: infra/` and `python -m infra`.

- Pulumi's host runs it with `runpy.run_path("infra/")` (no package): the Pulumi program.
- `python -m infra ...` runs it as part of the `infra` package: the vidgo-infra command.
"""

if __package__ == "infra":
    from infra.cli import main

    raise SystemExit(main())

from infra.program import declare

declare()
