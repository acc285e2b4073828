"""IEP goals, their probes and their progress (one rule: app.iep.progress)."""
