"""Build the fallback font for name and address characters that BIZ UD Mincho lacks.

Letters are set in BIZ UD Mincho, which covers JIS X 0208 and most of JIS X 0213
(about 11,700 code points). Names and addresses can hold characters outside it:
𠮷 (U+20BB7, the 吉 with 土 on top), variants in the CJK compatibility block, rare
ideographs of JIS X 0212/0213 and the administrative character sets. IPAmj明朝
(文字情報基盤, IPA Font License) covers ~54,600 code points, but the whole font is
46 MB, so this script keeps a subset:

1. every BMP code point IPAmj maps and BIZ UD Mincho lacks, private use excluded:
   the rest of the CJK Unified Ideographs (JIS X 0212/0213 kanji among them),
   all of Extension A, the compatibility ideographs (﨑 髙-style variants), and
   symbols such as circled numbers and square forms used in addresses;
2. supplementary-plane ideographs with a Japanese IRG source in Unihan
   (kIRG_JSource: JIS X 0213, ARIB, 汎用電子 JH, 文字情報基盤 JMJ, 国字 JK), that is
   characters Japan itself submitted because they occur in names, places and
   administrative records;
3. Extension B ideographs that Unihan records as a variant (semantic, specialized
   semantic, Z, spoofing or traditional) of a character BIZ UD Mincho has: name
   forms of ordinary kanji, such as 𠮷 for 吉;
4. non-ideograph supplementary characters (e.g. the Kana Supplement);
5. the explicit list MUST_HAVE below, checked after the build.

Left out: the ~25,000 other Extension B ideographs, which IPAmj maps only as the
nearest Unicode form of rare 戸籍 glyphs; all of them would add about 12 MB. A
name holding one of those is refused by the letters engine with the character
named, never printed as a box.

The result keeps TrueType outlines (glyf) so ReportLab can embed it; hinting,
OpenType layout and vertical metrics are dropped (letters are horizontal and
printed at 10-14 pt). The IPA Font License (Article 3.1(4)) forbids the original
font's name in a derived font's file or font name, hence "Hosho Fallback Mincho".
Replacing the derived font with the original (Article 3.1(2)): set
``LetterSettings.fallback_font`` (app/letters/model.py) to the path of ipamjm.ttf
(IPAmj明朝, https://moji.or.jp/mojikiban/font/).

Needs fontTools (``pip install fonttools``, a build-time tool only) and Unihan
(Debian: ``apt-get install unicode-data`` gives /usr/share/unicode). Re-run:

    .venv/bin/python tools/make_fallback_font.py --source /path/to/ipamjm.ttf
"""

from __future__ import annotations

import argparse
import bz2
import sys
from collections import Counter
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
FONTS = ROOT / "resources" / "fonts"
DEFAULT_MAIN = FONTS / "BIZUDMincho-Regular.ttf"
DEFAULT_OUT = FONTS / "HoshoFallbackMincho-Regular.ttf"
SOURCE_CANDIDATES = (
    Path("/work/fonts-src/ipamjm.ttf"),
    Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf"),
    Path("/usr/share/fonts/opentype/ipamj/ipamjm.ttf"),
)
DEFAULT_UNIHAN = Path("/usr/share/unicode")
MAX_BYTES = 10 * 1024 * 1024

FAMILY = "Hosho Fallback Mincho"
POSTSCRIPT = "HoshoFallbackMincho-Regular"
MUST_HAVE = {0x20BB7: "𠮷 (つちよし)"}
VARIANT_FIELDS = {
    "kSemanticVariant",
    "kSpecializedSemanticVariant",
    "kZVariant",
    "kSpoofingVariant",
    "kTraditionalVariant",
}


def is_private_use(cp: int) -> bool:
    return 0xE000 <= cp <= 0xF8FF or cp >= 0xF0000


def is_ideograph_plane(cp: int) -> bool:
    """Planes 2 and 3: CJK Extensions B-H and the compatibility supplement."""
    return 0x20000 <= cp <= 0x3FFFF


def is_ext_b(cp: int) -> bool:
    return 0x20000 <= cp <= 0x2A6DF


def _unihan_lines(unihan_dir: Path, name: str):
    path = unihan_dir / f"{name}.txt.bz2"
    plain = unihan_dir / f"{name}.txt"
    if not path.exists() and not plain.exists():
        sys.exit(f"{path} not found: install Unihan (Debian: apt-get install unicode-data) "
                 "or pass --unihan-dir")
    with (bz2.open(path, "rt", encoding="utf-8") if path.exists()
          else plain.open(encoding="utf-8")) as handle:
        for line in handle:
            if line.startswith("U+"):
                cp, field, value = line.rstrip("\n").split("\t", 2)
                yield int(cp[2:], 16), field, value


