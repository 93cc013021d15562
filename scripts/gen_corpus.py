#!/usr/bin/env python3
"""Generate a seeded, news-like JSONL corpus with known artifacts and duplicates, plus its truth.

The bench and the quality evaluations need a corpus of any size whose answers are known:
which documents copy which, which paragraphs are site boilerplate, which are wire copy shared
by many documents. Same arguments and seed, same bytes.

    python scripts/gen_corpus.py --docs 10000 --seed 1 --out /tmp/corpus [--html-share 0.1]

writes DIR/corpus.jsonl and DIR/truth.json.

corpus.jsonl: one record per line, keys in this order:
    {"id": "doc-0000042", "url": "https://SITE/news/...html", "site": "SITE", "title": "...",
     "date": "2017-03-02", "lang": "en", "text": "...", "content_type": "text/plain"|"text/html"}
Text of a plain document: paragraphs joined by the site's separator ("\\n\\n" for blank-line
sites, "\\n" for one-paragraph-per-line sites; cleanup's paragraph rule splits both back into the
same paragraphs). An HTML document (share --html-share) holds a whole page in "text": one block
element (nav, p, footer ...) per paragraph, in the same order, plus head, script and style noise.

What the documents contain: 3-20 body paragraphs of 1-4 sentences of 8-30 words drawn from a
Zipf-distributed vocabulary (common English words, then pseudo-words and pseudo-names), with
quotations, possessives, commas and dashes in the site's quote style (curly or straight);
around the body, the site's boilerplate lines (navigation, subscribe box, share line, legal line).
Inside the body: wire paragraphs from a shared pool (a Zipf choice, so some are in many
documents), video prompts ("Scroll down for video"), captions repeated twice in a row (the
repeat sometimes differs only by ’ vs '), and mojibake (UTF-8 bytes decoded as cp1252) on a
share of the paragraphs that hold non-ASCII characters.

Copies: --copy-share of the documents are near-copies of an earlier original (its body with
5-15% of the words of its ordinary paragraphs substituted, inserted or deleted, on the same
or another site with that site's boilerplate); --exact-share are byte-identical copies of an
earlier original's text under a new id and url.

truth.json (format "cleanup-gen-corpus/1"):
    {"format": ..., "args": {the generator's arguments},
     "sites": {SITE: {"separator": "\\n\\n"|"\\n", "quotes": "curly"|"straight",
                      "boilerplate": {"nav": TEXT, "subscribe": TEXT, "share": TEXT,
                                      "legal": TEXT},
                      "video_prompts": [TEXT, ...]}},
     "wire": {"w00003": TEXT, ...},
     "near_copies": {COPY_ID: {"of": ORIGINAL_ID, "edit_rate": 0.093, "same_site": true}},
     "exact_copies": {COPY_ID: ORIGINAL_ID},
     "documents": {ID: {"boilerplate": [0, 14], "wire": {"6": "w00003"}, "caption": [3],
                        "caption_repeat": [4], "video_prompt": [2], "mojibake": [7]}}}
With --hard-cases (or any of --template-share, --partial-share, --quote-share, --cjk-share;
all 0 by default, so a plain corpus keeps its bytes) scripts/gen_cases.py plants templated
reports, partial copies, quoting originals and Chinese/Japanese documents ("lang" zh/ja), and
truth.json gains "templates" {ID: TEMPLATE}, "partial_copies" {ID: {"of", "share",
"edit_rate"}}, "quotes" {ID: {"of"}}, "cjk" {ID: {"of": ORIGINAL_ID or null, "lang", ...}} and
"pairs": [[A, B, KIND], ...] for every planted pair (near, exact, template, partial, quote,
cjk), which scripts/eval_dedup.py --planted scores.
Paragraph indices count the document's paragraphs from 0: for plain text as cleanup's
paragraph rule splits "text"; for HTML the block elements of the body in order, which is the
same list. "caption" is the first of a repeated pair, "caption_repeat" the repeat to remove.
"documents" lists only documents with at least one label; a copy's labels are its own.
ORIGINAL_ID is never itself a copy. edit_rate = edited words / words of the edited paragraphs.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

FORMAT = "cleanup-gen-corpus/1"

# The most frequent English words, most frequent first: the head of the Zipf vocabulary, so
# stop-word lists, shingling and language detection see text that looks like English.
_COMMON_TEXT = (
    "the of and to a in that is was he for it with as his on be at by i this had not are but "
    "from or have an they which one you were her all she there would their we him been has "
    "when who will more no if out so said what up its about into than them can only other new "
    "some could time these two may then do first any my now such like our over man me even "
    "most made after also did many before must through back years where much your way well "
    "down should because each just those people how too little state good very make world "
    "still own see men work long get here between both life being under never day same "
    "another know while last might us great old year off come since against go came right "
    "used take three"
)
COMMON_WORDS = tuple(_COMMON_TEXT.split())
SECTIONS = ("Home", "News", "World", "Politics", "Business", "Sport", "Entertainment", "Health",
            "Science", "Travel", "Opinion", "Video", "Weather", "Money", "Tech")  # fmt: skip
SITE_NAMES = ("Daily Herald", "Metro Wire", "The Courier", "Evening Post", "Newsline",
              "Global Times", "City Beat", "Northern Star", "The Chronicle", "Morning Ledger",
              "Dispatch", "Sentinel")  # fmt: skip
SUBSCRIBE = (
    "Sign up for {the_name} newsletter and get the day{apos}s top stories in your inbox.",
    "Subscribe to {name} for unlimited access — just $1 for your first month.",
    "Get the {name} app: breaking news alerts, live video and more. Download now.",
)
SHARE = (
    "Share this article",
    "Share or comment on this article:",
    "Follow @{handle} on Twitter and Facebook",
)
LEGAL = (
    "© {year} {company}. All rights reserved.",
    "Copyright {year} {company}. This material may not be published, broadcast, rewritten or "
    "redistributed.",
    "{name} and the {name} logo are trademarks of {company}. Terms of Use | Privacy Policy | "
    "Cookie Settings",
)
VIDEO_PROMPTS = (
    "Scroll down for video",
    "Scroll down for video ",
    "WATCH VIDEO BELOW",
    "Watch the video above",
    "Video: click to play",
)
WIRE_PREFIXES = ("(AP) — ", "(Reuters) - ", "", "")
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
_CODAS = ("", "", "", "n", "r", "s", "t", "l", "nd", "st", "ng")
_CP1252 = {b: bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)}
_MOJIBAKE_TABLE = {b: ch for b, ch in _CP1252.items() if ord(ch) != b}
HARD_FLAGS = (
    ("template-share", 0.03, "templated reports (Jaccard below --threshold within a template)"),
    ("partial-share", 0.03, "partial copies (a 30-70%% excerpt of an earlier document)"),
    ("quote-share", 0.02, "originals quoting one paragraph of an earlier document"),
    ("cjk-share", 0.04, "Chinese/Japanese documents (half near-copies of an earlier one)"),
)
HARD_SHARES = tuple(n.replace("-", "_") for n, _, _ in HARD_FLAGS)
_EXACT_BUFFER = 10_000  # originals kept for copying: bounded memory, copies stay "recent"


def mojibake(text: str) -> str:
    """Return text as a reader decoding its UTF-8 bytes as cp1252 would show it (â€™ for ’).

    Bytes cp1252 leaves undefined (0x81, 0x8D ...) map to the same code point, as browsers
    and ftfy's sloppy-windows-1252 do, so the damage stays reversible.
    """
    return text.encode("utf-8").decode("latin-1").translate(_MOJIBAKE_TABLE)


class Draws:
    """Serve uniform numbers and Zipf word ids from large numpy batches.

    Per-call numpy scalars cost about a microsecond; drawing a million at once and handing
    them out from a Python list keeps the generator at a few minutes per million documents.
    The consumption order is fixed, so a seed gives the same corpus every time.
    """

    def __init__(self, rng: np.random.Generator, cdf: np.ndarray, vocab: np.ndarray) -> None:
        self.rng = rng
        self.cdf = cdf
        self.vocab = vocab
        self._u: list[float] = []
        self._ui = 0
        self._w: list[str] = []
        self._wi = 0

    def random(self) -> float:
        """Return a uniform number in [0, 1)."""
        if self._ui >= len(self._u):
            self._u = self.rng.random(1 << 20).tolist()
            self._ui = 0
        self._ui += 1
        return self._u[self._ui - 1]

    def integer(self, lo: int, hi: int) -> int:
        """Return an integer in [lo, hi] inclusive."""
        return lo + int(self.random() * (hi - lo + 1))

    def choice(self, items: Sequence[Any]) -> Any:
        """Return one of `items`, uniformly."""
        return items[int(self.random() * len(items))]

    def words(self, n: int) -> list[str]:
        """Return `n` words drawn from the Zipf vocabulary."""
        if self._wi + n > len(self._w):
            ids = np.searchsorted(self.cdf, self.rng.random(max(1 << 20, n)), side="right")
            self._w = self._w[self._wi :] + self.vocab[ids].tolist()
            self._wi = 0
        self._wi += n
        return self._w[self._wi - n : self._wi]


def make_vocabulary(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the vocabulary (common words, then pseudo-words) and its Zipf-Mandelbrot CDF."""
    words: list[str] = list(COMMON_WORDS)
    seen = set(words)
    syllables = np.array(_SYLLABLES, dtype=object)
    while len(words) < size:
        n = 1 + min(int(rng.geometric(0.45)), 3)
        word = "".join(syllables[rng.integers(0, len(syllables), n)]) + _CODAS[rng.integers(11)]
        if word in seen:
            continue
        seen.add(word)
        # About one word in twelve of the tail is a proper noun (names, places).
        words.append(word.capitalize() if rng.random() < 0.08 else word)
    ranks = np.arange(1, size + 1, dtype=np.float64)
    weights = 1.0 / (ranks + 2.7) ** 1.05
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return np.array(words, dtype=object), cdf


