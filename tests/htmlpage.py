"""Reading a hwflow report page: its tables, keyed value cells and images."""
from __future__ import annotations

from html.parser import HTMLParser

# unit: (factor from report.json to the page, decimals), as the page promises (hwflow.report_page.compare.UNITS)
PRECISION = {"%": (100, 2), "MHz": (1, 1), "nJ": (1e-3, 3), "spikes": (1, 3), "ops": (1, 1), "cycles": (1, 0),
             "count": (1, 0), "": (1, 0),
             "ns": (1, 2)}

class Page(HTMLParser):
    """Tables, value cells (data-key, unit, source, shown number) and images of a report page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: set[str] = set()
        self.cells: list[dict] = []
        self.images: list[str] = []
        self._cell: dict | None = None
        self._in_number = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self.tables.add(a["id"])
        elif tag == "td" and "data-source" in a:
            self._cell = {"key": a.get("data-key"), "unit": a.get("data-unit"), "source": a["data-source"],
                          "text": ""}
            self.cells.append(self._cell)
        elif tag == "span" and "num" in a.get("class", "").split() and self._cell is not None:
            self._in_number = True
        elif tag == "img":
            self.images.append(a["src"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_number = False
        elif tag == "td":
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_number:
            self._cell["text"] += data


def lookup(report: dict, key: str):
    for part in key.split("."):
        report = report[int(part)] if isinstance(report, list) else report[part]
    return report


def assert_numbers_equal(text: str, report: dict) -> int:
    """Every keyed number on the page equals report.json's value at the page's precision; how many."""
    keyed = [c for c in Page(text).cells if c["key"]]
    for cell in keyed:
        factor, decimals = PRECISION[cell["unit"]]
        assert cell["text"] == f"{lookup(report, cell['key']) * factor:,.{decimals}f}", cell
    return len(keyed)
