"""Link events pair by name within one process or subprocess: a throw whose name no catch has would stop
the flow there, a catch no throw names is never reached, and two catches of one name leave the throw no
single place to go. Each is refused at the event, with its line (engine/process/links.py rewrites the pairs
that are sound into sequence flows)."""

from __future__ import annotations

from engine.process.links import containers, link_events


def check_links(root, filename: str, say_for) -> None:
    """`say_for(element)` gives the report function for that element (error, or warning in a descriptive pool)."""
    for container in containers(root):
        throws, catches = link_events(container)
        for name, thrown in throws.items():
            if name not in catches:
                for event in thrown:
                    say_for(event)(
                        filename,
                        event.sourceline,
                        event.get("id"),
                        f"链接事件 '{name}' 没有同名的链接捕获事件（同一流程或子流程内）：流程会停在这里",
                    )
        for name, caught in catches.items():
            if len(caught) > 1:
                for event in caught:
                    say_for(event)(
                        filename,
                        event.sourceline,
                        event.get("id"),
                        f"链接捕获事件 '{name}' 重名（同一流程或子流程内有 {len(caught)} 个）：抛出事件无法确定去向",
                    )
            elif name not in throws:
                say_for(caught[0])(
                    filename,
                    caught[0].sourceline,
                    caught[0].get("id"),
                    f"链接捕获事件 '{name}' 没有同名的链接抛出事件（同一流程或子流程内）：永远不会执行",
                )
