"""OCR through Debian's Tesseract (subprocess; `tesseract-ocr` with eng + deu), the `PageOcr` seam.

Used for PDF pages without a text layer and for photos/scans (JPEG/PNG/TIFF). One process per
page, image piped in as PNG, text read from stdout; OpenMP is held to one thread per process
because the household server also serves queries. Nothing runs at import or construction time:
the binary and its languages are probed on first use.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from app.core.errors import ErrorCode, IngestError
from app.core.text import STOPWORDS

if TYPE_CHECKING:
    from PIL.Image import Image

DEFAULT_LANGUAGES = ("deu", "eng")
# Phone photos are 12+ megapixels; beyond this the page is slower to read, not better.
MAX_SIDE = 4200
# Smaller than this holds no line of text (logos, icons, tracking pixels).
MIN_SIDE = 48


class OcrError(IngestError):
    """OCR could not run (engine missing, crashed or too slow)."""

    code = ErrorCode.unreadable


class TesseractOcr:
    """`PageOcr` over the `tesseract` command line (see module docstring)."""

    name = "tesseract"

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES, *,
                 binary: str = "tesseract", timeout_s: float = 180.0, psm: int = 3,
                 threads: int = 1) -> None:
        self.languages = tuple(languages)
        self.binary = binary
        self.timeout_s = timeout_s
        self.psm = psm
        self.threads = threads
        self._usable: tuple[str, ...] | None = None
        self._lock = threading.Lock()

    def usable_languages(self) -> tuple[str, ...]:
        """The configured languages that are installed (probed once). Raises OcrError."""
        with self._lock:
            if self._usable is None:
                self._usable = self._probe()
            return self._usable

    def _probe(self) -> tuple[str, ...]:
        path = shutil.which(self.binary)
        if path is None:
            error = OcrError(f"OCR engine {self.binary!r} is not installed "
                             "(Debian: apt install tesseract-ocr tesseract-ocr-deu)")
            error.transient = True  # retried once the owner installs it
            raise error
        try:
            out = subprocess.run([path, "--list-langs"], capture_output=True, text=True,
                                 timeout=30, check=False, env=self._env())
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OcrError(f"OCR engine {self.binary!r} does not start ({exc})") from exc
        installed = {line.strip() for line in (out.stdout + out.stderr).splitlines()}
        usable = tuple(lang for lang in self.languages if lang in installed)
        if not usable:
            raise OcrError(f"none of the OCR languages {'+'.join(self.languages)} is installed "
                           f"for {self.binary} (Debian: tesseract-ocr-deu, tesseract-ocr-eng)")
        return usable

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["OMP_THREAD_LIMIT"] = str(self.threads)
        return env

    def ocr_page(self, image: Image) -> str:
        """Text of one page image ("" when nothing legible). Raises OcrError on engine failure."""
        return self.read_page(image).text

    def read_page(self, image: Image) -> OcrPage:
        """`ocr_page` with Tesseract's mean word confidence (0-100) of the reading kept."""
        languages = self.usable_languages()
        prepared = prepare_image(image)
        if prepared is None:
            return OcrPage("", None)
        args = ["-l", "+".join(languages), "--psm", str(self.psm)]
        text, confidence = self._read(prepared, args)
        if confidence < LOW_CONFIDENCE and len(text.split()) >= 3:
            # A scan fed in sideways or upside down reads as confident-looking noise: ask
            # Tesseract's orientation detection, turn the page, keep the better reading.
            rotate = self._orientation(prepared)
            if rotate:
                second, second_conf = self._read(prepared.rotate(-rotate, expand=True), args)
                if second_conf > confidence:
                    text, confidence = second, second_conf
        return OcrPage(text, confidence if text else None)

    def _read(self, image: Image, args: list[str]) -> tuple[str, float]:
        """Text rebuilt from Tesseract's TSV output, and the mean word confidence (0-100)."""
        return text_from_tsv(self._run(image, [*args, "tsv"]))

    def _orientation(self, image: Image) -> int:
        """Clockwise degrees (0/90/180/270) that make the page upright; 0 when unsure."""
        try:
            osd = self._run(image, ["--psm", "0"])
        except OcrError:
            return 0  # too little text to tell: keep the first reading
        values = dict(line.split(":", 1) for line in osd.splitlines() if ":" in line)
        try:
            rotate = int(values.get("Rotate", "0").strip())
            confidence = float(values.get("Orientation confidence", "0").strip())
        except ValueError:
            return 0
        return rotate if rotate in (90, 180, 270) and confidence >= 1.0 else 0

    def _run(self, image: Image, args: list[str]) -> str:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        cmd = [self.binary, "stdin", "stdout", "--dpi", "300", *args]
        try:
            out = subprocess.run(cmd, input=buf.getvalue(), capture_output=True,
                                 timeout=self.timeout_s, check=False, env=self._env())
        except subprocess.TimeoutExpired as exc:
            raise OcrError(f"OCR gave up on a page after {self.timeout_s:.0f} s") from exc
        except OSError as exc:
            raise OcrError(f"OCR engine {self.binary!r} failed to start ({exc})") from exc
        if out.returncode != 0:
            reason = out.stderr.decode("utf-8", errors="replace").strip().splitlines()
            raise OcrError(f"OCR failed ({reason[-1] if reason else f'exit {out.returncode}'})")
        return out.stdout.decode("utf-8", errors="replace")


