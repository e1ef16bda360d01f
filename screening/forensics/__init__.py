"""Forensic A/B watermarking and leak tracing (docs/forensics.md).

``variants``   the keys, object names and codeword bits derived from a cut's content key (standard
               library only: the doors and the admins' pages import it)
``mark``       the imperceptible picture mark that tells variant A from variant B (numpy, OpenCV)
``codeword``   which variant each grant receives for each segment, and how a trace scores grants
``detect``     reading A or B, with a strength, from every segment a suspect copy covers; ``align`` and
               ``reference`` place the copy on a cut's timeline and read the cut's own variants
``tracing``    the admins' side of a leak trace: file a suspect copy, find a trace, revoke the named
``trace_job``  the trace itself (the detector: worker processes only)
``selectors``, ``views``, ``consumers``, ``urls``: the admins' leak-trace desk at /staff/leaks/

Web processes import ``variants``, ``tracing``, ``selectors``, ``views``, ``consumers`` and ``urls``
only; ``mark``, ``codeword``, ``detect``, ``align``, ``reference`` and ``trace_job`` load numpy, OpenCV
or PyAV and belong to the packaging and trace jobs (a test imports the URL conf and checks).
"""
