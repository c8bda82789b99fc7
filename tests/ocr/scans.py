"""Synthetic scans for the OCR tests: text rendered with Pillow (DejaVu when installed, for the
umlauts), slightly rotated, with speckle noise, as a photo or a scanned page would look."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    # Pillow's bundled font has no umlauts: German assertions then see "Kndigung".
    return ImageFont.load_default(size=size)


def render_page(lines: list[str], *, size: tuple[int, int] = (1700, 1100), font_px: int = 38,
                angle: float = 1.2, noise: float = 0.002, seed: int = 7) -> Image.Image:
    """A white page with black text lines, rotated by `angle` degrees, with salt noise."""
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    face = font(font_px)
    y = 90
    for line in lines:
        draw.text((110, y), line, fill=0, font=face)
        y += int(font_px * 1.6)
    if angle:
        page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    rng = random.Random(seed)
    pixels = page.load()
    for _ in range(int(size[0] * size[1] * noise)):
        x, yy = rng.randrange(size[0]), rng.randrange(size[1])
        pixels[x, yy] = rng.choice((0, 90, 255))
    return page


GERMAN_LINES = [
    "Mietvertrag zwischen Frau Erika Mustermann",
    "und Herrn Max Müller über die Wohnung in Köln.",
    "Die Kündigungsfrist beträgt drei Monate.",
    "Die monatliche Miete beträgt 850,00 Euro.",
]
ENGLISH_LINES = [
    "Service Agreement between Acme Storage Ltd",
    "and Jane Doe, effective 1 March 2024.",
    "Either party may terminate with 30 days notice.",
    "The monthly fee is 19.99 GBP.",
]
