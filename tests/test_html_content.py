"""Tests for strip-html's content model: one small hand-written page per failure class.

Each page puts its article among the usual chrome (navigation, a sidebar of teasers, a
footer) and shows one way an article is laid out that a one-block extractor gets wrong.
The pages are in several languages and scripts: no rule may depend on English words.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cleanup.cli import cli
from cleanup.document import Document
from cleanup.extract import extract_page
from cleanup.steps.html import strip_html

CHROME_TOP = (
    "<header><a href='/'>Logo</a><nav><ul><li><a href='/a'>Home</a></li>"
    "<li><a href='/b'>World</a></li><li><a href='/c'>Sport</a></li></ul></nav></header>"
)
SIDEBAR = (
    "<div class='col-side'><h3>Trending</h3><ul>"
    + "".join(
        f"<li><a href='/t{i}'>Teaser headline number {i} about something else</a></li>"
        for i in range(6)
    )
    + "</ul></div>"
)
FOOTER = "<footer><p>© 2024 Example Media. <a href='/imprint'>Imprint</a></p></footer>"


def page(article: str, title: str = "Headline") -> str:
    """Wrap an article's markup in a page with a header, a sidebar and a footer."""
    return (
        f"<html><head><title>{title}</title></head><body>{CHROME_TOP}"
        f"<div class='layout'><div class='col-main'>{article}</div>{SIDEBAR}</div>"
        f"{FOOTER}</body></html>"
    )


def main_text(markup: str, **options: object) -> list[str]:
    """Return strip-html's paragraphs for one page (main content unless told otherwise)."""
    doc = Document(id="p", paragraphs=[markup], raw=markup, format="html", source="p.html")
    (out,) = strip_html([doc], **options)  # type: ignore[arg-type]
    assert out.dropped is None
    return out.paragraphs


def paras(prefix: str, n: int, words: str) -> list[str]:
    """Return n distinct paragraphs of prose (each long enough to count)."""
    return [f"{prefix} {i + 1}: {words}" for i in range(n)]


def html_paras(texts: list[str]) -> str:
    """Return the texts as <p> elements."""
    return "".join(f"<p>{t}</p>" for t in texts)


DE = (
    "Die Stadtverwaltung hat am Mittwoch beschlossen, die alte Brücke über den Fluss zu "
    "sanieren, nachdem Gutachter zahlreiche Schäden an den Pfeilern festgestellt hatten."
)
ES = (
    "El ayuntamiento aprobó el miércoles un plan para renovar el puerto, después de que "
    "los pescadores denunciaran durante años el mal estado de los muelles y las grúas."
)
RU = (
    "Городской совет в среду одобрил план реконструкции набережной, после того как жители "
    "много лет жаловались на разрушенные ступени, старые фонари и узкие тротуары."
)
JA = (
    "市議会は水曜日、老朽化した橋の改修計画を承認した。専門家は橋脚に多くの損傷を見つけ、"
    "住民は長年にわたり安全性への不安を訴えていた。工事は来年の春に始まる予定だという。"
)
FR = (
    "Le conseil municipal a approuvé mercredi la rénovation de la halle du marché, après "
    "des années de plaintes des commerçants sur la toiture, l'éclairage et le chauffage."
)


def test_article_split_over_sections_between_rules_keeps_every_section() -> None:
    """Failure class: a post in three <section>s separated by <hr> kept the middle one."""
    first, middle, last = paras("Teil A", 1, DE), paras("Teil B", 8, DE), paras("Teil C", 1, DE)
    article = (
        f"<h1>Headline</h1><section>{html_paras(first)}</section><hr>"
        f"<section>{html_paras(middle)}</section><hr><section>{html_paras(last)}</section>"
    )
    assert main_text(page(article)) == first + middle + last


def test_story_body_divs_with_ads_between_keep_every_part() -> None:
    """Failure class: a story over several story-body <div>s with ads between lost its start."""
    parts = [paras("Parte 1", 2, ES), paras("Parte 2", 9, ES), paras("Parte 3", 1, ES)]
    ad = "<div class='ad-slot'><span>Publicidad</span></div>"
    article = "<h1>Headline</h1>" + ad.join(
        f"<div class='story-body'>{html_paras(p)}</div>" for p in parts
    )
    assert main_text(page(article)) == [p for part in parts for p in part]


