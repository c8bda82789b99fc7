"""Make `unstructured` work fully offline and privately (call before any use; idempotent).

unstructured 0.27 sends a telemetry ping when imported and downloads the spaCy model
`en_core_web_sm` on first use of its text heuristics. We switch the telemetry off through its own
environment variables and swap its model loader for a local pipeline: `spacy.blank("en")` with a
rule-based sentencizer and a small verb tagger (see `tag_verbs` for why a tagger is needed).
"""

from __future__ import annotations

import os
import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

PRIVACY_ENV = {
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "SCARF_NO_ANALYTICS": "true",
    "DO_NOT_TRACK": "true",
}
VERB_TAGGER = "homerag_verb_tagger"

_lock = threading.Lock()
_patched = False


class ModelDownloadRefusedError(RuntimeError):
    """Raised if anything still reaches unstructured's spaCy model download path."""


def ensure_offline_unstructured() -> None:
    """Switch off unstructured's telemetry and model download; safe to call any number of times.

    Must run before `unstructured` is first imported for the telemetry switch to cover its
    import-time ping; parsers call it right before they import unstructured.
    """
    global _patched
    for key, value in PRIVACY_ENV.items():
        os.environ[key] = value  # forced: a private deployment never opts in
    if _patched:
        return
    with _lock:
        if _patched:
            return
        from unstructured.nlp import tokenize

        tokenize._load_spacy_model = load_local_pipeline
        tokenize._install_spacy_model = _refuse_download
        for cached in ("_get_nlp", "_process_cached", "word_tokenize", "pos_tag",
                       "_tokenize_for_cache"):
            getattr(tokenize, cached).cache_clear()
        _patched = True


def is_patched() -> bool:
    """True when unstructured's loader is ours (for health checks and tests)."""
    if not _patched:
        return False
    from unstructured.nlp import tokenize

    return tokenize._load_spacy_model is load_local_pipeline


def load_local_pipeline() -> Language:
    """A blank English pipeline: tokenizer, sentencizer and our verb tagger. No model files."""
    import spacy
    from spacy.language import Language

    if not Language.has_factory(VERB_TAGGER):
        Language.component(VERB_TAGGER)(tag_verbs)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(VERB_TAGGER)
    return nlp


def _refuse_download(*_args: Any, **_kwargs: Any) -> None:
    raise ModelDownloadRefusedError(
        "unstructured tried to download the spaCy model en_core_web_sm; homerag runs offline"
    )


# unstructured calls a text "narrative" only if it has two sentences or a verb, and the verb
# test reads Penn Treebank tags from the spaCy model. A blank pipeline tags nothing, so every
# one-sentence paragraph ("The tenant pays the rent.") would turn into a Title and break the
# heading structure. This tagger marks the verbs that decide those cases: auxiliaries and
# modals, common verbs, -ed/-ing forms, words after "to" and after a subject pronoun.
_AUX = frozenset(
    """is are was were be been being am has have had do does did will shall would should may
    might must can could isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't
    won't wouldn't shouldn't can't couldn't""".split()
)
_COMMON = frozenset(
    """pay pays agree agrees provide provides include includes receive receives make makes take
    takes give gives get gets go goes come comes see sees know knows use uses find finds tell
    tells ask asks work works seem seems feel feels try tries leave leaves call calls send sends
    sign signs terminate terminates apply applies keep keeps begin begins help helps show shows
    hear hears run runs hold holds bring brings write writes need needs remain remains become
    becomes mean means let lets put puts set sets say says contain contains require requires
    cover covers state states own owns grant grants owe owes charge charges cost costs notify
    notifies return returns renew renews end ends expire expires apply accept accepts"""
    .split()
)
_PRONOUNS = frozenset("i you he she it we they who which that".split())
_ED_ING = re.compile(r"^[a-z]{3,}(?:ed|ing)$")


def tag_verbs(doc: Doc) -> Doc:
    """Set Penn tags VB/VBD/VBG/VBZ on likely verbs of a blank pipeline's tokens."""
    previous = ""
    for token in doc:
        word = token.lower_
        tag = ""
        if word in _AUX or word in _COMMON:
            tag = "VBZ" if word.endswith("s") else "VB"
        elif _ED_ING.match(word) and token.text.islower():
            tag = "VBG" if word.endswith("ing") else "VBD"
        elif token.is_alpha and token.text.islower() and previous in ("to", *_PRONOUNS):
            tag = "VB" if previous == "to" else "VBP"
        if tag:
            token.tag_ = tag
        previous = word
    return doc
