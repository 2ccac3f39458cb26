"""Helpers several test suites share (the tests themselves live beside this package).

- ``hostile``: script and formula payloads and a small hostile incident CSV.
- ``payloads``: more payloads and the hostile files that carry them (adversarial suites).
- ``attacker``: recovers what it can from published figures (suppression tests).
- ``store_workers``: processes that save to one workspace at once, or are killed mid-save.
- ``appserver``: the Streamlit app in a subprocess, and chromium's offline settings.
"""