def test_content_after_a_full_width_figure_is_kept() -> None:
    """Failure class: long posts lost everything after a full-width figure."""
    before, after = paras("До", 2, RU), paras("После", 4, RU)
    article = (
        f"<h1>Headline</h1><div class='wrap'><div class='text'>{html_paras(before)}</div></div>"
        "<figure class='full'><img src='a.jpg' alt='Набережная'><figcaption>Набережная "
        "вечером. Фото: пресс-служба</figcaption></figure>"
        f"<div class='wrap'><div class='text'>{html_paras(after)}</div></div>"
    )
    assert main_text(page(article)) == before + after


def test_gallery_does_not_win_over_the_article() -> None:
    """Failure class: a 50-slide gallery was kept and the article about hotels dropped."""
    body = paras("Hôtel", 6, FR)
    slides = "".join(
        f"<div class='slide'><img src='{i}.jpg'><p>Vue numéro {i} de la chambre et de la "
        f"terrasse, au coucher du soleil.</p></div>"
        for i in range(50)
    )
    article = (
        f"<article><h1>Headline</h1>{html_paras(body)}</article><div class='gallery'>{slides}</div>"
    )
    out = main_text(page(article))
    assert out == body


def test_section_front_keeps_its_teasers() -> None:
    """Failure class: a section front (a page of teasers: its content) was cut to one teaser."""
    teasers = [
        (f"Nachricht {i}: Rathaus plant neue Brücke", f"Kurzfassung {i}: {DE}") for i in range(8)
    ]
    front = "<h1>Lokales</h1>" + "".join(
        f"<div class='teaser'><h2><a href='/n{i}'>{h}</a></h2><p>{s}</p></div>"
        for i, (h, s) in enumerate(teasers)
    )
    out = main_text(page(front, "Lokales"))
    for _, summary in teasers:
        assert summary in out


def test_loose_text_between_blocks_is_kept() -> None:
    """Failure class: text loose between blocks (after htmltidy) was dropped."""
    ps = paras("Absatz", 3, DE)
    loose = "Dieser Satz steht ohne eigenes Element zwischen zwei Absätzen, wie nach htmltidy."
    article = f"<div class='post'><h1>Headline</h1>{html_paras(ps[:2])}{loose}<p>{ps[2]}</p></div>"
    out = main_text(page(article))
    assert out == [*ps[:2], loose, ps[2]]


@pytest.mark.parametrize(
    "math",
    [
        "<math display='block'><mi>E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn>2</mn></msup>"
        "</math>",
        "<script type='math/tex; mode=display'>E = mc^2</script>",  # MathJax's TeX source
    ],
)
def test_heading_followed_by_math_is_kept(math: str) -> None:
    """Failure class: a heading followed only by math was dropped as an orphan heading."""
    ps = paras("Abschnitt", 3, DE)
    article = (
        f"<article><h1>Headline</h1>{html_paras(ps)}<h2>Herleitung</h2>{math}"
        f"<h2>Ergebnis</h2><p>{DE}</p></article>"
    )
    out = main_text(page(article))
    assert "Herleitung" in out
    assert any("E" in p and "m" in p and "=" in p for p in out)


def test_inline_boilerplate_class_inside_a_sentence_is_kept() -> None:
    """Failure class: a byline span (class 'last-byline') cut out of the middle of a sentence."""
    ps = paras("Paragraph", 3, ES)
    sentence = (
        'Reporting was contributed by <span class="last-byline">Keith Bradsher</span> y '
        '<span class="share-name">Ana López</span> desde Hong Kong.'
    )
    article = f"<article><h1>Headline</h1>{html_paras(ps)}<p>{sentence}</p></article>"
    want = "Reporting was contributed by Keith Bradsher y Ana López desde Hong Kong."
    assert want in main_text(page(article))
    assert want in main_text(page(article), extract="all")


