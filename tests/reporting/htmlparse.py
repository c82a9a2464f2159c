"""A tiny stdlib HTML reader for report tests: tables by id, SVG elements, all text."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["ReportPage", "parse_report"]


class ReportPage(HTMLParser):
    """Collects ``tables[id] = [(row class, [cell texts])]``, SVG shapes and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[tuple[str, list[str]]]] = {}
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.ids: dict[str, str] = {}
        self.text: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._row_class = ""
        self._cell: list[str] | None = None
        self._id_stack: list[tuple[str, str | None]] = []
        self._id_text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row, self._row_class = [], a.get("class", "")
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if "id" in a and tag not in ("table",):
            self._id_text[a["id"]] = []
            self._id_stack.append((tag, a["id"]))
        else:
            self._id_stack.append((tag, None))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append((self._row_class, self._row))
            self._row = None
        elif tag == "table":
            self._table = None
        while self._id_stack:
            t, ident = self._id_stack.pop()
            if ident is not None:
                self.ids[ident] = " ".join("".join(self._id_text[ident]).split())
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        for _, ident in self._id_stack:
            if ident is not None:
                self._id_text[ident].append(data)

    def rows(self, table: str, cls: str | None = None) -> list[list[str]]:
        """Rows of a table (optionally only those of one class)."""
        return [cells for c, cells in self.tables[table] if cls is None or c == cls]

    def shapes(self, tag: str, cls: str) -> list[dict[str, str]]:
        """Elements of ``tag`` with ``class=cls``."""
        return [a for t, a in self.elements if t == tag and cls in a.get("class", "").split()]


def parse_report(html: str) -> ReportPage:
    page = ReportPage()
    page.feed(html)
    page.close()
    return page
