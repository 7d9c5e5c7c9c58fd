import numpy as np

from knowledge.lexical import Bm25, tokens
from knowledge.normalise import normalise


def test_tokens_hold_words_and_character_ngrams() -> None:
    toks = tokens(normalise("退款多久到账 refund"))
    assert "c:退款" in toks and "c:到账" in toks
    assert "w:refund" in toks and "t:<re" in toks


def test_bm25_prefers_the_document_sharing_rare_terms() -> None:
    docs = [tokens(normalise(t)) for t in ("退款多久到账", "怎么开发票", "如何修改密码", "退货运费谁出")]
    bm25 = Bm25.fit(docs)
    scores = bm25.scores([tokens(normalise("发票怎么开"))])
    assert int(np.argmax(scores[0])) == 1
    assert 0.0 < scores[0, 1] <= 1.0


def test_bm25_scores_unknown_words_as_zero() -> None:
    bm25 = Bm25.fit([tokens("hello world"), tokens("good morning")])
    assert np.all(bm25.scores([tokens("zzz qqq")]) == 0)


def test_bm25_coverage_lowers_partial_matches() -> None:
    bm25 = Bm25.fit([tokens("card lost"), tokens("transfer fee")])
    full, partial = bm25.scores([tokens("card lost"), tokens("card lost bitcoin weather forecast")])[:, 0]
    assert full > partial > 0
