"""Benchmarks of the warehouse at three scales (issue 9): `python -m bench --help`.

Every measurement runs in a child process of its own, so that its wall time and peak
memory (the largest resident set of the process and its descendants, from wait4) belong
to it alone. What is compared runs side by side in the same repetition, so a noisy
machine slows both sides of a ratio alike. Results go to a JSON file in the work folder
and are rendered as the generated part of docs/benchmarks.md.
"""
