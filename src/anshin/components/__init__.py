"""Components and their groups: the services customers see a status for (R4).

At the bottom of the package graph (docs/design.md "Dependency direction"):
incidents and maintenance set their status, subscribers choose them (notify),
the status page shows them. Changing them is incidents' work
(``incidents.components``, which republishes the page); this package holds the
tables and the reads every one of those needs.
"""
