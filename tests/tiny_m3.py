"""A tiny BGE-M3-shaped model for tests: random XLM-RoBERTa weights, a locally trained tokenizer.

`build_tiny_m3(directory)` writes what FlagEmbedding's `BGEM3FlagModel` loads from a local path:
config.json + model.safetensors (XLMRobertaModel), an `XLMRobertaTokenizerFast` (Unigram, trained
here on a synthetic English + German corpus, XLM-R special tokens), and the two BGE-M3 heads
`colbert_linear.pt` (Linear h->h) and `sparse_linear.pt` (Linear h->1). FlagEmbedding silently
initialises missing heads at random, so they are written here with recognisable values
(`SPARSE_BIAS`) that tests check. Everything is seeded: the same directory content every time.
"""

from __future__ import annotations

import random
from pathlib import Path

HIDDEN = 48
LAYERS = 2
HEADS = 4
MAX_POSITIONS = 8194  # like BGE-M3: 8192 tokens + the two XLM-R padding offsets
VOCAB_TARGET = 3000
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
# Large initial weights make the CLS vector depend strongly on the text (with the usual 0.02,
# every text embeds to nearly the same vector and agreement tests would prove nothing).
INIT_RANGE = 0.6
# Share of tokens that get a positive lexical weight (the pruning test needs > 1,000 of them).
SPARSE_POSITIVE = 0.75

_EN = [
    "account",
    "balance",
    "bank",
    "statement",
    "transfer",
    "payment",
    "invoice",
    "amount",
    "due",
    "date",
    "contract",
    "insurance",
    "policy",
    "premium",
    "renewal",
    "notice",
    "period",
    "termination",
    "landlord",
    "tenant",
    "rent",
    "deposit",
    "electricity",
    "gas",
    "water",
    "bill",
    "meter",
    "reading",
    "tax",
    "return",
    "refund",
    "salary",
    "employer",
    "pension",
    "health",
    "doctor",
    "appointment",
    "school",
    "letter",
    "holiday",
    "flight",
    "booking",
    "hotel",
    "receipt",
    "warranty",
    "repair",
    "car",
    "loan",
    "mortgage",
    "interest",
    "rate",
    "credit",
    "card",
    "fee",
    "subscription",
    "internet",
    "phone",
    "mobile",
    "broadband",
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "on",
    "with",
    "from",
    "by",
    "at",
    "this",
    "that",
    "your",
    "our",
    "please",
    "regards",
    "dear",
    "sincerely",
    "monthly",
    "annual",
    "quarterly",
    "customer",
    "number",
    "reference",
    "signature",
    "address",
    "street",
    "city",
    "postal",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_DE = [
    "konto",
    "kontostand",
    "kontoauszug",
    "überweisung",
    "zahlung",
    "rechnung",
    "betrag",
    "fälligkeit",
    "vertrag",
    "versicherung",
    "police",
    "beitrag",
    "verlängerung",
    "kündigungsfrist",
    "kündigung",
    "vermieter",
    "mieter",
    "miete",
    "kaution",
    "strom",
    "gas",
    "wasser",
    "abrechnung",
    "zählerstand",
    "steuererklärung",
    "erstattung",
    "gehalt",
    "arbeitgeber",
    "rente",
    "krankenkasse",
    "arzt",
    "termin",
    "schule",
    "brief",
    "urlaub",
    "flug",
    "buchung",
    "hotel",
    "quittung",
    "garantie",
    "reparatur",
    "auto",
    "kredit",
    "hypothek",
    "zinssatz",
    "kreditkarte",
    "gebühr",
    "abonnement",
    "internet",
    "telefon",
    "der",
    "die",
    "das",
    "und",
    "zu",
    "im",
    "für",
    "mit",
    "von",
    "bei",
    "dieser",
    "ihre",
    "unsere",
    "bitte",
    "grüße",
    "sehr",
    "geehrte",
    "freundlichen",
    "monatlich",
    "jährlich",
    "vierteljährlich",
    "kundennummer",
    "zeichen",
    "anschrift",
    "straße",
    "stadt",
    "postleitzahl",
    "januar",
    "februar",
    "märz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
]


def synthetic_corpus(n_sentences: int = 2500, seed: int = 7) -> list[str]:
    """Seeded English + German household sentences with numbers, dates and amounts."""
    rng = random.Random(seed)
    out = []
    for i in range(n_sentences):
        words = _EN if i % 2 else _DE
        n = rng.randint(6, 18)
        parts = [rng.choice(words) for _ in range(n)]
        parts.insert(rng.randrange(n), f"{rng.randint(1, 9999)},{rng.randint(0, 99):02d} €")
        parts.insert(
            rng.randrange(n),
            f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.20{rng.randint(10, 29)}",
        )
        sentence = " ".join(parts)
        out.append(sentence[0].upper() + sentence[1:] + rng.choice([".", "!", "?", ";", ":"]))
    return out


def _train_tokenizer(directory: Path) -> int:
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import XLMRobertaTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=VOCAB_TARGET,
        special_tokens=SPECIAL_TOKENS,
        unk_token="<unk>",
        max_piece_length=12,
        show_progress=False,
    )
    tok.train_from_iterator(synthetic_corpus(), trainer=trainer)
    ids = {t: tok.token_to_id(t) for t in SPECIAL_TOKENS}
    assert [ids[t] for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4], ids
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    fast = XLMRobertaTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=MAX_POSITIONS - 2,
    )
    fast.save_pretrained(str(directory))
    return len(fast)


