"""The kernel every command of engine.work is built on: `case` (one instance locked, restored and saved),
`items` (the work items: created, kept in step with the workflow, closed) and `routing` (starting an
instance, opening the nodes it reaches, the ways back). Verbs import these; these import no verb."""
