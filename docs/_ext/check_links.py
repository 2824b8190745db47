"""Fails on a broken internal link of the built site: ``python check_links.py DIR``.

Every relative ``href`` and ``src`` of every page under DIR must name a file that the
build wrote and, after ``#``, an ``id`` that file holds. Sphinx's own checks (``-n -W``)
cover the references it resolves; this covers the rest, such as a Markdown link to
``page.md#section`` or a figure a tutorial did not draw.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            elif name in ("href", "src") and value:
                self.links.append(value)


def _parsed(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def broken_links(root: Path) -> list[str]:
    """The broken internal links under ``root``, one line each: page, link, what is missing."""
    # _static/ holds the theme's own files (templates among them), not pages of the site.
    pages = {
        path.resolve(): _parsed(path)
        for path in root.rglob("*.html")
        if "_static" not in path.relative_to(root).parts
    }
    broken = []
    for path, page in sorted(pages.items()):
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            where = path.relative_to(root.resolve())
            if not target.exists():
                broken.append(f"{where}: {link}: no such file")
            elif parts.fragment and target.suffix == ".html":
                if target in pages and unquote(parts.fragment) not in pages[target].ids:
                    broken.append(f"{where}: {link}: no anchor #{parts.fragment}")
    return broken


if __name__ == "__main__":
    root = Path(sys.argv[1])
    problems = broken_links(root)
    for line in problems:
        print(f"broken link: {line}", file=sys.stderr)
    print(f"{len(problems)} broken internal links")
    sys.exit(1 if problems else 0)
