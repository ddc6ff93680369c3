"""oaflow's domain core, one package per area (docs/architecture.md): store, process, org, time, notify,
reports and work.

Nothing here imports Flask; the web layer and the schedulers call these modules.
"""
