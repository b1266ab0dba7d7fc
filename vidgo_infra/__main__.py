"""`python -m vidgo_infra` is the `vidgo-infra` command."""

from vidgo_infra.cli import main

raise SystemExit(main())
