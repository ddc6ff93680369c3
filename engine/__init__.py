"""oaflow domain core: definitions, runtime, worklist, org, calendar, audit.

Nothing here imports Flask; the web layer and the schedulers call these modules.
"""