@dataclass
class Site:
    """One news site: its domain, style and boilerplate lines."""

    domain: str
    separator: str
    curly: bool
    nav: str
    subscribe: str
    share: str
    legal: str
    video_prompts: tuple[str, ...]

    @property
    def apos(self) -> str:
        """Return the apostrophe this site prints."""
        return "’" if self.curly else "'"

    def truth(self) -> dict[str, Any]:
        """Return this site's entry in truth.json."""
        return {
            "separator": self.separator,
            "quotes": "curly" if self.curly else "straight",
            "boilerplate": {
                "nav": self.nav,
                "subscribe": self.subscribe,
                "share": self.share,
                "legal": self.legal,
            },
            "video_prompts": list(self.video_prompts),
        }


def make_sites(d: Draws, count: int) -> list[Site]:
    """Return `count` sites, each with its own style and boilerplate lines."""
    sites = []
    for k in range(count):
        name = SITE_NAMES[k] if k < len(SITE_NAMES) else f"Site {k}"
        base = name.lower().replace(" ", "")
        curly = d.random() < 0.6
        apos = "’" if curly else "'"
        sections = [s for s in SECTIONS if d.random() < 0.6] or ["Home", "News"]
        company = f"{name} Media Group" if d.random() < 0.5 else f"{name} Publishing Ltd"
        the_name = name if name.startswith("The ") else f"the {name}"
        fmt = {"name": name, "the_name": the_name, "apos": apos, "handle": base, "company": company}
        fmt["year"] = str(d.integer(2012, 2024))
        first = d.integer(0, len(VIDEO_PROMPTS) - 1)
        prompts = (VIDEO_PROMPTS[first], VIDEO_PROMPTS[(first + 1) % len(VIDEO_PROMPTS)])
        sites.append(
            Site(
                domain=f"{base}.example",
                separator="\n" if d.random() < 0.4 else "\n\n",
                curly=curly,
                nav=" | ".join(sections),
                subscribe=d.choice(SUBSCRIBE).format(**fmt),
                share=d.choice(SHARE).format(**fmt),
                legal=d.choice(LEGAL).format(**fmt),
                video_prompts=prompts,
            )
        )
    return sites


