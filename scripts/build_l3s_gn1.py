#!/usr/bin/env python3
"""Build benchmarks/l3s-gn1/ from the L3S-GN1 dataset's annotated pages.

L3S-GN1 (Kohlschütter et al., WSDM 2010) labels each text block of 621 news pages by wrapping
it in a `<span class="x-nc-selN">`: 1 headline, 2 full text, 3 supplemental (captions), 4
related content, 5 user comments, 0 not content; elements a reader cannot see carry the class
`x-nc-invisible`. The metric of `scripts/eval_html.py` needs plain text, so this script turns
the labels into the same ground-truth shape as scrapinghub's benchmark:

    {id: {"articleBody": full text (label 2), "headline": label 1, "url": ...}}

The full-text blocks are joined in document order: blocks under the same block-level element
with a space, blocks under different ones with a line break. Nothing else changes: the
original pages are stored gzipped byte for byte.

    python scripts/build_l3s_gn1.py SOURCE_DIR [--out benchmarks/l3s-gn1]

SOURCE_DIR is the dataset folder with `original/`, `annotated/` and `url-mapping.txt`
(the per-page HTML conversion of the WARC file, as kept e.g. in github.com/geodrome/page-signal).
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import lxml.html

FULL_TEXT = "x-nc-sel2"
HEADLINE = "x-nc-sel1"
INVISIBLE = "x-nc-invisible"
_INLINE = {"a", "span", "b", "i", "em", "strong", "font", "u", "small", "big", "sup", "sub"}


def _classes(el: lxml.html.HtmlElement) -> set[str]:
    """Return an element's CSS classes."""
    return set((el.get("class") or "").split())


def _block_of(el: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """Return the nearest ancestor that is not an inline element (where a line break goes)."""
    parent = el.getparent()
    while parent is not None and parent.tag in _INLINE:
        parent = parent.getparent()
    return parent


def _visible(el: lxml.html.HtmlElement) -> bool:
    """Tell whether no ancestor (or the element) is marked invisible by the annotators."""
    node: lxml.html.HtmlElement | None = el
    while node is not None:
        if INVISIBLE in _classes(node):
            return False
        node = node.getparent()
    return True


def labelled_text(annotated: str, label: str) -> str:
    """Return the visible text of the outermost blocks carrying `label`, in document order."""
    root = lxml.html.document_fromstring(annotated)
    pieces: list[str] = []
    last_block = None
    for el in root.iter("span"):
        if label not in _classes(el) or not _visible(el):
            continue
        if any(label in _classes(a) for a in el.iterancestors("span")):
            continue  # counted with its outermost labelled ancestor
        text = " ".join(el.text_content().split())
        if not text:
            continue
        block = _block_of(el)
        if pieces and block is last_block:
            pieces[-1] += " " + text
        else:
            pieces.append(text)
        last_block = block
    return "\n".join(pieces)


def read_urls(mapping: Path) -> dict[str, str]:
    """Return page id -> URL from the dataset's `<urn:uuid:ID>\\tURL` lines."""
    urls = {}
    for line in mapping.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            urn, url = line.split("\t", 1)
            urls[urn.strip("<>").removeprefix("urn:uuid:")] = url.strip()
    return urls


def build(source: Path, out: Path) -> int:
    """Write out/html/ID.html.gz and out/ground-truth.json; return the number of pages."""
    urls = read_urls(source / "url-mapping.txt")
    (out / "html").mkdir(parents=True, exist_ok=True)
    truth = {}
    for page in sorted((source / "original").glob("*.html")):
        key = page.name.removesuffix(".html")
        annotated = (source / "annotated" / page.name).read_text(encoding="utf-8")
        truth[key] = {
            "articleBody": labelled_text(annotated, FULL_TEXT),
            "headline": labelled_text(annotated, HEADLINE),
            "url": urls.get(key, ""),
        }
        with gzip.GzipFile(out / "html" / f"{key}.html.gz", "wb", mtime=0) as fh:
            fh.write(page.read_bytes())
    text = json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True)
    (out / "ground-truth.json").write_text(text + "\n", encoding="utf-8")
    return len(truth)


def main() -> None:
    """Parse the arguments and build the folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the L3S-GN1 folder (original/, annotated/)")
    default = Path(__file__).resolve().parent.parent / "benchmarks" / "l3s-gn1"
    parser.add_argument("--out", type=Path, default=default, help="output folder")
    args = parser.parse_args()
    print(f"{build(args.source, args.out)} pages written to {args.out}")


if __name__ == "__main__":
    main()
