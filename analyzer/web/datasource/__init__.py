"""Grafana JSON datasource (`simpod-json-datasource`) under `/grafana/`.

The plugin's OpenAPI file fixes the protocol: `GET /` answers "Save & test"; `/metrics` lists
what can be queried and the payload each accepts; `/metric-payload-options` fills the payload
drop-downs; `/query` answers panels; `/variable` feeds dashboard variables; `/tag-keys` and
`/tag-values` feed ad-hoc filters. Every panel answer is a list of data frames (see `web.frames`).

- `requests`: the bodies Grafana sends, payloads and variables as panels write them;
- `catalog`: the targets, payload options, ad-hoc keys and variable queries;
- `filters`: ad-hoc filters over records (what cannot apply is ignored with a notice);
- `panel`: what the targets of one request share (window, grid, records read once);
- `timeseries`, `tables`: one function per target;
- `values`: variable and tag values from Loki's label API or the file index;
- `routes`: the blueprint.
"""

from analyzer.web.datasource.routes import OPENAPI, bp, register
from analyzer.web.datasource.values import tag_values_for

__all__ = ["OPENAPI", "bp", "register", "tag_values_for"]
