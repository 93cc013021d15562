"""Run every example of every built-in rule file, and check the rule file loader."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.rules import (
    MAX_CHARS_CAP,
    RuleError,
    builtin_rule_files,
    builtin_rules,
    literal_openings,
    load_rule_file,
    load_rules,
    max_match_chars,
)
from cleanup.steps.artifacts import compile_rules
from cleanup.steps.artifacts.examples import check_examples, keep_problem, match_problem
from cleanup.steps.artifacts.gates import _MEMO_SIZE, RuleSet
from cleanup.steps.normalize import fold

RULES = builtin_rules()
RULE_SET = compile_rules(tuple(RULES))
MATCH_CASES = [
    pytest.param(rule, text, id=f"{rule.id}-match-{n}")
    for rule in RULES
    for n, text in enumerate(rule.examples_match)
]
KEEP_CASES = [
    pytest.param(rule, text, id=f"{rule.id}-keep-{n}")
    for rule in RULES
    for n, text in enumerate(rule.examples_keep)
]


def test_builtin_files_cover_english_and_other_languages() -> None:
    names = {p.stem for p in builtin_rule_files()}
    assert {"any", "en", "de", "fr", "es"} <= names


def test_every_rule_has_examples_both_ways() -> None:
    for rule in RULES:
        assert rule.examples_match, f"{rule.id} has no examples_match"
        assert rule.examples_keep, f"{rule.id} has no examples_keep"
        assert rule.description


def test_rule_ids_name_their_language_or_scope() -> None:
    for rule in RULES:
        assert rule.id.split("-")[0] in {"any", "en", "de", "fr", "es"}, rule.id
        assert Path(rule.source).stem == rule.id.split("-")[0], rule.id


@pytest.mark.parametrize(("rule", "text"), MATCH_CASES)
def test_rule_takes_its_examples(rule, text) -> None:
    """Regex, max_chars, max_words and the gates: the check `cleanup rules test` runs."""
    assert match_problem(rule, text, RULE_SET) is None


@pytest.mark.parametrize(("rule", "text"), KEEP_CASES)
def test_no_rule_at_all_takes_a_counter_example(rule, text) -> None:
    """A body sentence kept by one rule must not be caught by another rule either."""
    assert keep_problem(rule, text, RULE_SET) is None


def test_check_examples_of_the_builtins_finds_nothing() -> None:
    assert check_examples(RULES) == []


@pytest.mark.parametrize(("rule", "text"), MATCH_CASES)
def test_gates_let_every_example_through(rule, text) -> None:
    """The cheap gates (openings, requires) must never hide a match the regex finds."""
    assert rule in RULE_SET.matching(text)
    assert rule in RULE_SET.matching(f"  {text}")


ALL_EXAMPLES = sorted({t for r in RULES for t in (*r.examples_match, *r.examples_keep)})
NOISE = [
    "",
    " ",
    "\u00a0",
    "  ",
    "\u00ad",
    "\u200b",
    "’",
    "‘",
    "–",
    "\n",
    "ﬁ",
    "ß",
    "e\u0301",
    "(",
    "2",
]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(ALL_EXAMPLES),
    st.sampled_from(NOISE),
    st.integers(min_value=0, max_value=60),
    st.sampled_from(["", " ", "(", "“", "- ", "\u00a0", "Ab", "12 "]),
    st.booleans(),
)
def test_gates_never_hide_a_match(example, noise, where, lead, upper) -> None:
    """Whatever the spacing, marks or case, the gated matcher finds what the regexes find."""
    text = lead + example[:where] + noise + example[where:]
    text = text.upper() if upper else text
    folded = fold(text)
    expected = [r for r in RULES if r.matches(folded)]
    assert list(RULE_SET.matching(text)) == expected


def _openings() -> list[str]:
    """Return every fixed opening of every built-in rule (what the opening gate looks up)."""
    found = (literal_openings(rule.match) for rule in RULES)
    return sorted({opening for item in found if item for opening in item[0]})


_FULLWIDTH = {
    c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
}


def _respell(text: str, space: str, apostrophe: str, dash: str, form: str) -> str:
    """Return `text` spelled as scraped text may spell it: other spaces and marks, accents
    as combining characters (NFD), fullwidth letters, or soft hyphens between the letters
    after the first 48 characters (the head the opening gate reads)."""
    text = text.replace(" ", space).replace("'", apostrophe).replace("-", dash)
    if form == "fullwidth":
        return text.translate(str.maketrans(_FULLWIDTH))
    if form == "soft-hyphens":  # fold deletes them; a plain search for a word misses it
        return text[:48] + "\u00ad".join(text[48:])
    return unicodedata.normalize(form, text)


# Pieces of paragraphs that come near the gates' edges: rule openings, `requires` words,
# example prompts (each respelled at times) and characters that lowercase, fold or space
# differently.
_BASE_PIECES = st.one_of(
    st.sampled_from(_openings()),
    st.sampled_from(sorted({w for r in RULES for w in r.requires})),
    st.sampled_from(ALL_EXAMPLES),
)
GATE_PIECES = st.one_of(
    _BASE_PIECES,
    st.builds(
        _respell,
        _BASE_PIECES,
        st.sampled_from([" ", "  ", "\u00a0", "\t", "\n", " \u00ad", "\x01 "]),
        st.sampled_from(["'", "’", "‘", "\u02bc"]),
        st.sampled_from(["-", "–", "—", "\u2011"]),
        st.sampled_from(["NFC", "NFD", "fullwidth", "soft-hyphens"]),
    ),
    st.sampled_from(
        [
            "\u0130",  # Turkish dotted capital I: lowercases to two characters
            "\u0131",  # dotless i
            "ß",
            "\u1e9e",  # capital sharp s
            "’",
            "“",
            "”",
            "\u00a0",
            "\uff08c\uff09",  # fullwidth (c)
            "\ufb01",  # fi ligature
            "e\u0301",
            "\u03a3",  # capital sigma: final or not by context
            "\u212a",  # Kelvin sign: lowercases to ASCII k
        ]
    ),
    st.sampled_from(["the", "mayor", "said", "Tuesday", "2024", "(", ")", ":", ".", ",", "AP"]),
)
GATE_SEPARATORS = st.sampled_from([" ", "", "  ", "\u00a0", "\n", "\t", ", ", " / "])


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(["", " ", "(", "“", "- ", "\u00a0", "12 ", "\n", "\u00ad", "-" * 40]),
    st.lists(st.tuples(GATE_PIECES, GATE_SEPARATORS), min_size=1, max_size=4),
    st.sampled_from([str, str.upper, str.title, str.lower]),
)
def test_candidates_include_every_rule_that_matches(lead, pieces, case) -> None:
    """Brute force (every rule's fullmatch on the folded text) finds nothing the gates skip."""
    text = case(lead + "".join(piece + sep for piece, sep in pieces).rstrip(",/"))
    folded = fold(text)
    expected = {n for n, rule in enumerate(RULE_SET.rules) if rule.matches(folded)}
    assert expected <= set(RULE_SET.candidates(text)), (text, expected)
    assert RULE_SET.matches_of(text) == RULE_SET.matches_of(text) == tuple(sorted(expected))


def test_respelled_examples_keep_every_matching_rule_a_candidate() -> None:
    """Each example, respelled one way at a time (spaces, apostrophes, dashes, Unicode form,
    case), keeps every rule brute force finds among the gates' candidates."""
    variants = [
        *((sp, "'", "-", "NFC") for sp in ("  ", "\u00a0", "\t", "\n", " \u00ad", "\x01 ")),
        *((" ", ap, "-", "NFC") for ap in ("’", "‘", "\u02bc")),
        *((" ", "'", da, "NFC") for da in ("–", "—", "\u2011")),
        *((" ", "'", "-", form) for form in ("NFD", "fullwidth", "soft-hyphens")),
    ]
    missed = []
    for example in ALL_EXAMPLES:
        for variant in variants:
            for case in (str, str.upper):
                text = case(_respell(example, *variant))
                folded = fold(text)
                found = set(RULE_SET.candidates(text))
                missed += [
                    (text, r.id)
                    for n, r in enumerate(RULE_SET.rules)
                    if n not in found and r.matches(folded)
                ]
    assert missed == []


def test_matches_of_remembers_repeated_paragraphs_within_its_bound() -> None:
    """A repeated paragraph is answered from the memo, the same answer; the memo stays bounded."""
    rs = RuleSet.build(tuple(RULES))
    prompt = "Scroll down for video"
    first = rs.matches_of(prompt)
    assert [rs.rules[n].id for n in first] == ["en-video-prompt"]
    assert rs.memo[prompt] == first and rs.matches_of(prompt) == first
    for n in range(_MEMO_SIZE + 10):
        rs.matches_of(f"Paragraph {n} of the body.")
    assert 0 < len(rs.memo) <= _MEMO_SIZE
    assert rs.matches_of(prompt) == first


def test_every_builtin_rule_is_gated() -> None:
    """An ungated rule would make every paragraph take the slow path (fold, then regex)."""
    assert RULE_SET.always == ()


def test_openings_of_simple_patterns() -> None:
    assert literal_openings(r"story highlights|key points") == (
        ("key points", "story highlights"),
        False,
    )
    assert literal_openings(r"[(\[]?(?:this|that) (?:story|x)+a") == (
        ("that story", "that x", "this story", "this x"),
        False,
    )
    assert literal_openings(r"(?:\d+ )?comments?") == (("comment",), False)
    assert literal_openings(r"ad|ads|advert") == (("ad",), False)
    assert literal_openings(r"don't|e-mail|x--y") == (("don't", "e-mail", "x"), False)
    assert literal_openings(r"(?:[^.]{1,9}, )?click here") == (("click here",), True)
    assert literal_openings(r"[a-z]+ says") == ((), True)


def test_max_match_chars_bounds_and_caps() -> None:
    assert max_match_chars("ab(?:c|de)?") == 4
    assert max_match_chars("a.*") == MAX_CHARS_CAP


def _write(tmp_path: Path, text: str, name: str = "r.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_escapes_with_capitals_are_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[rule]]\nid = "x"\ndescription = "d"\nmatch = \'\\S+ \\W\\d\'\n')
    assert load_rule_file(path)[0].match == "\\S+ \\W\\d"


def test_user_rule_file_loads_and_replaces_a_builtin(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[[rule]]\nid = "en-advertisement"\ndescription = "ads"\nmatch = "promo"\n'
        '[[rule]]\nid = "my-footer"\ndescription = "footer"\nmatch = "the end"\n'
        'where = "last"\nwithin = 2\n',
    )
    rules = {r.id: r for r in load_rules([path])}
    assert rules["en-advertisement"].match == "promo"
    assert rules["my-footer"].where == "last" and rules["my-footer"].within == 2
    assert len(rules) == len(RULES) + 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rule]]\nid = "x"\nmatch = "a"\n', "'description'"),
        ('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "("\n', "bad regex"),
        ('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "a"\naction = "zap"\n', "'action'"),
        ('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "a"\nwhere = "middle"\n', "'where'"),
        ('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "a"\nwithin = 2\n', "needs 'where'"),
        ('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "a"\ncolour = 1\n', "unknown key"),
        ('[[rule]]\nid = "Bad Id"\ndescription = "d"\nmatch = "a"\n', "kebab-case"),
        ('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "Advert"\n', "lowercase"),
        ('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "straße"\n', "lowercase"),
        (
            '[[rule]]\nid = "x"\ndescription = "d"\nmatch = "a"\nrequires = ["two words"]\n',
            "requires",
        ),
        ('[[rule]]\nid = "x"\ndescription = "d"\nmatch = "a"\nrequires = ["Click"]\n', "requires"),
        ("[rule]\nid = 1\n", "array of tables"),
        ("[rules]\n", "unknown table"),
        ("not toml = [", "not valid TOML"),
    ],
)
def test_bad_rule_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(RuleError, match=message) as info:
        load_rule_file(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_rule_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read"):
        load_rule_file(tmp_path / "absent.toml")


def test_duplicate_id_in_user_files_is_an_error(tmp_path: Path) -> None:
    body = '[[rule]]\nid = "x"\ndescription = "d"\nmatch = "a"\n'
    a, b = _write(tmp_path, body, "a.toml"), _write(tmp_path, body, "b.toml")
    with pytest.raises(RuleError, match="defined twice"):
        load_rules([a, b])


def test_disabling_an_unknown_rule_is_an_error() -> None:
    with pytest.raises(RuleError, match="no rule with id en-nope"):
        load_rules(disabled=["en-nope"])
    assert len(load_rules(disabled=["en-nope"], known_ids=["en-nope"])) == len(RULES)


def test_disabled_rules_are_left_out() -> None:
    ids = {r.id for r in builtin_rules(disabled=["en-click-here"])}
    assert "en-click-here" not in ids
    assert len(ids) == len(RULES) - 1


# --- prompts and labels are matched as prompts ------------------------------------------------

# The labels that prompt and label rules open with, per language: video, audio and gallery
# prompts, photo labels and credits, teasers ("Read more", "Related"), "Click here", "Source",
# "Watch", "Listen", advertisement and sponsor markers.
LABELS = {
    "en": [
        "Watch", "WATCH", "Video", "Videos", "Photos", "Photo", "Pictures", "Gallery",
        "Slideshow", "In pictures", "Listen", "Read more", "READ MORE", "Read also", "See also",
        "Read next", "More", "More on this story", "Related", "Related articles", "Recommended",
        "Most read", "Trending now", "Don't miss", "Also read", "Further reading", "Click here",
        "Source", "Sources", "Credit", "Credits", "Image", "Images", "Photograph", "Picture",
        "Illustration", "Graphic", "Footage", "File photo", "Image copyright", "Image caption",
        "Photo credit", "Advertisement", "Sponsored", "Sponsored by", "Paid for by",
        "Promoted by", "Reuters", "AP Photo", "Getty Images", "Tap here",
    ],
    "de": [
        "Video", "Fotostrecke", "Bildergalerie", "Galerie", "Bilder", "Fotos", "Foto", "Bild",
        "Bildquelle", "Quelle", "Grafik", "Mehr zum Thema", "Lesen Sie auch", "Zum Thema",
        "Weiterlesen", "Mehr dazu", "Verwandte Artikel", "Lesetipp", "Anzeige", "Werbung",
        "Mitarbeit", "Klicken Sie hier", "Quellen",
    ],
    "fr": [
        "Vidéo", "Diaporama", "En images", "Portfolio", "Photos", "Photo", "Crédit photo",
        "Crédits", "Illustration", "Image", "Infographie", "Légende", "Lire aussi",
        "À lire aussi", "A lire", "Voir aussi", "Sur le même sujet", "En savoir plus",
        "Publicité", "Cliquez ici", "Source", "En partenariat avec",
    ],
    "es": [
        "Vídeo", "Video", "Galería", "Fotogalería", "En imágenes", "Fotos", "Foto",
        "Fotografía", "Imagen", "Crédito", "Ilustración", "Lee también", "Lea también",
        "Te puede interesar", "Noticias relacionadas", "Relacionado", "Más información",
        "Sigue leyendo", "Ver más", "Publicidad", "Haz clic aquí", "Pulsa aquí", "Fuente",
        "Fuentes", "En colaboración con",
    ],
}  # fmt: skip
# Ordinary words of running text: none is a rule's own word (no "cookies", "contributed").
WORDS = {
    lang: text.split()
    for lang, text in {
        "en": "the city was quiet on tuesday morning after storm mayor said nothing had been "
        "decided council members would meet again to discuss new plans for housing and "
        "schools weeks of debate residents told reporters they were tired waiting",
        "de": "die stadt war am dienstag nach dem sturm ruhig der bürgermeister sagte es sei "
        "noch nichts entschieden worden und rat will in der nächsten woche wieder über neue "
        "pläne für wohnungen schulen beraten",
        "fr": "la ville était calme mardi matin après la tempête le maire a dit que rien "
        "n'avait encore été décidé et conseil se réunira semaine prochaine pour discuter des "
        "nouveaux projets de logement écoles",
        "es": "la ciudad estaba tranquila el martes por mañana después de tormenta alcalde "
        "dijo que nada se había decidido todavía y consejo volverá a reunirse próxima semana "
        "para discutir nuevos planes vivienda escuelas",
    }.items()
}
SEPARATORS = [": ", " : ", " - ", " – ", " — ", ":", " | "]


@st.composite
def sentence_after_label(draw: st.DrawFn) -> str:
    """Draw a label, a separator, then 12-40 ordinary words of the label's language."""
    lang = draw(st.sampled_from(sorted(LABELS)))
    label = draw(st.sampled_from(LABELS[lang]))
    words = draw(st.lists(st.sampled_from(WORDS[lang]), min_size=12, max_size=40))
    end = draw(st.sampled_from([".", ".", "", "!"]))
    return label + draw(st.sampled_from(SEPARATORS)) + " ".join(words) + end


@settings(max_examples=600, deadline=None)
@given(sentence_after_label())
def test_sentences_that_open_with_a_label_survive_every_rule(text: str) -> None:
    """A prompt or label word, then a sentence of 12-40 words: no rule in any language takes it."""
    assert RULE_SET.matching(text) == (), text
    assert [r.id for r in RULES if r.matches(fold(text))] == []


@pytest.mark.parametrize(
    "text",
    [
        "Photos - the city was quiet on Tuesday morning after the storm",
        "Watch: the mayor said nothing had been decided",
        "Listen: the mayor said nothing had been decided",
        "Video: the mayor said nothing had been decided",
        "Photo: the mayor told reporters nothing had been decided",
    ],
)
def test_the_reported_sentences_are_kept_by_every_rule(text: str) -> None:
    assert RULE_SET.matching(text) == ()


def test_max_words_counts_each_named_part_or_the_whole_paragraph(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[[rule]]\nid = "x"\ndescription = "d"\nmax_words = 2\n'
        "match = 'label: (?P<a>[a-z ]+)|(?P<b>[a-z ]+) - end|fixed prompt here'\n"
        '[[rule]]\nid = "y"\ndescription = "d"\nmax_words = 2\nmatch = "[a-z ]+"\n',
    )
    x, y = load_rule_file(path)
    assert x.max_words == 2 and x.matches("label: two words")
    assert not x.matches("label: three words now")
    assert x.matches("two words - end") and not x.matches("one two three - end")
    assert x.matches("fixed prompt here")  # no free part: never limited
    assert y.matches("two words") and not y.matches("three words here")


@pytest.mark.parametrize("value", ["0", "-1", "true", '"5"', "1.5"])
def test_max_words_must_be_a_positive_integer(tmp_path: Path, value: str) -> None:
    path = _write(
        tmp_path, f'[[rule]]\nid = "x"\ndescription = "d"\nmatch = "a"\nmax_words = {value}\n'
    )
    with pytest.raises(RuleError, match="'max_words' must be a positive integer"):
        load_rule_file(path)


def test_check_examples_names_each_failing_example_and_why(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[[rule]]\nid = "my-promo"\ndescription = "d"\nmax_words = 2\n'
        "match = 'promo: (?P<what>.+)'\n"
        'examples_match = ["Promo: two words", "Promo: far too many words", "Other"]\n'
        'examples_keep = ["Promo: a b", "Scroll down for video", "A body sentence."]\n',
    )
    rules = load_rule_file(path)
    failures = check_examples(rules, load_rules([path]))
    got = [(f.rule, f.kind, f.example) for f in failures]
    assert got == [
        ("my-promo", "match", "Promo: far too many words"),
        ("my-promo", "match", "Other"),
        ("my-promo", "keep", "Promo: a b"),
        ("my-promo", "keep", "Scroll down for video"),
    ]
    assert "max_words 2" in failures[0].problem
    assert "regex does not match" in failures[1].problem
    assert failures[2].problem == "is removed by my-promo (its own rule)"
    assert failures[3].problem == "is removed by en-video-prompt"


def test_check_examples_reports_a_match_the_gates_skip(tmp_path: Path) -> None:
    """A regex without a fixed opening needs a `requires` word, or the step never tries it."""
    path = _write(
        tmp_path,
        '[[rule]]\nid = "x"\ndescription = "d"\nmatch = "[a-z]+ contributed"\n'
        'requires = ["zzz"]\nexamples_match = ["Bob contributed"]\n',
    )
    (failure,) = check_examples(load_rule_file(path))
    assert "gates skip it" in failure.problem
