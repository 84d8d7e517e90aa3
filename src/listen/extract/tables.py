"""Data tables read row by row as sentences, never as a jumble of cells."""

from __future__ import annotations

from listen.extract.text import HEADING_TAGS, Element, element_text


def is_data_table(table: Element) -> bool:
    """A table of values (read row by row), not a layout table holding paragraphs."""
    if next(table.iterdescendants("table"), None) is not None:
        return False
    for cell in table.iter("td", "th"):
        holds_blocks = next(cell.iter("p", "div", "ul", "ol", *HEADING_TAGS), None) is not None
        if holds_blocks and len(element_text(cell)) > 80:
            return False
    return sum(1 for _ in table.iter("tr")) >= 2


def _cells(tr: Element) -> list[Element]:
    return list(tr.iterchildren("td", "th")) or list(tr.iter("td", "th"))


def table_sentences(table: Element) -> list[str]:
    """The caption first, then one sentence per row, "Header: value, Header: value." With no
    header row, a row that starts with a header cell reads "Label: value, value."."""
    trs = [tr for tr in table.iter("tr") if any(element_text(c) for c in _cells(tr))]
    if not trs:
        return []
    first = trs[0]
    has_header = next(first.iter("td"), None) is None
    header = [element_text(c) for c in _cells(first)] if has_header else []
    sentences = []
    caption = next(table.iter("caption"), None)
    if caption is not None and element_text(caption):
        sentences.append(element_text(caption).rstrip(".") + ".")
    for tr in trs[1:] if has_header else trs:
        cells = _cells(tr)
        row = [element_text(c) for c in cells]
        if header and len(header) == len(row):
            pairs = [f"{h}: {v}" if h and h != v else v for h, v in zip(header, row, strict=True)]
            pairs = [p for p, v in zip(pairs, row, strict=True) if v]
        elif len(cells) >= 2 and cells[0].tag == "th" and row[0]:
            values = [v for v in row[1:] if v]
            pairs = [f"{row[0]}: {', '.join(values)}"] if values else [row[0]]
        else:
            pairs = [v for v in row if v]
        if pairs:
            sentences.append(", ".join(pairs).rstrip(".") + ".")
    return sentences
