"""The media pipeline: probe an uploaded screener, plan its ladder, package it as encrypted HLS.

Pure Python around ffmpeg and PyAV, with no Django import: the Celery task passes settings in as plain
arguments, so every piece here is testable on its own. One module per step:

- ``errors``   the exceptions callers catch (``MediaRejected``, ``PackagingFailed``, ``PackagingCancelled``);
- ``binary``   which ffmpeg executable to run;
- ``probe``    what the upload is, or why it is refused (``MediaRejected``);
- ``ladder``   which renditions to make;
- ``keys``     the per-cut AES-128 content key and its sealing at rest;
- ``command``  the single ffmpeg command that makes the whole ladder;
- ``runner``   running ffmpeg with progress and cancellation;
- ``playlist`` reading the playlists ffmpeg wrote;
- ``package``  the packaging job tying these together.
"""
