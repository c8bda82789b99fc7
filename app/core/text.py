"""Text helpers shared by the lexical embedder and full-text retrieval."""

from __future__ import annotations

# Very common words carry no signal for retrieval (English and German).
STOPWORDS = frozenset(
    """a an and are as at be by did do does for from had has have how i if in into is it its
    me my of on or our so that the their them there these this to was we were what when where
    which who why will with you your der die das ein eine einer eines einem einen und oder ist
    sind war waren wie was wer wo wann warum mit von zu zum zur im in am an auf aus bei für fur
    ich du er sie es wir ihr mein meine nicht auch als den dem des""".split()
)
