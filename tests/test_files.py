"""The files the tool keeps: atomic write-if-changed, and JSON records parsed once per version."""
from __future__ import annotations

import os

from tasks.files import read_json, write_if_changed


def test_a_record_is_read_again_after_every_write_even_within_one_clock_tick(tmp_path):
    """A write of the same size whose timestamp the clock's coarse tick leaves equal is still seen."""
    record = tmp_path / "record.json"
    write_if_changed(record, '{"a": "1"}')
    stamp = record.stat().st_mtime_ns
    assert read_json(record) == {"a": "1"}
    write_if_changed(record, '{"a": "2"}')
    os.utime(record, ns=(stamp, stamp))
    assert read_json(record) == {"a": "2"}


def test_a_record_changed_by_someone_else_is_read_again(tmp_path):
    """Another writer changes the file's version (size, time or inode): the new content is read."""
    record = tmp_path / "record.json"
    record.write_text('{"a": 1}')
    assert read_json(record) == {"a": 1}
    record.write_text('{"a": 1, "b": 2}')
    assert read_json(record) == {"a": 1, "b": 2}


def test_a_missing_or_damaged_record_reads_as_none(tmp_path):
    """No file, or not JSON: None, never an exception."""
    record = tmp_path / "record.json"
    assert read_json(record) is None
    record.write_text("{not json")
    assert read_json(record) is None
