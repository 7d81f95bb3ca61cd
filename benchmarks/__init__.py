"""Side-by-side performance measurements of bedrock-kit against raw clients and peers.

Run ``python benchmarks/run.py`` (``--quick`` for a seconds-long smoke run). Every contender
talks to the same LocalBedrock server, started in its own process, over real HTTP.
"""
