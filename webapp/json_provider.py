"""JSON answers written by orjson: the same bytes Flask's own provider writes (compact, keys in their order,
non-ASCII as UTF-8, dates as HTTP dates, a final newline) at a fraction of the cost — `jsonify` and every
dict a view returns go through it. Pretty-printed output (debug mode) and what orjson cannot write (an
integer past 64 bits echoed in an error) stay with Flask's, as does `dumps` (the templates' `tojson`)."""

from __future__ import annotations

import orjson
from flask.json.provider import DefaultJSONProvider, _default

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(DefaultJSONProvider):
    ensure_ascii = False
    sort_keys = False

    def response(self, *args, **kwargs):
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, default=_default, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:
            return super().response(obj)
        return self._app.response_class(body, mimetype=self.mimetype)
