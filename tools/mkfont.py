#!/usr/bin/env python3
"""Rebuild helpers/fonts/NotoSansSC-Regular-subset.otf, the CJK font that ships with the course.

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb noto
    .venv/bin/python tools/mkfont.py noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

Takes the Simplified-Chinese face (index 2) of Noto Sans CJK and keeps every
GB2312 character (levels 1 and 2, full-width punctuation, Greek) plus ASCII and
the maths symbols the course uses: 7,549 glyphs, about 3.5 MB.  The font is
under the SIL Open Font License (helpers/fonts/OFL.txt).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

OUT = Path(__file__).resolve().parents[1] / "helpers" / "fonts" / "NotoSansSC-Regular-subset.otf"
EXTRA = "αβγδεθλμπστφωΣΔ√·×÷−±∞≈≠≤≥→←↔⇒∑∏∈ᵀ₀₁₂₃₄₅₆₇₈₉ⁱʲ…—–“”‘’、。，；：？！（）《》【】「」·°✅❌ℓ⊙"


def characters() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set(EXTRA)
    for hi in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):  # punctuation/Greek rows, hanzi rows
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(sorted(chars))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    subset.main([argv[0], "--font-number=2", f"--text={characters()}", f"--output-file={OUT}",
                 "--layout-features=*", "--name-IDs=*", "--name-languages=*"])
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
