import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from knowledge.classifier import TOL, TextClassifier, UniformModel, VectorClassifier, first_gradient
from knowledge.lexical import tokens
from knowledge.normalise import normalise


def kb(entries: int) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Two wordings per entry, each entry with its own topic word."""
    texts = [
        normalise(f"{verb} topic{i} please") for i in range(entries) for verb in ("where is", "how about")
    ]
    return texts, [tokens(t) for t in texts], np.repeat(np.arange(entries), 2)


def features(clf: TextClassifier, texts: list[str], words: list[list[str]]) -> sparse.csr_matrix:
    return sparse.hstack([clf.chars.transform(texts), clf.words.transform(words)]).tocsr()


def sklearn_fit(x: sparse.spmatrix | np.ndarray, labels: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=300, tol=TOL).fit(x, labels)


@pytest.mark.parametrize(("entries", "moves"), [(4, True), (1000, False)])
def test_the_first_gradient_tells_whether_lbfgs_leaves_zero(entries: int, moves: bool) -> None:
    texts, words, labels = kb(entries)
    x = features(TextClassifier.fit(texts, words, labels, entries), texts, words)
    assert bool(first_gradient(x, labels) > TOL) is moves
    assert bool(sklearn_fit(x, labels, 20.0).n_iter_[0] > 0) is moves


def test_a_text_classifier_that_would_not_leave_zero_is_not_fitted_and_answers_the_same() -> None:
    texts, words, labels = kb(1000)
    clf = TextClassifier.fit(texts, words, labels, 1000)
    assert isinstance(clf.model, UniformModel)
    fitted = sklearn_fit(features(clf, texts, words), labels, 20.0)
    np.testing.assert_allclose(clf.proba(texts, words), fitted.predict_proba(features(clf, texts, words)))


def test_a_small_kb_still_gets_its_logistic_regression() -> None:
    texts, words, labels = kb(4)
    clf = TextClassifier.fit(texts, words, labels, 4)
    assert isinstance(clf.model, LogisticRegression)
    assert (clf.proba(texts, words).argmax(axis=1) == labels).all()


def test_a_vector_classifier_over_many_entries_is_uniform_as_lbfgs_would_leave_it() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(1000), 2)
    vectors = rng.standard_normal((len(labels), 64)).astype(np.float32)
    clf = VectorClassifier.fit([vectors], labels, 1000)
    assert isinstance(clf.model, UniformModel)
    fitted = sklearn_fit(clf._join([vectors]), labels, 10.0)
    assert fitted.n_iter_[0] == 0
    np.testing.assert_allclose(clf.proba([vectors]), fitted.predict_proba(clf._join([vectors])))
