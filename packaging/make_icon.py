"""Draw the application icon (resources/icons/mzdesk.png and .ico) from the shipped font.

A red rounded square with the character 民 in white: recognisable on a taskbar at 16 px.
Run once after changing the design: python packaging/make_icon.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / "resources" / "fonts" / "wqy-microhei.ttc"
OUT = ROOT / "resources" / "icons"


def draw(size: int = 256) -> Image.Image:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=(192, 57, 43, 255))
    font = ImageFont.truetype(str(FONT), int(size * 0.72), index=0)
    box = d.textbbox((0, 0), "民", font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    d.text(((size - w) / 2 - box[0], (size - h) / 2 - box[1]), "民", font=font, fill="white")
    return img


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    icon = draw()
    icon.save(OUT / "mzdesk.png")
    icon.save(OUT / "mzdesk.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64),
                                         (128, 128), (256, 256)])  # fmt: skip
    print(OUT / "mzdesk.png", OUT / "mzdesk.ico")
