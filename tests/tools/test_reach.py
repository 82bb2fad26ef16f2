"""The address map (BOOTSTRAP_ADDRESS_MAP)."""
from __future__ import annotations

import pytest

from tasks.tools import reach

def test_address_map_parsing_and_lookup(monkeypatch):
    """host:port entries win over host entries; unmapped addresses stay as they are."""
    monkeypatch.setenv(reach.ENV, "10.0.48.55:6443=127.0.0.1:16443, 10.0.48.11=127.0.0.1")
    assert reach.reach("10.0.48.55", 6443) == ("127.0.0.1", 16443)
    assert reach.reach("10.0.48.11", 6443) == ("127.0.0.1", 6443)
    assert reach.reach("10.0.48.12", 6443) == ("10.0.48.12", 6443)
    with pytest.raises(ValueError, match="expected from=to pairs"):
        reach.address_map("10.0.48.55")
