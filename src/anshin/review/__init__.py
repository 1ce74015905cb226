"""After the incident: timeline, metrics, customer feedback, prevention actions, reports (R30–R33).

Everything here reads what the other domains stored (events, updates,
deliveries, inquiries, commitments); nothing is reconstructed by guesswork (R31).
"""
