"""Tests for odio.preprocess: RoBERTuito-style tweet normalisation."""

from __future__ import annotations

import json
import time

import pytest

from odio.text.preprocess import (
    MAX_NORMALISED_CHARS,
    PreprocessOptions,
    preprocess_many,
    preprocess_tweet,
    replace_surrogates,
)

# (id, input, expected) with default options.
DEFAULT_CASES = [
    # --- handles ---
    ("user_simple", "@danieljadue weón culiao", "@usuario weón culiao"),
    ("user_underscore", "@Dazai_tloml cachai que es fome", "@usuario cachai que es fome"),
    ("user_rt_colon", "RT @biobio: la wea po", "RT @usuario: la wea po"),
    ("user_dot_mention", ".@Cadem_cl maraca", ".@usuario maraca"),
    ("email_untouched", "escribeme a juan@gmail.com wn", "escribeme a juan@gmail.com wn"),
    ("email_with_dot", "juan.perez@uchile.cl po", "juan.perez@uchile.cl po"),
    # --- URLs ---
    ("url_tco", "mira esta wea https://t.co/813bPNQZqR", "mira esta wea url"),
    ("url_http", "lee http://www.emol.com/noticias/x.html weon", "lee url weon"),
    ("url_www", "www.emol.cl/noticias/Nacional/2023 puro flaite", "url puro flaite"),
    ("url_at_start", "https://t.co/abc123 este hueón es un pico", "url este hueón es un pico"),
    (
        "url_bare_cl_path",
        "biobiochile.cl/noticias/nacional/2023/01/02/x.shtml que wea",
        "url que wea",
    ),
    ("url_bare_com", "sale en latercera.com cachai", "sale en url cachai"),
    ("url_gob_cl", "revisa www.minsal.gob.cl y listo", "revisa url y listo"),
    ("url_bare_tco_no_scheme", "t.co/813bPNQZqR fome", "url fome"),
    ("url_glued_emoji", "ahi😡https://t.co/x", "ahi emoji cara cabreada emoji url"),
    ("url_glued_word", "miren estohttps://t.co/x", "miren esto url"),
    ("url_trailing_punct", "https://t.co/x, weon", "url, weon"),
    ("url_in_parens", "(https://t.co/abc) po", "(url) po"),
    ("url_fragment_not_hashtag", "https://latercera.com/x#comentarios wn", "url wn"),
    ("not_url_weak_tld", "que wea.es fome", "que wea.es fome"),
    # --- hashtags ---
    ("hashtag_camel", "#NoMasAbusos weon", "hashtag no mas abusos weon"),
    ("hashtag_digits", "#Los80 eran mejores po", "hashtag los 80 eran mejores po"),
    ("hashtag_allcaps", "#ENCONTRADO el perro", "hashtag encontrado el perro"),
    ("hashtag_accent", "#AlertaMePerdí ayuda", "hashtag alerta me perdí ayuda"),
    ("hashtag_lower", "#chile culiao", "hashtag chile culiao"),
    ("hashtag_underscore", "#plebiscito_2022 fome", "hashtag plebiscito 2022 fome"),
    ("hashtag_acronym", "#VamosLaUDeChile", "hashtag vamos la u de chile"),
    ("hashtag_glued", "#Chile#Despertó", "hashtag chile hashtag despertó"),
    ("hashtag_numeric_only", "el #1 de la lista", "el #1 de la lista"),
    ("html_entity_not_hashtag", "no &#39;weon&#39;", "no &#39;weon&#39;"),
    # --- emoji ---
    ("emoji_simple", "weón 😂", "weón emoji cara llorando de risa emoji"),
    (
        "emoji_skin_tone",
        "ojalá gane 🤞🏼",
        "ojalá gane emoji dedos cruzados tono de piel claro medio emoji",
    ),
    ("emoji_variation_selector", "te quiero ❤️ po", "te quiero emoji corazón rojo emoji po"),
    ("emoji_lone_skin_tone", "que fome 🏽", "que fome"),
    ("emoji_flag", "vamos 🇨🇱", "vamos emoji bandera chile emoji"),
    ("time_colons_kept", "Hora: 10:30, no lleguen tarde :)", "Hora: 10:30, no lleguen tarde :)"),
    ("colon_word_kept", "ojo :cara_feliz: no es emoji", "ojo :cara_feliz: no es emoji"),
    # --- laughter ---
    ("laugh_jajaja", "jajaja que weon", "jaja que weon"),
    ("laugh_upper", "JAJAJA la wea fome", "jaja la wea fome"),
    ("laugh_jajaj", "jajaj maraca", "jaja maraca"),
    ("laugh_jsjsjs", "jsjsjs cachai", "jaja cachai"),
    ("laugh_jsjs", "jsjs po", "jaja po"),
    ("laugh_jajjajaja", "jajjajaja flaite", "jaja flaite"),
    ("laugh_long_messy", "jajajajjajajajja culiao", "jaja culiao"),
    ("laugh_jaja_kept", "jaja ya", "jaja ya"),
    ("laugh_ajajaja", "ajajaja hueón", "jaja hueón"),
    ("laugh_with_punct", "JAJAJAJ!!!", "jaja!!!"),
    ("laugh_stretched", "jajajaaaaaa", "jaja"),
    ("laugh_jeje_kept", "jejeje no po", "jejeje no po"),
    ("laugh_jiji_kept", "jiji", "jiji"),
    (
        "non_laugh_words",
        "Jaime jamás baja, viaja con la caja, paja navaja ojalá",
        "Jaime jamás baja, viaja con la caja, paja navaja ojalá",
    ),
    # --- repetition ---
    ("repeat_letters", "holaaaaa weoooon", "holaaa weooon"),
    ("repeat_exclamation", "cállate culiá!!!!!!", "cállate culiá!!!"),
    ("repeat_siii", "siiiiiii po", "siii po"),
    ("repeat_three_kept", "noooo, nooo", "nooo, nooo"),
    ("repeat_emoji", "😂😂😂😂😂", " ".join(["emoji cara llorando de risa emoji"] * 3)),
    # --- newlines ---
    ("newline_single", "que wea\nfome", "que wea. fome"),
    ("newline_multiple", "weon\n\n\nresponde", "weon. responde"),
    ("newline_crlf", "ya po\r\ncachai", "ya po. cachai"),
    ("newline_after_punct", "cállate!\n\nflaite", "cállate! flaite"),
    ("newline_edges", "\n\nhola wn\n", "hola wn"),
    # --- whitespace / trivial ---
    ("whitespace", "  la   wea \t fome  ", "la wea fome"),
    ("empty", "", ""),
    ("only_spaces", "   ", ""),
    ("nothing_to_do", "que lata la micro hoy", "que lata la micro hoy"),
    # --- combined ---
    (
        "combined",
        "@pepe JAJAJAJA el #FueraPiñera es pico 😡😡\nhttps://t.co/x",
        "@usuario jaja el hashtag fuera piñera es pico emoji cara cabreada emoji "
        "emoji cara cabreada emoji. url",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(t, e, id=i) for i, t, e in DEFAULT_CASES],
)
def test_preprocess_default(text: str, expected: str) -> None:
    assert preprocess_tweet(text) == expected


