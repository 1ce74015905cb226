"""Text helpers at the bottom of the stack: normalising and tokenising Japanese and English.

Pure functions (no database, no domain import): inquiry triage and the
knowledge-base search both build on them.
"""