@dataclass
class Body:
    """A document's body paragraphs with the label of each ("content", "wire:w00003" ...)."""

    paragraphs: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, text: str, label: str) -> None:
        """Append one labelled paragraph."""
        self.paragraphs.append(text)
        self.labels.append(label)


class Writer:
    """Write sentences, paragraphs and documents in one site's style."""

    def __init__(self, d: Draws, names: list[str]) -> None:
        self.d = d
        self.names = names

    def sentence(self, site: Site, lo: int = 8, hi: int = 30, end: str = ".") -> str:
        """Return one sentence of lo..hi words, peaked in the middle like news prose."""
        d = self.d
        n = lo + int((d.random() + d.random()) / 2 * (hi - lo + 1))
        words = list(d.words(n))
        words[0] = words[0].capitalize()
        r = d.random()
        if r < 0.35 and n > 4:
            k = 1 + int(d.random() * (n - 3))
            words[k] += ","
        elif r < 0.42 and n > 4:
            k = 1 + int(d.random() * (n - 3))
            words[k] += " —"
        if d.random() < 0.12:
            k = int(d.random() * (n - 1))
            words[k] += site.apos + "s"
        return " ".join(words) + end

    def name(self) -> str:
        """Return a person's name."""
        return f"{self.d.choice(self.names)} {self.d.choice(self.names)}"

    def paragraph(self, site: Site) -> str:
        """Return an ordinary paragraph: 1-4 sentences, sometimes a quotation."""
        d = self.d
        r = d.random()
        count = 1 if r < 0.35 else 2 if r < 0.75 else 3 if r < 0.95 else 4
        if d.random() < 0.15:
            open_q, close_q = ("“", "”") if site.curly else ('"', '"')
            said = self.sentence(site, end=",")
            rest = " ".join(self.sentence(site) for _ in range(count - 1))
            quote = f"{open_q}{said}{close_q} {self.name()} said."
            return f"{quote} {rest}" if rest else quote
        return " ".join(self.sentence(site) for _ in range(count))

    def caption(self, site: Site) -> str:
        """Return a photo caption: a name, an apostrophe, no final full stop."""
        d = self.d
        who = self.name()
        words = d.words(d.integer(6, 16))
        pictured = " (pictured)" if d.random() < 0.4 else ""
        return f"{who}{pictured} {' '.join(words)} {site.apos}{d.choice(words)}{site.apos}"


