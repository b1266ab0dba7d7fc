"""The one live-site checker behind `vidgo-infra verify` and `vidgo-infra dns --check`.

A check is one entry of `checks.CHECKS`: a name, the hosts it runs on, the checks of the same
host it needs, and a function `(context, host) -> (status, detail)`. The engine (engine.py) runs
the entries a command picks, in table order, and yields each result as it finishes; a check
whose prerequisite failed, or whose address already timed out, is `--` (not checked) with the
cause, so one cause is one line. Adding a check is one table entry plus its function.
"""
