"""The shipped settings as loaded by the tool, and edited variants of them, in-process (no doit run).
Import the fixtures `shipped` and `variant` into a test module."""
from __future__ import annotations

import copy

import pytest

from tasks.settings import load
from tasks.settings.model import Cluster, build_cluster
from tasks.settings.schema import with_defaults


@pytest.fixture(scope="module")
def shipped():
    """The shipped settings documents, loaded and schema-checked once."""
    load.forget()
    assert load.problems() == ()
    docs, _ = load.documents()
    return docs


def cluster_of(docs) -> Cluster:
    """The Cluster of (possibly edited) documents, defaults filled as the tool does."""
    return build_cluster({name: with_defaults(doc.data, name) for name, doc in docs.items()})


@pytest.fixture
def variant(shipped):
    """variant(edit) -> (cluster, docs): the shipped settings with edit(data) applied to a copy,
    where data maps each settings name (and 'charts') to its mapping."""
    def make(edit):
        docs = copy.deepcopy(shipped)
        edit({name: doc.data for name, doc in docs.items()})
        return cluster_of(docs), docs
    return make
