"""Map: apply a mapping to a chunk of decoded fields to get the standard columns (code tables,
kana width, header values, child-record aggregates, casts), and the reverse (`encode`).

May import `read`, `decode`, `layouts`, `errors`, `i18n`, `pii`, `problems`; nothing above.
"""
