"""bootstrap/values/*.yaml and bootstrap/charts.yaml: what the user edits.

    load      each file parsed once per run; schema problems; the one typed Cluster
    schema    the project's own JSON Schemas (settings/schemas/) and their defaults
    model     Cluster, Node, Release
    semantic  checks across files that a schema cannot express (addresses, pool, VIP, quorum)
    guards    the requirements' invariants as named rules
    gitops    the GitOps tree's objects; drift: its chart versions against charts.yaml
"""