def swap_apostrophes(text: str) -> str:
    """Return text with ’ and ' swapped, the way a caption's alt text differs from its copy."""
    return text.translate({0x2019: "'", 0x27: "’"})


def edit_words(d: Draws, text: str, rate: float) -> tuple[str, int, int]:
    """Edit about `rate` of the words (substitute, insert or delete); return text, edits, words."""
    words = text.split(" ")
    out: list[str] = []
    edits = 0
    for w in words:
        if d.random() >= rate:
            out.append(w)
            continue
        edits += 1
        kind = d.random()
        if kind < 1 / 3:
            out.append(d.words(1)[0])
        elif kind < 2 / 3:
            out.extend((w, d.words(1)[0]))
    if not out:
        out = words[:1]
    return " ".join(out), edits, len(words)


def make_body(w: Writer, site: Site, wire: list[str], wire_cdf: np.ndarray) -> Body:
    """Return a fresh body: 3-20 paragraphs with wire copy, captions and a video prompt."""
    d = w.d
    body = Body()
    n = d.integer(3, 20)
    for _ in range(n):
        body.add(w.paragraph(site), "content")
    # Captions go in last, as one slice, so no later insertion splits the pair.
    if d.random() < 0.3:
        for _ in range(1 if d.random() < 0.7 else 2):
            k = int(np.searchsorted(wire_cdf, d.random(), side="right"))
            pos = d.integer(1, len(body.paragraphs))
            body.paragraphs.insert(pos, wire[k])
            body.labels.insert(pos, f"wire:w{k:05d}")
    if d.random() < 0.15:
        pos = min(d.integer(1, 4), len(body.paragraphs))
        body.paragraphs.insert(pos, d.choice(site.video_prompts))
        body.labels.insert(pos, "video_prompt")
    if d.random() < 0.25:
        cap = w.caption(site)
        repeat = swap_apostrophes(cap) if d.random() < 0.3 else cap
        pos = d.integer(1, len(body.paragraphs))
        body.paragraphs[pos:pos] = [cap, repeat]
        body.labels[pos:pos] = ["caption", "caption_repeat"]
    return body


