"""Inquiries: intake, flow, triage, claims, escalation, handoff, replies (R18–R28)."""
