"""The corpus walk (corpus_walk.py): what validates clean deploys, starts and runs through the REST API with
no 500 and no English engine text; what does not is refused with the place named. Prints its figures per
folder (run with -s to see them)."""

from __future__ import annotations

import pytest
from corpus import corpus_files, corpus_root
from corpus_walk import figures, walk_file

pytestmark = pytest.mark.skipif(corpus_root() is None, reason="BPMN corpus not found")


def test_what_validates_runs_and_what_does_not_is_refused_clearly(api, core):
    outcomes = [walk_file(api, core, folder, path) for folder, path in corpus_files()]
    print("\n" + figures(outcomes))
    for outcome in outcomes:
        if outcome.kind != "ended":
            print(f"  {outcome.folder}/{outcome.name}: {outcome.kind} {outcome.detail}")
    assert [(o.name, o.trouble) for o in outcomes if o.trouble] == []
    # The folders' promise (../shared/bpmn-corpus/README.md): runnable folders run to the end, reject/ refuses.
    assert [(o.folder, o.name, o.kind, o.detail) for o in outcomes if o.folder != "reject" and o.kind != "ended"] == []
    assert [o.name for o in outcomes if o.folder == "reject" and o.kind != "refused"] == []