def copy_body(d: Draws, body: Body, rate: float) -> tuple[Body, float]:
    """Return a near-copy of a body (ordinary paragraphs edited) and its real edit rate."""
    out = Body()
    edits = total = 0
    for text, label in zip(body.paragraphs, body.labels, strict=True):
        if label == "content":
            text, e, n = edit_words(d, text, rate)
            edits += e
            total += n
        out.add(text, label)
    return out, edits / max(total, 1)


def assemble(d: Draws, site: Site, body: Body, moji_share: float) -> tuple[list[str], dict]:
    """Wrap a body in the site's boilerplate, damage some paragraphs; return them and labels."""
    paragraphs: list[str] = []
    labels: dict[str, Any] = {}

    def label(kind: str, value: Any = None) -> None:
        i = len(paragraphs) - 1
        if value is None:
            labels.setdefault(kind, []).append(i)
        else:
            labels.setdefault(kind, {})[str(i)] = value

    if d.random() < 0.7:
        paragraphs.append(site.nav)
        label("boilerplate")
    for text, kind in zip(body.paragraphs, body.labels, strict=True):
        if kind == "content" and d.random() < moji_share and not text.isascii():
            paragraphs.append(mojibake(text))
            label("mojibake")
            continue
        paragraphs.append(text)
        if kind.startswith("wire:"):
            label("wire", kind[5:])
        elif kind != "content":
            label(kind)
    for line, share in ((site.share, 0.4), (site.subscribe, 0.6), (site.legal, 0.8)):
        if d.random() < share:
            paragraphs.append(line)
            label("boilerplate")
    return paragraphs, labels


def render_html(paragraphs: list[str], labels: dict[str, Any], title: str, site: Site) -> str:
    """Return a whole web page whose body block elements are the paragraphs, in order."""
    kinds: dict[int, str] = {}
    for kind in ("boilerplate", "caption", "caption_repeat", "video_prompt"):
        for i in labels.get(kind, ()):
            kinds[i] = kind
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        "<style>body{font-family:serif} .ad{display:none}</style>",
        '<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push("x<y")}'
        "</script></head><body>",
    ]
    ad = f'<div class="ad"><script src="https://ads.{site.domain}/a.js"></script></div>'
    article = False
    for i, text in enumerate(paragraphs):
        esc = html.escape(text, quote=False).replace("’", "&rsquo;").replace(" — ", "&nbsp;— ")
        kind = kinds.get(i)
        if kind == "boilerplate" and i == 0:
            links = "</a> | <a>".join(esc.split(" | "))
            lines.append(f'<nav class="menu"><a href="/">{links}</a></nav>')
            continue
        if kind == "boilerplate":
            if article:
                lines.append("</article>")
                article = False
            lines.append(f'<footer><p class="legal">{esc}</p></footer>')
            continue
        if not article and i < len(paragraphs) and "</article>" not in lines:
            lines.extend((ad, "<article>"))
            article = True
        if kind in ("caption", "caption_repeat"):
            lines.append(f'<p class="caption">{esc}</p>')
        else:
            lines.append(f"<p>{esc}</p>")
    if article:
        lines.append("</article>")
    lines.append("</body></html>")
    return "\n".join(lines)


@dataclass
class Original:
    """What a later copy needs of an original document."""

    id: str
    site: int
    body: Body
    text: str
    labels: dict[str, Any]
    html: bool


