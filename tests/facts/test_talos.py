"""Talos facts: talosctl output parsed."""
from __future__ import annotations

import json

from tasks.facts import talos

def test_talosctl_json_stream_is_parsed():
    """talosctl -o json prints one indented object after another."""
    text = json.dumps({"node": "a"}, indent=4) + "\n" + json.dumps({"node": "b"}, indent=4) + "\n"
    assert [i["node"] for i in talos.json_stream(text)] == ["a", "b"]
