"""Run: wire the stages into one streaming run (`pipeline`), the per-chunk work in worker
processes (`chunkwork`, `engines`), migration plans (`plan`), and progress for the screen.

The only package that imports every stage; only `cli` imports it.
"""
