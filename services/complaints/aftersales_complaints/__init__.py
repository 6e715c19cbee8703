"""The complaints service: opens a recovery ticket for every dissatisfied answer (D18)."""
