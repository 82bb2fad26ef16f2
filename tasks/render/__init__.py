"""From a validated Cluster to the files under build/, checked before anything is written.

    catalogue        every artifact: its target, template, the settings it reads, how it is produced
    templates        the Jinja environment and its filters
    check            the whole offline check (settings, semantics, render in memory, guards, drift,
                     upstream schemas) as one Outcome
    conformance      rendered output against the upstream schemas of the pinned versions
    schema_catalog   where those schemas live upstream; schema_store: fetching and caching them
"""
