"""The secrets corpus as a session fixture (see secrets_corpus.py)."""

from __future__ import annotations

import pytest

from secrets_corpus import Corpus, write_corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return write_corpus(tmp_path_factory.mktemp("secrets-corpus"))
