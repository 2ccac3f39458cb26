"""Hostile text used by the injection tests: every payload must stay inert text."""

from __future__ import annotations

import csv
import io

# Each payload would set window.__xss (in the page or the map iframe) if it ran.
PAYLOADS = [
    '<img src=x onerror="window.__xss=1;parent.__xss=1">',
    "<svg><script>window.__xss=1;parent.__xss=1</script></svg>",
    "</script><script>window.__xss=1;parent.__xss=1</script>",
    '<a href="javascript:window.__xss=1">click</a>',
    '<div onmouseover="window.__xss=1" style="width:999px;height:999px">x</div>',
    '<meta http-equiv="refresh" content="0;url=http://evil.example/">',
    '=HYPERLINK("http://evil.example/","x")',
]


def hostile_csv(n: int = 12) -> bytes:
    """A small incident CSV with a payload in every text field and in a header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "id",
            "date",
            "latitude",
            "longitude",
            "category",
            "victims",
            "description",
            "source",
            PAYLOADS[0],
        ]
    )
    for i in range(n):
        p = PAYLOADS[i % len(PAYLOADS)]
        writer.writerow(
            [
                f"x{i}{p}",
                f"2024-03-{i % 28 + 1:02d}",
                f"{15.5 + i * 0.01:.4f}",
                f"{32.55 + i * 0.01:.4f}",
                p,
                str(i % 3),
                p,
                p,
                p,
            ]
        )
    return buffer.getvalue().encode("utf-8")
