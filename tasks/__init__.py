"""talos-flux-bootstrap: the engine behind dodo.py, in layers that only import downwards.

    commands  doit task creators: check, render:*, the stages, bootstrap, plan
    apply     the stage table and one module per domain (Talos nodes, kubeconfig, objects, Helm, Flux)
    facts     read-only, batched, memoized queries of the live cluster (query + parse, nothing else)
    render    the artifact catalogue, Jinja templates, the whole offline check, upstream schemas
    settings  bootstrap/values/*.yaml: load, schema, defaults, the typed Cluster, semantic checks,
              guards, the GitOps tree and chart drift
    tools     the one gateway to talosctl, kubectl, helm, helmfile and op; typed outcomes
    base      paths (the repository and build/ layout), problems, yamlio, files, report

ARCHITECTURE.md at the repository root draws the data flow.
"""