LOW_CONFIDENCE = 60.0


# -- reading quality -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OcrPage:
    """One page's OCR text and the engine's mean word confidence (0-100; None: not reported)."""

    text: str
    confidence: float | None = None


def read_scored(ocr: Any, image: Image) -> OcrPage:
    """An engine's reading with its confidence when it reports one (`read_page`), else the
    text alone (engines that only have the `PageOcr.ocr_page` method)."""
    if isinstance(ocr, ScoredOcr):
        return ocr.read_page(image)
    return OcrPage(ocr.ocr_page(image), None)


@runtime_checkable
class ScoredOcr(Protocol):
    """An OCR engine that reports its confidence with the text (Tesseract does)."""

    def read_page(self, image: Image) -> OcrPage: ...


_TOKEN = re.compile(r"\S+")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_VOWELS = frozenset("aeiouyäöüàáâéèêëíìîïóòôúùûæøå")
_NUMBER = re.compile(r"^[+-]?[\d.,:/%'€$£-]*\d[\d.,:/%'€$£-]*$")
# Short words are where noise looks like language ("brn", "uae", "Pr"): up to three letters,
# only common words and the abbreviations of receipts and letters count.
_SHORT = frozenset("""eur usd gbp chf nr no str tel fax ust mwst vat qty pcs stk gmbh ag kg ltd inc
    co mr mrs ms dr herr frau per pro bis vom zur zum den dem des der die das ein eur sum off net
    tax due day tag jan feb mar apr mai may jun jul aug sep okt oct nov dez dec all new neu not
    nur one two six ten bei aus auf für hat sie wir ihr ich""".split())


def wordlike_share(text: str) -> float | None:
    """Share of the tokens that look like words of a language or like numbers, dates and
    amounts (None when there are none): lower, Capitalised or UPPER letters with a vowel,
    two to 24 long. Screenshot and photo noise ("|", "x dr- @h\\=h@z%", "1zIy>}") is not."""
    good = total = 0
    for raw in _TOKEN.findall(text):
        token = _EDGE.sub("", raw)
        if not token:
            continue  # pure punctuation: neither word nor noise
        total += 1
        if _NUMBER.match(token):
            good += 1
            continue
        word = token.replace("-", "")
        if not word.isalpha() or not 2 <= len(word) <= 24 or raw.count("-") > 1:
            continue
        if not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())):
            continue
        lower = word.lower()
        if len(word) <= 3:
            good += lower in _SHORT or lower in STOPWORDS
        elif _VOWELS.intersection(lower):
            good += 1
    return good / total if total else None


def ocr_quality(text: str, confidence: float | None) -> float:
    """How trustworthy an OCR reading is, 0..1: the mean of the engine's word confidence and
    the share of word-like tokens (the share alone when the engine reports no confidence)."""
    share = wordlike_share(text)
    if share is None:
        return 0.0
    if confidence is None:
        return round(share, 3)
    return round(0.5 * max(0.0, min(100.0, confidence)) / 100 + 0.5 * share, 3)


def text_from_tsv(tsv: str) -> tuple[str, float]:
    """Lines and paragraphs from Tesseract TSV rows (level 5 = word); mean word confidence."""
    lines: list[tuple[tuple[str, str], list[str]]] = []
    confidences: list[float] = []
    last_line: tuple[str, str, str] | None = None
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        block, par, line = cols[2], cols[3], cols[4]
        try:
            conf = float(cols[10])
        except ValueError:
            conf = -1.0
        if conf >= 0:
            confidences.append(conf)
        if (block, par, line) != last_line:
            lines.append(((block, par), []))
            last_line = (block, par, line)
        lines[-1][1].append(cols[11].strip())
    out: list[str] = []
    previous: tuple[str, str] | None = None
    for para, words in lines:
        if previous is not None and para != previous:
            out.append("")
        out.append(" ".join(words))
        previous = para
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return tidy_ocr_text("\n".join(out)), mean


def prepare_image(image: Image) -> Image | None:
    """Upright, grey, at most MAX_SIDE pixels; None when too small to hold text."""
    from PIL import ImageOps

    with contextlib.suppress(ValueError, OSError, TypeError):
        image = ImageOps.exif_transpose(image) or image  # phone photos carry their rotation
    if min(image.size) < MIN_SIDE:
        return None
    if image.mode not in ("L", "1"):
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            white = _white(image.size)
            white.paste(image, mask=image.getchannel("A"))
            image = white
        image = image.convert("L")
    longest = max(image.size)
    if longest > MAX_SIDE:
        scale = MAX_SIDE / longest
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    elif longest < 1000:
        # Small scans (a cropped receipt) read far better at twice the size.
        image = image.resize((image.width * 2, image.height * 2))
    return image


def _white(size: tuple[int, int]) -> Image:
    from PIL import Image as PILImage

    return PILImage.new("RGBA", size, (255, 255, 255, 255))


def tidy_ocr_text(text: str) -> str:
    """Trim lines, drop form feeds and runs of blank lines, and lines that are pure noise."""
    lines = []
    for line in text.replace("\f", "\n").splitlines():
        line = line.strip()
        if line and not any(ch.isalnum() for ch in line):
            continue  # "|", "—", ".,:" specks
        lines.append(line)
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()
