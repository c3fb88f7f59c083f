"""Importing historic referrals from the case system (docs/import-format.md).

``format`` reads and checks a file, ``plan`` compares it with the service, ``write`` writes
it in bulk, ``services`` holds the three steps a view calls, ``selectors`` the reads.
"""
