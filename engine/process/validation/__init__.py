"""Deploy-time checks: what SpiffWorkflow only finds at run time, or silently gets wrong.

Every problem names file, line and element (`file:line: element: message`), in Chinese. Errors refuse the
deployment; warnings (severity "warning") are reported and the files deploy. `oaflow validate`, the deploy
API and the admin upload page all get their answer from `definitions.read_bundle`, which calls these
modules directly (nothing is re-exported here: the package itself loads no check):

  report             the list of problems and warnings every check appends to
  structure          one file: BPMN 2.0 at all, ids, references, flows, gateways, unsupported elements
  vendor_extensions  Camunda/Flowable/Zeebe extensions that oaflow ignores, said as warnings
  model              one process: expressions, timers, forms, assignee rules, approval policy
  assignees          the assignee-rule syntax, and whether the roles and users it names exist
  missing_variables  variables that expressions read but no step provides: form fields generated for them
  spiff_messages     SpiffWorkflow's own English messages, in the users' language
  elements           finding BPMN elements in a parsed file, shared by the checks above

The dependency runs one way: `definitions` imports these, none of these imports `definitions`.
"""