# (id, options, input, expected): each step switched off leaves its pattern alone.
OPTION_CASES = [
    ("user_off", {"user": False}, "@danieljadue weon", "@danieljadue weon"),
    (
        "url_off",
        {"url": False},
        "mira https://t.co/813bPNQZqR wn",
        "mira https://t.co/813bPNQZqR wn",
    ),
    ("url_off_fragment", {"url": False}, "https://x.cl/#seccion", "https://x.cl/#seccion"),
    ("hashtag_off", {"hashtag": False}, "#NoMasAbusos po", "#NoMasAbusos po"),
    ("emoji_off", {"emoji": False}, "weon 😂", "weon 😂"),
    ("laughter_off", {"laughter": False}, "jajajaja culiao", "jajajaja culiao"),
    ("repetition_off", {"repetition": False}, "holaaaaa!!!!!", "holaaaaa!!!!!"),
    ("newlines_off", {"newlines": False}, "que wea\n\nfome", "que wea fome"),
    (
        "lowercase_on",
        {"lowercase": True},
        "JAJA Weón CULIAO #Chile",
        "jaja weón culiao hashtag chile",
    ),
    (
        "all_off",
        {k: False for k in PreprocessOptions().to_dict()},
        "@pepe   #Chile jajaja\n😂",
        "@pepe #Chile jajaja 😂",
    ),
]


