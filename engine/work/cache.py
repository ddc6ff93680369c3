"""Restored workflows of recently handled instances, so the next command on one skips deserializing.

Restoring a workflow from its stored state is the largest single cost of a command after the database
(BENCHMARKS.md), and the next thing done to an instance usually happens in the process that just did the
last: the approver's page after 发起, 同意 after opening the work item, the instance page after 同意.

The stored state stays the only truth. An entry is used only when the instance row, read under the
instance lock, still has the version and definition the entry was saved at (any process's command bumps
the version), and only with the very compiled definition it was built from. A command takes its
entry out, so no two commands ever share a workflow object; the workflow goes back in only after its
transaction committed (`engine.store.database.after_commit`) — a command that fails leaves nothing behind.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

DEFAULT_SIZE = 256


class WorkflowCache:
    def __init__(self, size: int | None = None):
        if size is None:
            size = int(os.environ.get("OAFLOW_WORKFLOW_CACHE", DEFAULT_SIZE))
        self.size = max(0, size)
        self._items: OrderedDict[int, tuple[int, object, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def take(self, instance_id: int, version: int, compiled):
        """The workflow saved at this version with this compiled definition, removed from the cache; or None."""
        if not self.size:
            return None
        with self._lock:
            entry = self._items.pop(instance_id, None)
            if entry is not None and entry[0] == version and entry[1] is compiled:
                self.hits += 1
                return entry[2]
            self.misses += 1
            return None

    def put(self, instance_id: int, version: int, compiled, workflow) -> None:
        if not self.size:
            return
        with self._lock:
            self._items[instance_id] = (version, compiled, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
