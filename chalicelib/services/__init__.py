"""Use cases by area: identity, catalogue, selling, messaging (api -> services -> store -> domain)."""