def generate(args: argparse.Namespace, out: TextIO, docs_truth: TextIO) -> dict[str, Any]:
    """Write the corpus to `out` and per-document labels to `docs_truth`; return the rest."""
    rng = np.random.default_rng(args.seed)
    vocab, cdf = make_vocabulary(rng, args.vocabulary)
    d = Draws(rng, cdf, vocab)
    names = [w for w in vocab[200:].tolist() if w[:1].isupper()][:2000] or ["Smith"]
    w = Writer(d, names)
    sites = make_sites(d, args.sites)
    wire_size = max(20, args.docs // 200)
    dummy = Site("wire.example", "\n", True, "", "", "", "", ())
    wire = [d.choice(WIRE_PREFIXES) + w.paragraph(dummy) for _ in range(wire_size)]
    wire_w = 1.0 / np.arange(1, wire_size + 1) ** 1.1
    wire_cdf = np.cumsum(wire_w) / wire_w.sum()
    wire_cdf[-1] = 1.0
    originals: deque[Original] = deque(maxlen=_EXACT_BUFFER)
    hard = _hard_cases(args, d, w)
    near: dict[str, Any] = {}
    exact: dict[str, str] = {}
    first_doc = True
    for i in range(args.docs):
        doc_id = f"doc-{i:07d}"
        r = d.random()
        lang, kind = "en", None
        si = d.integer(0, len(sites) - 1)
        source: Original | None = d.choice(originals) if originals else None
        title = w.sentence(sites[si], 5, 12, end="")
        if source is not None and r < args.exact_share:
            si = source.site
            site = sites[si]
            text, labels, body, html_doc = source.text, source.labels, None, source.html
            exact[doc_id] = source.id
        else:
            rest = r - args.exact_share - args.copy_share
            kind = hard.pick(rest) if hard is not None and rest >= 0 else None
            if source is not None and r < args.exact_share + args.copy_share:
                same = d.random() < 0.5
                si = source.site if same else si
                body, rate = copy_body(d, source.body, 0.05 + 0.10 * d.random())
                near[doc_id] = {"of": source.id, "edit_rate": round(rate, 4), "same_site": same}
            elif hard is not None and kind is not None:
                body, lang = hard_body(hard, kind, doc_id, source, w, sites[si], wire, wire_cdf)
            else:
                body = make_body(w, sites[si], wire, wire_cdf)
            site = sites[si]
            moji = 0.0 if lang != "en" else args.mojibake_share
            paragraphs, labels = assemble(d, site, body, moji)
            html_doc = d.random() < args.html_share
            if html_doc:
                text = render_html(paragraphs, labels, title, site)
            else:
                text = site.separator.join(paragraphs)
        date = f"20{d.integer(14, 24)}-{d.integer(1, 12):02d}-{d.integer(1, 28):02d}"
        slug = "-".join(x.strip(",’'—").lower() for x in title.split()[:6] if x != "—")
        record = {
            "id": doc_id,
            "url": f"https://{site.domain}/news/{date.replace('-', '/')}/{slug}-{i}.html",
            "site": site.domain,
            "title": title,
            "date": date,
            "lang": lang,
            "text": text,
            "content_type": "text/html" if html_doc else "text/plain",
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if labels:
            sep = "" if first_doc else ",\n"
            docs_truth.write(f"{sep}{json.dumps(doc_id)}: {json.dumps(labels, ensure_ascii=False)}")
            first_doc = False
        if body is not None and doc_id not in near and kind not in ("partial", "cjk"):
            originals.append(Original(doc_id, si, body, text, labels, html_doc))
    out = {
        "sites": {s.domain: s.truth() for s in sites},
        "wire": {f"w{k:05d}": t for k, t in enumerate(wire)},
        "near_copies": near,
        "exact_copies": exact,
    }
    if hard is not None:
        hard.check_templates()
        pairs = [[c, i["of"], "near"] for c, i in near.items()]
        pairs += [[c, o, "exact"] for c, o in exact.items()]
        hard.truth["pairs"] = pairs + hard.truth["pairs"]
        out |= hard.truth
    return out


def _hard_cases(args: argparse.Namespace, d: Draws, w: Writer) -> Any:
    """Return the hard-case maker (scripts/gen_cases.py) if any of its shares is above 0.

    It is imported and built only then, so it draws no random number for a plain corpus and
    existing invocations keep their bytes.
    """
    if not any(getattr(args, n) > 0 for n in HARD_SHARES):
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gen_cases import HardCases

    return HardCases(args, d, w, edit_words)


def hard_body(
    hard: Any,
    kind: str,
    doc_id: str,
    source: Original | None,
    w: Writer,
    site: Site,
    wire: list[str],
    wire_cdf: np.ndarray,
) -> tuple[Body, str]:
    """Return the body and language of a hard case (an original body if it needs a source)."""
    body = Body()
    if kind == "template":
        for text in hard.template_report(doc_id, site):
            body.add(text, "content")
        return body, "en"
    if kind == "cjk":
        paragraphs, lang = hard.cjk_document(doc_id)
        for text in paragraphs:
            body.add(text, "content")
        return body, lang
    own = [p for p, lab in zip(source.body.paragraphs, source.body.labels, strict=True)
           if lab == "content"] if source is not None else []  # fmt: skip
    if kind == "partial" and len(own) >= 3:
        for text in hard.excerpt(doc_id, source.id, own):
            body.add(text, "content")
        return body, "en"
    body = make_body(w, site, wire, wire_cdf)
    if kind == "quote" and own:
        while body.labels.count("content") < 5:
            body.add(w.paragraph(site), "content")
        pos = hard.quote_position(doc_id, source.id, len(body.paragraphs))
        if pos < len(body.labels) and body.labels[pos] == "caption_repeat":
            pos += 1
        body.paragraphs.insert(pos, w.d.choice(own))
        body.labels.insert(pos, "content")
    return body, "en"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, required=True, help="number of documents")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--html-share", type=float, default=0.0, help="share of HTML documents")
    p.add_argument("--copy-share", type=float, default=0.10, help="share of near-copies")
    p.add_argument("--exact-share", type=float, default=0.02, help="share of exact copies")
    p.add_argument(
        "--mojibake-share", type=float, default=0.05, help="share of non-ASCII paragraphs damaged"
    )
    p.add_argument("--sites", type=int, default=8, help="number of sites")
    p.add_argument("--vocabulary", type=int, default=30_000, help="vocabulary size")
    hard = p.add_argument_group(
        "hard cases (scripts/gen_cases.py; all off by default, --hard-cases turns all on)"
    )
    hard.add_argument("--hard-cases", action="store_true",
                      help="plant every hard case at its default share (below)")  # fmt: skip
    for name, default, what in HARD_FLAGS:
        hard.add_argument(f"--{name}", type=float, default=None,
                          help=f"share of {what} (--hard-cases: {default})")  # fmt: skip
    hard.add_argument("--threshold", type=float, default=0.4,
                      help="Jaccard every templated pair stays below")  # fmt: skip
    hard.add_argument("--shingle-size", type=int, default=2,
                      help="words per shingle for that Jaccard")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    args = p.parse_args(argv)
    if args.docs < 0 or args.sites < 1 or args.vocabulary < len(COMMON_WORDS):
        p.error("--docs must be >= 0, --sites >= 1, --vocabulary >= the common-word list")
    for name, default, _ in HARD_FLAGS:
        key = name.replace("-", "_")
        if getattr(args, key) is None:
            setattr(args, key, default if args.hard_cases else 0.0)
    if args.exact_share + args.copy_share + sum(getattr(args, n) for n in HARD_SHARES) > 1:
        p.error("the shares of copies and hard cases must add up to at most 1")
    if not 1 <= args.shingle_size <= 8:
        p.error("--shingle-size must be 1..8")
    for name in ("html_share", "copy_share", "exact_share", "mojibake_share", *HARD_SHARES):
        if not 0.0 <= getattr(args, name) <= 1.0:
            p.error(f"--{name.replace('_', '-')} must be between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate the corpus and its truth into --out."""
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.perf_counter()
    corpus_path = os.path.join(args.out, "corpus.jsonl")
    truth_path = os.path.join(args.out, "truth.json")
    with (
        open(corpus_path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n", dir=args.out) as docs_tmp,
    ):
        rest = generate(args, out, docs_tmp)
        with open(truth_path, "w", encoding="utf-8", newline="\n") as truth:
            skip = {"quiet", "out"}
            if not any(getattr(args, n) > 0 for n in HARD_SHARES):
                skip |= {"hard_cases", "threshold", "shingle_size", *HARD_SHARES}
            head = {
                "format": FORMAT,
                "args": {k: v for k, v in vars(args).items() if k not in skip},
            }
            head |= rest
            body = json.dumps(head, ensure_ascii=False, indent=1)
            truth.write(body[:-2] + ',\n "documents": {\n')
            docs_tmp.seek(0)
            while chunk := docs_tmp.read(1 << 20):
                truth.write(chunk)
            truth.write("\n }\n}\n")
    if not args.quiet:
        size = os.path.getsize(corpus_path)
        print(
            f"wrote {args.docs} documents ({size / 1e6:.1f} MB) to {corpus_path} and the truth "
            f"to {truth_path} in {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
