"""The `oaflow` console script: `oaflow validate` runs without the web stack, everything else is webapp.cli.

A designer runs `oaflow validate` on every save; importing Flask, SQLAlchemy and the scheduler for it cost
seconds. So the entry point looks at the command first: `validate` (without a database to check against)
goes to oaflow_cli.validate, which imports only the deploy-time checks; any other command loads the whole
application (webapp.cli) by name — the one deliberate late import, so that `validate` never pays for it.
"""
