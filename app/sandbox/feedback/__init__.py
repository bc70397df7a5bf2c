"""TestFlight feedback (crash and screenshot submissions): :mod:`.model` (the generated
timeline and the per-state ledger), :mod:`.routes` (``/v1`` endpoints), :mod:`.images`
(temporary screenshot URLs and their PNG bytes), :mod:`.admin` (sandbox-only triggers)."""
