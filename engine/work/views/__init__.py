"""The reads: what the API and the pages show, each one read transaction. `worklist` (the boxes 待办 / 已办 /
我发起的 / 抄送我的), `detail` (one work item, one application), `pages` and `application` (a browser page's
whole read, the frame's figures included), `start` (what a user may start, and its start form)."""