@pytest.mark.parametrize("extract", ["main", "all"])
def test_ancestor_named_modal_does_not_drop_the_article(extract: str) -> None:
    """Failure class: --extract all dropped a whole article whose ancestor's id held 'modal'."""
    ps = paras("記事", 3, JA)
    many_links = "".join(
        f"<li><a href='/m{i}'>関連記事のリンク {i} 番目の見出し</a></li>" for i in range(60)
    )
    markup = (
        f"<html><body>{CHROME_TOP}<ul class='more'>{many_links}</ul>"
        f"<div id='article-modal-root'><div class='box article'><h1>見出し</h1>"
        f"{html_paras(ps)}</div></div>{FOOTER}</body></html>"
    )
    out = main_text(markup, extract=extract)
    for p in ps:
        assert p in out


def test_extractor_option_reaches_the_cli(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--extractor is a strip-html option; ours and trafilatura both extract the article."""
    ps = paras("Part", 4, ES)
    src = tmp_path / "page.html"
    src.write_text(page(f"<article><h1>Headline</h1>{html_paras(ps)}</article>"), "utf-8")
    for extractor in ("ours", "trafilatura"):
        out = tmp_path / f"{extractor}.jsonl"
        result = CliRunner().invoke(
            cli,
            ["pipe", "-i", str(src), "-o", str(out), "strip-html", "--extractor", extractor],
        )
        assert result.exit_code == 0, result.output
        text = out.read_text("utf-8")
        assert all(p in text for p in ps)


def test_unknown_extractor_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="extractor"):
        extract_page("<p>x</p>", extractor="magic")


def test_byline_and_date_lines_before_the_first_sentence_are_dropped() -> None:
    """Precision: the short lines above an article (author, date, photo credit) are no text."""
    ps = paras("Абзац", 3, RU)
    article = (
        "<article><h1>Headline</h1><div>Иван Петров, корреспондент</div>"
        "<div>Опубликовано 19.11.2019 11:34</div><div>Фото: ТАСС</div>"
        f"{html_paras(ps)}</article>"
    )
    assert main_text(page(article)) == ps


def test_related_posts_as_nested_articles_do_not_win() -> None:
    """Failure class 'the wrong block wins': a short post beside a box of related posts.

    Each related post is an <article> as long as the post itself; a list of <article>s is
    no article, and an <article> inside one is a related post.
    """
    post = paras("Post", 1, FR)
    related = "".join(
        f"<article class='teaser'><h3>Titre {i}</h3><p>Résumé {i} : {FR} {FR}</p></article>"
        for i in range(6)
    )
    article = (
        f"<article class='post'><h1>Headline</h1>{html_paras(post)}</article>"
        f"<article class='related'><h3>À lire aussi</h3>{related}</article>"
    )
    assert main_text(page(article)) == post


@pytest.mark.parametrize("box", ["swiper-container rail", "smg-widget media-list", "slider"])
def test_slider_and_widget_boxes_in_the_article_column_stay_out(box: str) -> None:
    """Precision: a teaser slider or a widget box inside the article's column is no text."""
    ps = paras("Artikel", 4, DE)
    slides = "".join(
        f"<div class='item'><span>RUBRIK {i}</span><h3>Schlagzeile eines anderen Artikels "
        f"Nummer {i}, die nicht verlinkt ist</h3></div>"
        for i in range(6)
    )
    article = (
        f"<div class='entry-content'><h1>Headline</h1>{html_paras(ps[:2])}"
        f"<div class='{box}'>{slides}</div>{html_paras(ps[2:])}</div>"
    )
    assert main_text(page(article)) == ps


@pytest.mark.parametrize("style", ["display:none;", "DISPLAY: none", "visibility: hidden"])
def test_elements_hidden_by_inline_style_stay_out(style: str) -> None:
    """Precision: a copy of the article hidden by its style (schema.org markup) is no text."""
    ps = paras("Párrafo", 4, ES)
    hidden = (
        f"<div style='{style}' itemscope itemtype='http://schema.org/NewsArticle'>"
        f"<h1 itemprop='name'>Headline</h1><div itemprop='description'>{ES[:60]}...</div>"
        "<div itemprop='author'>Redacción</div><div itemprop='keywords'>puerto,obras</div></div>"
    )
    article = f"<div class='body'><h1>Headline</h1>{html_paras(ps)}</div>{hidden}{hidden}"
    assert main_text(page(article)) == ps
    assert "Redacción" not in main_text(page(article), extract="all")
