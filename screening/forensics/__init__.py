"""Forensic A/B watermarking and leak tracing (docs/forensics.md).

``mark``      the imperceptible picture mark that tells variant A from variant B, and its keys
``codeword``  which variant each grant receives for each segment, and how a trace scores grants
``detect``    reading A or B, with a strength, from every segment a suspect copy covers
"""
