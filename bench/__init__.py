"""coinslot's benchmark harness: figures and their ratios to floors measured in the same run.

    .venv/bin/python -m bench [--quick] [--only NAME] [--json-out DIR]

Nothing here passes or fails on time: the targets of issue 7 are printed
beside the figures as aims. See docs/benchmarks.md.
"""