def japanese_sources(unihan_dir: Path) -> set[int]:
    return {cp for cp, field, _ in _unihan_lines(unihan_dir, "Unihan_IRGSources")
            if field == "kIRG_JSource"}


def variants(unihan_dir: Path) -> dict[int, set[int]]:
    result: dict[int, set[int]] = {}
    for cp, field, value in _unihan_lines(unihan_dir, "Unihan_Variants"):
        if field in VARIANT_FIELDS:
            for token in value.split():
                result.setdefault(cp, set()).add(int(token.split("<")[0][2:], 16))
    return result


def choose(source_cmap: set[int], main_cmap: set[int], jsource: set[int],
           variant_map: dict[int, set[int]]) -> dict[int, str]:
    """Map each chosen code point to the rule that chose it."""
    chosen: dict[int, str] = {}
    for cp in sorted(source_cmap - main_cmap):
        if is_private_use(cp):
            continue
        if cp < 0x10000:
            chosen[cp] = "1 BMP"
        elif is_ideograph_plane(cp) and cp in jsource:
            chosen[cp] = "2 Japanese IRG source"
        elif is_ext_b(cp) and variant_map.get(cp, set()) & main_cmap:
            chosen[cp] = "3 Ext-B variant of a JIS kanji"
        elif not is_ideograph_plane(cp):
            chosen[cp] = "4 other supplementary"
    for cp in MUST_HAVE:
        if cp in source_cmap and cp not in main_cmap:
            chosen.setdefault(cp, "5 must have")
    return chosen


def rename(font: TTFont, source_version: str) -> None:
    """New font names (Article 3.1(4)); copyright and licence kept."""
    names = font["name"]
    copyright_ = names.getDebugName(0) or ""
    license_url = names.getDebugName(13) or ""
    names.names = []
    values = {
        0: copyright_,
        1: FAMILY,
        2: "Regular",
        3: f"{POSTSCRIPT};{source_version}",
        4: FAMILY,
        5: f"{source_version}; name-character subset for Hosho Desk letters",
        6: POSTSCRIPT,
        10: "Derived Program (subset) of IPAmj Mincho under the IPA Font License v1.0; "
            "built by tools/make_fallback_font.py",
        13: license_url,
        14: license_url,
    }
    for name_id, text in values.items():
        if text:
            names.setName(text, name_id, 3, 1, 0x409)
    if "CFF " in font:
        raise SystemExit("expected TrueType outlines")


def build(source: Path, main: Path, unihan_dir: Path, out: Path) -> None:
    main_cmap = set(TTFont(main, lazy=True).getBestCmap())
    font = TTFont(source, recalcTimestamp=False)
    if "glyf" not in font:
        sys.exit(f"{source} has no TrueType (glyf) outlines: ReportLab could not embed it")
    source_cmap = set(font.getBestCmap())
    source_version = font["name"].getDebugName(5) or "unknown version"
    chosen = choose(source_cmap, main_cmap, japanese_sources(unihan_dir), variants(unihan_dir))

    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.drop_tables += ["vhea", "vmtx", "BASE", "GDEF", "GPOS", "GSUB", "VORG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chosen.keys())
    subsetter.subset(font)
    rename(font, source_version)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)  # head.modified is kept from the source: the same input gives the same file

    built = TTFont(out)
    cmap = built.getBestCmap()
    for cp, label in MUST_HAVE.items():
        if cp not in cmap:
            sys.exit(f"U+{cp:04X} {label} is missing from the subset")
        if cp in main_cmap:
            print(f"note: U+{cp:04X} {label} is in the main font too")
    if "glyf" not in built:
        sys.exit("the subset lost its glyf table")
    size = out.stat().st_size
    for rule, count in sorted(Counter(chosen.values()).items()):
        print(f"  rule {rule}: {count} code points")
    print(f"{out}: {len(cmap)} code points, {built['maxp'].numGlyphs} glyphs, "
          f"{size / 1_000_000:.2f} MB")
    if size > MAX_BYTES:
        sys.exit(f"{out} is {size} bytes, over the {MAX_BYTES} limit")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path,
                        default=next((p for p in SOURCE_CANDIDATES if p.exists()), None),
                        help="ipamjm.ttf (IPAmj明朝); Debian package fonts-ipamj-mincho")
    parser.add_argument("--main", type=Path, default=DEFAULT_MAIN)
    parser.add_argument("--unihan-dir", type=Path, default=DEFAULT_UNIHAN)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.source is None or not args.source.exists():
        parser.error("ipamjm.ttf not found: pass --source")
    build(args.source, args.main, args.unihan_dir, args.out)


if __name__ == "__main__":
    main()
