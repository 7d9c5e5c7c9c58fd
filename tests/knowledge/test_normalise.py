from knowledge.normalise import apply_synonyms, normalise, parse_synonyms


def test_full_width_case_and_punctuation() -> None:
    assert normalise("ＡＢＣ　Ｄｅｆ！！") == "abc def"


def test_traditional_to_simplified() -> None:
    assert normalise("請問發票怎麼開") == "请问发票怎么开"


def test_chat_spellings_from_the_shipped_table() -> None:
    assert normalise("咋用yhq？") == "怎么用优惠券"
    assert normalise("木有收到退款") == "没有收到退款"
    assert normalise("ZFB付款") == "支付宝付款"


def test_latin_variants_match_whole_words_only() -> None:
    rules = {"u": "you", "zfb": "支付宝"}
    assert apply_synonyms("can u help", rules) == "can you help"
    assert apply_synonyms("unusual", rules) == "unusual"
    assert apply_synonyms("用zfb付", rules) == "用支付宝付"


def test_parse_synonyms_skips_comments_and_blank_lines() -> None:
    rules = parse_synonyms("# comment\n\nFoo => bar\nbroken line\n")
    assert rules == {"foo": "bar"}


def test_custom_table_overrides_the_default() -> None:
    assert normalise("咋办", synonyms={}) == "咋办"