@pytest.mark.parametrize(
    ("opts", "text", "expected"),
    [pytest.param(o, t, e, id=i) for i, o, t, e in OPTION_CASES],
)
def test_preprocess_options(opts: dict[str, bool], text: str, expected: str) -> None:
    assert preprocess_tweet(text, PreprocessOptions.from_dict(opts)) == expected


IDEMPOTENCE_INPUTS = [
    "@danieljadue JAJAJAJA #NoMasAbusos https://t.co/813bPNQZqR 😂😂😂😂",
    "weoooooon\n\n\ncachai!!!!! juan@gmail.com",
    "ahi😡https://t.co/x #Los80 🤞🏼 jsjsjs",
    "#QueWeaJAJAJA maraca culiá.\nHora: 10:30",
    "🇨🇱 #1 .@Cadem_cl biobiochile.cl/noticias fome",
    "",
    "😀😂🤬 " * 1000,  # over MAX_NORMALISED_CHARS once the emoji are named
    "ab" * MAX_NORMALISED_CHARS,  # one word over the cap
    "hola \ud800 que \udfff tal",
]


@pytest.mark.parametrize("text", IDEMPOTENCE_INPUTS, ids=lambda t: t[:20] or "empty")
@pytest.mark.parametrize("lowercase", [False, True], ids=["cased", "lower"])
def test_idempotent(text: str, lowercase: bool) -> None:
    opts = PreprocessOptions(lowercase=lowercase)
    once = preprocess_tweet(text, opts)
    assert preprocess_tweet(once, opts) == once


def test_output_has_no_emoji_junk() -> None:
    out = preprocess_tweet("🤞🏼🤞🏼 👍🏽 ❤️ 👩🏽‍❤️‍👨🏿 x\u200dy")
    assert ":" not in out
    assert not any(ch in out for ch in "\ufe0f\ufe0e\u200d")
    assert not any(0x1F3FB <= ord(ch) <= 0x1F3FF for ch in out)


@pytest.mark.parametrize(
    "bad", [None, float("nan"), 3, b"weon"], ids=["none", "nan", "int", "bytes"]
)
def test_non_string_raises_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="expects a str"):
        preprocess_tweet(bad)  # type: ignore[arg-type]


def test_nan_error_mentions_missing_value() -> None:
    with pytest.raises(TypeError, match="NaN"):
        preprocess_tweet(float("nan"))  # type: ignore[arg-type]


def test_preprocess_many() -> None:
    texts = ["jajaja wn", "@pepe fome", ""]
    assert preprocess_many(texts) == ["jaja wn", "@usuario fome", ""]
    assert preprocess_many(iter(texts), PreprocessOptions(user=False)) == [
        "jaja wn",
        "@pepe fome",
        "",
    ]


def test_preprocess_many_rejects_single_string() -> None:
    with pytest.raises(TypeError):
        preprocess_many("hola weon")


def test_preprocess_many_rejects_none_element() -> None:
    with pytest.raises(TypeError):
        preprocess_many(["hola", None])  # type: ignore[list-item]


def test_options_defaults() -> None:
    opts = PreprocessOptions()
    assert opts.to_dict() == {
        "user": True,
        "url": True,
        "hashtag": True,
        "emoji": True,
        "laughter": True,
        "repetition": True,
        "newlines": True,
        "lowercase": False,
        "deobfuscate": False,
    }


def test_options_round_trip_through_json() -> None:
    opts = PreprocessOptions(url=False, emoji=False, lowercase=True)
    restored = PreprocessOptions.from_dict(json.loads(json.dumps(opts.to_dict())))
    assert restored == opts


def test_options_from_none_and_partial() -> None:
    assert PreprocessOptions.from_dict(None) == PreprocessOptions()
    assert PreprocessOptions.from_dict({}) == PreprocessOptions()
    assert PreprocessOptions.from_dict({"laughter": False}) == PreprocessOptions(laughter=False)


def test_options_unknown_key() -> None:
    with pytest.raises(ValueError, match="emojis"):
        PreprocessOptions.from_dict({"emojis": False})


def test_options_non_bool_value() -> None:
    with pytest.raises(ValueError, match="url"):
        PreprocessOptions.from_dict({"url": "false"})