def _tiny_config(vocab_size: int, **extra):
    """XLM-RoBERTa's shape (BGE-M3's backbone) at toy size, without dropout."""
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=vocab_size,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=HIDDEN * 4,
        max_position_embeddings=MAX_POSITIONS,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        initializer_range=INIT_RANGE,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        **extra,
    )


def build_tiny_m3(directory: Path | str) -> Path:
    """Write the tiny model into `directory` (created) and return it. Takes about a second."""
    import torch
    from transformers import XLMRobertaModel

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab_size = _train_tokenizer(directory)

    torch.manual_seed(1234)
    config = _tiny_config(vocab_size, layer_norm_eps=1e-5)
    model = XLMRobertaModel(config).eval()
    model.save_pretrained(str(directory), safe_serialization=True)

    colbert, sparse = _heads(model, directory)
    torch.save(colbert.state_dict(), directory / "colbert_linear.pt")
    torch.save(sparse.state_dict(), directory / "sparse_linear.pt")
    return directory


def _heads(model, directory: Path):
    """ColBERT and sparse heads that act on the centred hidden states.

    Random-weight encoders put every token's output near one common direction; heads that
    subtract it give varied token vectors and lexical weights of both signs, as trained ones do.
    """
    import torch
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(directory))
    enc = tok(synthetic_corpus(120, seed=3), padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model(**enc).last_hidden_state[enc["attention_mask"].bool()]
        mean = states.mean(0)
        colbert = torch.nn.Linear(HIDDEN, HIDDEN)
        colbert.bias.copy_(-(colbert.weight @ mean))
        sparse = torch.nn.Linear(HIDDEN, 1)
        w = torch.randn(HIDDEN) / HIDDEN**0.5
        proj = (states - mean) @ w
        sparse.weight.copy_(w[None, :])
        sparse.bias.fill_(float(-(w @ mean) - torch.quantile(proj, 1 - SPARSE_POSITIVE)))
    return colbert, sparse


def build_tiny_reranker(directory: Path | str) -> Path:
    """A tiny cross-encoder shaped like bge-reranker-v2-m3 (XLM-R, one relevance logit)."""
    import torch
    from transformers import XLMRobertaForSequenceClassification

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab_size = _train_tokenizer(directory)
    torch.manual_seed(4321)
    config = _tiny_config(vocab_size, num_labels=1)
    XLMRobertaForSequenceClassification(config).eval().save_pretrained(
        str(directory), safe_serialization=True
    )
    return directory
