"""Writes for people, organisations, memberships and accreditations: one module a subject.

- ``organisations``: creating an organisation (its founder becomes its first administrator);
- ``memberships``: who belongs to an organisation (requests to join, decisions, grants, roles, removal);
- ``accreditations``: applying to a session on an organisation's behalf, and the festival's decisions.

Each write runs in one transaction with its audit entry; a status moves only through
``audit.transitions.transition`` along the machine declared beside its model's choices.
"""