def test_options_frozen() -> None:
    opts = PreprocessOptions()
    with pytest.raises(ValueError, match="frozen"):
        opts.url = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("te o d i o maricon", "te odio maricon"),
        ("p.u.t.a madre", "puta madre"),
        ("m*a*r*i*c*o*n de m13rd4", "maricon de mierda"),
        ("los v e n e c o s  fuera", "los venecos fuera"),
        ("t3 0di0 m4ric0n culi40", "te odio maricon culiao"),
        ("h0l4 w3on j4j4", "hola weon jaja"),
        # not obfuscation: numbers, ordinals, slang, handles, short words
        (
            "covid19 2x1 100pre 1ero año 2021 4 personas",
            "covid19 2x1 100pre 1ero año 2021 4 personas",
        ),
        ("@danieljadue o sea y a la", "@usuario o sea y a la"),
    ],
)
def test_deobfuscation_undoes_spacing_and_leetspeak(text: str, expected: str) -> None:
    options = PreprocessOptions(deobfuscate=True)
    assert preprocess_tweet(text, options) == expected
    assert preprocess_tweet(expected, options) == expected  # idempotent
    assert preprocess_tweet("t3 0di0", PreprocessOptions()) == "t3 0di0"  # off by default


# Each shape once took time quadratic in its length (the URL one: 20 s for 200 KB).
LONG_INPUTS = {
    "url_closing_parens": "mira http://x.cl/" + ")" * 200_000,
    "url_mixed_tail": "http://x.cl/(" + ".)" * 100_000,
    "url_dots": "http://x.cl/a" + "." * 200_000,
    "hashtag": "#" + "aB1" * 70_000,
    "laughter": "ja" * 100_000 + "b",
    "labels": "a." * 100_000,
    "emoji": "😀😂" * 50_000,
}


@pytest.mark.parametrize("name", LONG_INPUTS)
def test_long_texts_take_linear_time(name: str) -> None:
    start = time.perf_counter()
    out = preprocess_tweet(LONG_INPUTS[name])
    assert time.perf_counter() - start < 5.0  # quadratic took 20 s for the URL; ~0.1-0.5 s now
    assert len(out) <= MAX_NORMALISED_CHARS


def test_url_trailing_brackets_are_unchanged_by_the_linear_loop() -> None:
    assert preprocess_tweet("(ver http://x.cl/a(b)) y [http://y.cl/c]].") == "(ver url) y [url]]."
    assert preprocess_tweet("http://x.cl/)),.") == "url)),."


def test_lone_surrogates_become_the_replacement_character() -> None:
    out = preprocess_tweet("te odio \ud800 weon \udc00😂")
    assert out == "te odio \ufffd weon \ufffd emoji cara llorando de risa emoji"
    out.encode("utf-8")  # encodable: a tokenizer and a JSON response accept it
    assert replace_surrogates("sin nada raro") == "sin nada raro"


def test_normalised_texts_are_capped_at_a_word_boundary() -> None:
    out = preprocess_tweet("😀 " * 5000)  # 10,000 characters, ~ 120,000 once named
    assert len(out) <= MAX_NORMALISED_CHARS
    assert out.startswith("emoji cara sonriendo emoji") and out.split()[-1] in {
        "emoji",
        "cara",
        "sonriendo",
    }
    word = "xy" * MAX_NORMALISED_CHARS  # one word over the cap: cut inside it
    assert preprocess_tweet(word) == word[:MAX_NORMALISED_CHARS]
    short = "hola " * 1000
    assert preprocess_tweet(short) == short.strip()  # under the cap: untouched


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hola \t \t\n \tchao", "hola. chao"),
        ("hola \t \t chao\nya", "hola chao. ya"),  # a run with no line break is one space
        ("hola. \t\n\r\n \u2028 chao", "hola. chao"),
        ("\t \n hola \n\t", "hola"),
        ("hola\u2029chao", "hola. chao"),
    ],
)
def test_a_whitespace_run_with_line_breaks_is_one_sentence_break(text: str, expected: str) -> None:
    assert preprocess_tweet(text) == expected


def test_the_emoji_prefilter_matches_exactly_the_first_characters_of_emoji():
    import emoji

    from odio.text.steps import _emoji_tables

    prefilter = _emoji_tables()
    first = {key[0] for key in emoji.EMOJI_DATA}
    near = {chr(c) for f in first for c in (ord(f) - 1, ord(f) + 1)} - first
    assert all(prefilter.fullmatch(ch) for ch in first)
    assert not any(prefilter.fullmatch(ch) for ch in near if not 0xD800 <= ord(ch) <= 0xDFFF)
