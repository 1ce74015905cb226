"""The knowledge base: answers that worked, scripts, workarounds, FAQ and expressions to avoid.

R17 (good answers and expressions to avoid), R32 (updated from each incident),
R34 (public FAQ). Search over articles and the work records is in
:mod:`anshin.knowledge.search`, built on :mod:`anshin.text`.
"""
