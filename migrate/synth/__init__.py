"""Synthetic legacy data for demos, tests and benchmarks: byte-exact files written through a
mapping in reverse (`generate`), consistent multi-file sets (`sets`), and word lists (`words`).

May import `transform`, `validate.checkdigits` and what lies below them; nothing imports it but
`cli`, tests and benchmarks.
"""
