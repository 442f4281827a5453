"""What an index run does, whatever the backend: changes, work units, section records, reports.

``changes`` decides which files and records changed since the live version;
``tasks`` and ``extraction`` make the analysis workers' work; ``sections`` is a
section as both backends store it; ``report`` what a run says as it goes and at the end.
"""
