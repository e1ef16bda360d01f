"""Screening's HTML views, one module per part (docs/architecture.md):

- ``playback``  the player page, pressing play, the four doors and the heartbeat (viewers);
- ``producer``  the screener desk: cuts, audience rules and viewing reports (the film's team);
- ``storage``   the local store's signed blob and upload-part URLs (standing in for S3's).

The leak-trace desk is ``screening.forensics.views``; the REST API is ``screening.api``.
"""
