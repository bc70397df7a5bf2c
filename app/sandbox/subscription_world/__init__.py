"""The subscription world: one simulated population per subscription group, from which the
subscription-family reports and the simulation's truth are derived."""
