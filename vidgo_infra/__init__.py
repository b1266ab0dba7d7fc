"""vidgo-infra: tooling around the Pulumi program in `infra/` (offline plan, diff, cost, DNS)."""
