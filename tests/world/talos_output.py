"""`talosctl get` output writers (cmd/talosctl/cmd/talos/output/*.go), all writing to stdout.

- table.go: tabwriter (padding 3); header NODE NAMESPACE TYPE ID VERSION + the RD's print columns
  upper-cased, written by WriteHeader; rows node, namespace, DisplayType, id, version, then each
  column's jsonpath (k8s.io/client-go/util/jsonpath, missing keys allowed: scalars as fmt prints
  them, lists/maps as JSON); everything appears at Flush.
- json.go: per resource, resource.MarshalYAML -> yaml.Marshal -> yaml.Unmarshal into a map, plus
  "node"; json.Encoder with SetIndent("", "    ") (keys sorted, HTML characters escaped).
- yaml.go: "---" before every resource but the first, "node: %s", then yaml.Encode({metadata, spec}).
- output.go NewWriter: `output format %q is not supported`.
"""
from __future__ import annotations

import json
import re
import sys

from tests.world import go_yaml
from tests.world import talos_client as tcl
from tests.world import talos_rd as rd
from tests.world.talos_client import CliError

_FILTER = re.compile(r'^\{\.(\w+)\[\?\(@\.(\w+)=="([^"]*)"\)\]\.(\w+)\}$')


def jsonpath(expr: str, data) -> str:
    """The two jsonpath shapes RD columns use: {.a.b} and {.list[?(@.k=="v")].field}."""
    match = _FILTER.match(expr)
    if match:
        items = (data or {}).get(match.group(1)) or []
        values = [i.get(match.group(4)) for i in items if isinstance(i, dict) and i.get(match.group(2)) == match.group(3)]
        return " ".join(_text(v) for v in values if v is not None)
    value = data
    for key in expr.strip("{}").lstrip(".").split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return "" if value is None else _text(value)


def _text(value) -> str:
    """jsonpath printing: fmt for scalars, encoding/json for composites."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def go_json(data) -> str:
    """encoding/json Encoder with SetIndent("", "    "): sorted keys, <>& escaped, trailing newline."""
    text = json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text + "\n"


class Writer:
    """One output format: header (from the first node's RD), resources, flush."""

    def __init__(self, fmt: str):
        """output.go NewWriter."""
        if fmt not in ("table", "json", "yaml"):
            if fmt.startswith("jsonpath="):
                raise CliError("the simulated talosctl does not support -o jsonpath")
            raise CliError(f'output format "{fmt}" is not supported')
        self.fmt, self.rows, self.columns, self.display, self.count = fmt, [], [], "", 0

    def header(self, rtype: str, columns: list) -> None:
        """WriteHeader: remembers the RD's display type and columns (table header row)."""
        self.display, self.columns = rd.display_type(rtype), columns
        self.rows.append(["NODE", "NAMESPACE", "TYPE", "ID", "VERSION"] + [n.upper() for n, _ in columns])

    def resource(self, node: str, res: dict) -> None:
        """WriteResource: table rows wait for the flush, json/yaml go out at once."""
        md = res["metadata"]
        if self.fmt == "table":
            spec = go_yaml.load(go_yaml.dump(res["spec"]))
            self.rows.append([node, md["namespace"], self.display, md["id"], str(md["version"])]
                             + [jsonpath(path, spec) for _, path in self.columns])
            return
        if self.fmt == "json":
            data = go_yaml.load(go_yaml.dump({"metadata": md, "spec": res["spec"]}))
            data["node"] = node
            sys.stdout.write(go_json(data))
        else:
            sys.stdout.write(("---\n" if self.count else "") + f"node: {node}\n"
                             + go_yaml.dump({"metadata": md, "spec": res["spec"]}))
        self.count += 1

    def flush(self) -> None:
        """Flush: the table, if any."""
        if self.fmt == "table" and self.rows:
            sys.stdout.write(tcl.tabwrite(self.rows))
        sys.stdout.flush()
