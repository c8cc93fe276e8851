"""Bytes in a declared charset turned into text, surviving the labels real mailers write.

Policy of `decode_bytes`, in order:
1. A label is read as the superset its senders really use: gb2312/gbk/euc-cn as GB18030 (a
   "gb2312" part from Outlook or Foxmail carries GBK-only characters such as 镕 and 喆, which a
   strict gb2312 decoder turns into U+FFFD), ks_c_5601/euc-kr as cp949, big5 as big5hkscs,
   shift_jis as cp932, ISO-2022-JP with the Windows rows (①, ㈱), iso-8859-1 and us-ascii as
   windows-1252 (as browsers do).
2. A label the bytes fit is still checked: valid UTF-8 under a legacy label is UTF-8, and bytes
   that read as Chinese, Japanese or Korean far better in another charset (Big5 labelled gb2312,
   GBK labelled iso-8859-1) are decoded in that one.
3. No label, an unknown one, or one the bytes do not fit: the hint (another label of the mail),
   UTF-8 (or, under a CJK label, CJK text a gateway misread as Latin-1 and re-encoded as UTF-8),
   the CJK charsets scored the same way, the declared charset if only a few bytes are broken (a
   subject cut mid-character), then charset-normalizer.
4. Only bytes that are valid in no charset tried become U+FFFD (`Decoded.lossy`).

Headers: `decode_header` decodes raw 8-bit bytes (a GBK subject without RFC 2047) like a part
without a label, and RFC 2047 encoded words leniently: a wrong charset label, a missing `?=`,
a character split across two words, base64 without its padding.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import charset_normalizer


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # the codec that produced `text`
    lossy: bool = False  # some bytes were valid in no charset tried: U+FFFD stands in for them


# A pseudo-codec of ours: ISO-2022-JP as Windows writes it (CP50220), see _iso2022jp_as_cp932.
ISO2022JP_AS_CP932 = "iso2022_jp_as_cp932"
_GB = ("gb18030",)
_BIG5 = ("big5hkscs", "cp950")
_SJIS = ("cp932", "shift_jis_2004")
_EUC_JP = ("euc_jp", "euc_jis_2004")
_KOREAN = ("cp949",)
_WESTERN = ("cp1252", "latin-1")
_ISO2022JP = ("iso2022_jp", ISO2022JP_AS_CP932, "iso2022_jp_2004", "iso2022_jp_ext", "iso2022_jp_2")
# Python's codec name -> the codecs to try, strictly, in order.
_BY_CODEC = {
    "gb2312": _GB,
    "gbk": _GB,
    "gb18030": _GB,
    "big5": _BIG5,
    "big5hkscs": _BIG5,
    "cp950": ("cp950", "big5hkscs"),
    "shift_jis": _SJIS,
    "cp932": _SJIS,
    "euc_jp": _EUC_JP,
    "euc_kr": _KOREAN,
    "cp949": _KOREAN,
    "iso8859-1": _WESTERN,
    "ascii": _WESTERN,
    "cp1252": _WESTERN,
    "iso2022_jp": _ISO2022JP,
    **{name: (name, *_ISO2022JP) for name in ("iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_ext")},
    "tis-620": ("cp874",),
    "iso8859-11": ("cp874",),
    "iso8859-9": ("cp1254", "iso8859-9"),
}
# Labels seen in mail that Python does not know.
_LABELS = {
    **dict.fromkeys(("gb_2312-80", "gb_2312", "gb-2312", "x-gbk", "x-gb2312", "x-euc-cn", "cn-gb"), _GB),
    **dict.fromkeys(("csgb2312", "chinese", "windows-936", "ms936"), _GB),
    **dict.fromkeys(("x-big5", "x-x-big5", "cn-big5", "big-5", "csbig5", "windows-950"), _BIG5),
    **dict.fromkeys(("x-sjis", "shift-jis", "ms_kanji", "windows-31j", "x-ms-cp932", "csshiftjis"), _SJIS),
    "x-euc-jp": _EUC_JP,
    **dict.fromkeys(("ks_c_5601", "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949", "x-windows-949"), _KOREAN),
    "uhc": _KOREAN,
    **dict.fromkeys(("unicode-1-1-utf-8", "x-utf-8", "utf8mb4"), ("utf-8",)),
    **dict.fromkeys(("unicode-1-1-utf-7", "x-unicode20utf7"), ("utf-7",)),
    "windows-874": ("cp874",),
    "iso-8859-8-i": ("iso8859-8",),
    "x-mac-roman": ("mac-roman",),
}
# Labels that say "I don't know": read like a missing label.
_UNKNOWN = {"x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default", "charset", "8bit", "binary", "none"}
# Text codecs that are not mail charsets: a label naming one is not obeyed.
_NOT_CHARSETS = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "charmap", "mbcs", "oem"}
# Codecs whose successful decoding is proof enough: their byte patterns rarely fit by chance.
_SELF_CHECKING = {"utf-8", "utf-8-sig", "utf-7", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
_SELF_CHECKING |= {"hz", "iso2022_kr", "iso2022_jp_1", "iso2022_jp_3", *_ISO2022JP}
_CJK_CODECS = {*_GB, *_BIG5, *_SJIS, *_EUC_JP, *_KOREAN, "johab"}
_HIGH_BYTES = bytes(range(0x80, 0x100))
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Another charset replaces a declared one the bytes fit only when its text reads this much better
# (`_score`: 1.0 is fluent text, gibberish from the wrong CJK charset scores about 0.3).
SWITCH_MARGIN = 0.2
DETECT_MIN_SCORE = 0.6
# A declared CJK text reading at least this well is kept without trying the others.
_FLUENT = 0.85
# Fewer non-ASCII characters than this are too little evidence to overrule a label.
_MIN_EVIDENCE = 4
# Detection keeps the preferred CJK charset (the declared one, else GB18030) unless another
# reads this much better.
_PREFER_MARGIN = 0.1
# A multi-byte label whose bytes fail only here and there is kept, U+FFFD for the broken bytes.
_FEW_BROKEN = 2


@functools.lru_cache(maxsize=512)
def codecs_for(label: str | None) -> tuple[str, ...]:
    """The codecs to try, in order, for a charset label; () when missing, unknown or not a charset."""
    if not label:
        return ()
    name = re.split(r"[\s;*]", label.strip().strip("\"'").lower(), maxsplit=1)[0]
    if not name or name in _UNKNOWN:
        return ()
    if name in _LABELS:
        return _LABELS[name]
    try:
        info = codecs.lookup(name)
    except LookupError:
        return _LABELS.get(name.replace("_", "-"), ())
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return ()
    return _BY_CODEC.get(info.name, (info.name,))


def decode(data: bytes, charset: str | None = None, *, hint: str | None = None) -> str:
    """`decode_bytes(...).text`."""
    return decode_bytes(data, charset, hint=hint).text


def decode_bytes(data: bytes, charset: str | None = None, *, hint: str | None = None) -> Decoded:
    """`data` declared as `charset` as text; `hint` is a label to fall back on when that one is
    missing or does not fit (the body's charset for a raw 8-bit header). Never raises."""
    declared = codecs_for(charset)
    if not data:
        return Decoded("", (declared or ("ascii",))[0])
    hinted = codecs_for(hint)
    # A CJK hint is tried like a label; a single-byte one (which fits any bytes) only after
    # detection found no CJK reading.
    for codec in dict.fromkeys((*declared, *(codec for codec in hinted if codec in _CJK_CODECS))):
        text = _strict(data, codec)
        if text is not None:
            return _second_opinion(data, codec, text)
    return _detect(data, declared, hinted)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        if codec == ISO2022JP_AS_CP932:
            return _iso2022jp_as_cp932(data)
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def _lenient(data: bytes, codec: str) -> str:
    if codec == ISO2022JP_AS_CP932:
        return _iso2022jp_as_cp932(data, errors="replace")
    return data.decode(codec, "replace")


def _second_opinion(data: bytes, codec: str, text: str) -> Decoded:
    """The declared charset the bytes fit, unless another one clearly reads better."""
    if codec in _SELF_CHECKING or data.isascii():
        return Decoded(text, codec)
    if codec in _CJK_CODECS:
        return _recheck_cjk(data, codec, text)
    if (utf8 := _strict(data, "utf-8")) is not None:
        return Decoded(utf8, "utf-8")  # UTF-8 under a single-byte label: mislabelled, almost surely
    # Bytes mostly above 0x7F that read as fluent CJK: GBK sent as iso-8859-1. (Western text has
    # a few such bytes among its letters; Cyrillic words of odd length break the pairs.)
    if len(data) - len(data.translate(None, _HIGH_BYTES)) >= 0.3 * len(data):
        best = _best_cjk(data)
        if best and best.score >= _FLUENT and best.ideographs >= _MIN_EVIDENCE:
            return Decoded(best.text, best.charset, best.lossy)
    return Decoded(text, codec)


def _recheck_cjk(data: bytes, codec: str, text: str) -> Decoded:
    own = _score(text, codec)
    utf8 = _strict(data, "utf-8")
    if utf8 is not None:
        # Legacy CJK bytes are valid UTF-8 only by chance, and then as Latin, Greek or Cyrillic
        # letters, or as one stray wide character.
        wide = sum(1 for ch in utf8 if ord(ch) >= 0x800)
        if wide >= 2 or (wide == 1 and _score(utf8, codec) > own):
            return Decoded(utf8, "utf-8")
        if _accented_latin_words(utf8):
            return Decoded(utf8, "utf-8")  # "Café" in UTF-8 reads as "Caf茅" in GB: hanzi inside a word
        if (repaired := _unmojibake(utf8, (codec,))) is not None:
            return repaired
    if own >= _FLUENT or _non_ascii_count(text) < _MIN_EVIDENCE:
        return Decoded(text, codec)
    best = _best_cjk(data, skip=codec)
    if best and best.score >= max(DETECT_MIN_SCORE, own + SWITCH_MARGIN):
        return Decoded(best.text, best.charset, best.lossy)
    return Decoded(text, codec)


def _detect(data: bytes, declared: tuple[str, ...], hinted: tuple[str, ...] = ()) -> Decoded:
    """No label the bytes fit: BOM, ASCII, UTF-8, CJK, the declared charset if only a few bytes
    are broken, the hint, charset-normalizer, and last the declared charset (or UTF-8) lossily."""
    for bom, codec in _BOMS:
        if data.startswith(bom) and (text := _strict(data, codec)) is not None:
            return Decoded(text, codec)
    if data.isascii():
        if b"\x1b$" in data:  # ISO-2022-JP (7-bit, with escapes) without its label
            for codec in _ISO2022JP:
                if (text := _strict(data, codec)) is not None:
                    return Decoded(text, codec)
        return Decoded(data.decode("ascii"), "ascii")
    if (text := _strict(data, "utf-8")) is not None:
        return _unmojibake(text, declared) or Decoded(text, "utf-8")
    best = _best_cjk(data, prefer=(*declared, *hinted, "")[0])
    if best and best.score >= DETECT_MIN_SCORE:
        return Decoded(best.text, best.charset, best.lossy)
    # The label's multi-byte charset (else the hint's, else UTF-8, what unlabelled 8-bit headers
    # mostly are) with mostly intact characters and a few broken: the bytes are damaged, the
    # charset right. (Latin-1 read as UTF-8 has no intact multi-byte character at all.)
    multibyte = next(codec for codec in (*declared, *hinted, "utf-8") if codec in _CJK_CODECS or codec == "utf-8")
    text = _lenient(data, multibyte)
    broken = text.count("\ufffd")
    intact = sum(1 for ch in text if ch >= "\x80") - broken
    if (broken <= _FEW_BROKEN and intact >= broken) or broken * 4 <= intact:
        return Decoded(text, multibyte, lossy=True)
    for codec in hinted:
        if (text := _strict(data, codec)) is not None:
            return Decoded(text, codec)
    # charset-normalizer reads short binary junk as BOM-less UTF-16; no mail part is that.
    for guess in charset_normalizer.from_bytes(data):
        if not guess.encoding.startswith(("utf_16", "utf_32")):
            return Decoded(str(guess), guess.encoding)
    codec = declared[0] if declared else "utf-8"
    return Decoded(_lenient(data, codec), codec, lossy=True)


def _accented_latin_words(text: str) -> bool:
    """At least two non-ASCII characters, each an accented Latin letter next to an ASCII one
    (Grüße, crème: one alone could be a GB character glued to a word, "VIP茅")."""
    if _non_ascii_count(text) < 2:
        return False
    for position, ch in enumerate(text):
        if ch >= "\x80":
            if not ("\u00c0" <= ch <= "\u017f" and ch not in "×÷"):  # Latin-1 letters, Latin Extended-A
                return False
            if not any(near.isascii() and near.isalpha() for near in text[max(position - 1, 0) : position + 2]):
                return False
    return True


def _unmojibake(text: str, declared: tuple[str, ...]) -> Decoded | None:
    """CJK text that a gateway read as Latin-1 and passed on as UTF-8 ("³nÅé" for 軟體) under
    its original CJK label, which says what the bytes were: those bytes decoded again, if fluent."""
    codec = next((codec for codec in declared if codec in _CJK_CODECS), None)
    if codec is None or text.isascii():
        return None
    for single_byte in ("latin-1", "cp1252"):
        try:
            original = text.encode(single_byte)
        except UnicodeEncodeError:
            continue
        reading = _read(original, codec)
        if reading and reading.score >= _FLUENT and reading.ideographs >= _MIN_EVIDENCE:
            return Decoded(reading.text, codec, reading.lossy)
    return None


# --- how well bytes read as Chinese, Japanese or Korean ---------------------------------------


class _Reading(NamedTuple):
    charset: str
    text: str
    score: float
    ideographs: int  # and kana and Hangul syllables
    lossy: bool  # the bytes were cut inside their last character


# The CJK charsets detection tries; on a tie the earlier one wins (a Chinese helpdesk).
_CANDIDATES = ("gb18030", "big5hkscs", "cp932", "euc_jp", "cp949")
_LANGUAGE = {"gb18030": "hans", "big5hkscs": "hant", "cp950": "hant", "cp932": "ja", "shift_jis_2004": "ja"}
_LANGUAGE |= {"euc_jp": "ja", "euc_jis_2004": "ja", "cp949": "ko", "johab": "ko"}
# The most frequent characters of Chinese mail (simplified and traditional) and of Korean: a
# reading in the right charset is full of them, one in the wrong charset hardly has any.
_ZH_FREQUENT = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道"
    "行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日者意无"
    "力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应向头文体美相见被利什二等产"
    "或新己制身果加西月话合回特代内信表化老给世位次度门任常先通教儿原东声提立及比员解水名真论处走义各入几口认"
    "条平系气题活更别打女变四总何电数安少报才结反受目太量再感建务做接必场件计管期市直资命山金指许统区保至形社"
    "便空决展马科司五基书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边张该交规万取格望"
    "觉术领共确传观清今切让识候带导改收根干造言联持组每车亲极服快办议往元证近失转令准布始怎呢存未远叫台单影具"
    "字爱流备连调深商算质团集百需价花华级整离况请技际约示复息究线似官断满支视消越器容照须增写称功吗包片查轻易"
    "早除找装广显吧标谈图念首局专费号尽另周较注语仅考落随选列响虽推参希众构房半节投某案维划致律足态护兴验责营"
    "够章跟底站严例防供效续施留讲型料终答紧绝察段依批群项故按围害双境客纪采举低友诉止细愿千值仍钱网助属限速刻"
    "否刚状率独普怕创假久错承印晚试拿预谁益若哪微继送急素适夜省初喜源待述置居财排福纳欢获模充负停游树疑层略"
    "范句室异简卡判担静退既您积余检差富协角占配修降审善免压银买养执副乱追帮宣优著控税左右份穿背块顿守托户索"
    "款靠评版座释顾登货互付慢换闻危忙核介坏讨良序升监临亮永呼味架域掉括误减编测败跑困渐封救贵缺楼尚移画班智"
    "固席秘谢订账密码物邮附截麻烦诚询投售维充登注册绑验惠券额宝微扣退还取消申理馈障法显失败尽复谢您好请帮"
    "這個們來為國說時會對發後過經還進動現裡實從開關點問間體員題學樣應長機變種頭給東話認電義與當內將無兩幾萬業"
    "產際達聽難邊論處結總統區傳師聲響門買賣車書記選轉觀見視親號據數錢讓請謝訂單貨郵寄費錯誤帳戶錄碼優惠價格運"
    "輸質網絡麼嗎沒讀寫臺灣歡迎覆顯隨僅權議紅線係態圖參廣輕醫術強氣風聯絡繫撥務檢驗證購幣條品換維修儲值註冊綁"
    "積餘額寶還消異敗煩盡附檔"
)
_KO_FREQUENT = (
    "이다에의는로하을가고지서한은기으년대사시를리도인스일니요습있어나그수해자게주아보정마세안녕감합문상품직착않"
    "았했것들우리까제저면부터만과와께드립씀말오늘내전화번호메확부탁결환불취소배송회원"
)
_PUNCTUATION_WEIGHT = 0.8
# The per-language weight tables remember the characters they meet up to this many (junk mail
# can bring the whole of Unicode).
_MAX_REMEMBERED = 30_000
_RARE_IDEOGRAPH_WEIGHT = 0.3


def _repertoire(codec: str, leads: range, trails: tuple[range, ...]) -> frozenset[str]:
    """The characters a range of a double-byte code page holds: the common set of a language."""
    found = set()
    for lead in leads:
        for trail in itertools.chain(*trails):
            try:
                found.add(bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                continue
    return frozenset(ch for ch in found if _is_ideograph(ord(ch)) or 0xAC00 <= ord(ch) <= 0xD7A3)


@functools.cache
def _weights(language: str) -> dict[str, float]:
    """Per character: 1.0 frequent, 0.8 in the language's common set (GB2312, Big5 level 1,
    JIS level 1, KS X 1001 Hangul). One table per language for the process; `_score` adds the
    other characters it meets, weighed by their block."""
    rows = range(0xA1, 0xFF)
    common = {
        "hans": lambda: _repertoire("gb2312", range(0xB0, 0xF8), (rows,)),
        "hant": lambda: _repertoire("big5", range(0xA4, 0xC7), (range(0x40, 0x7F), rows)),
        "ja": lambda: _repertoire("euc_jp", range(0xB0, 0xD0), (rows,)),
        "ko": lambda: _repertoire("euc_kr", range(0xB0, 0xC9), (rows,)),
    }[language]()
    weights = dict.fromkeys(common, 0.8)
    weights.update(dict.fromkeys(_KO_FREQUENT if language == "ko" else _ZH_FREQUENT, 1.0))
    return weights


def _is_ideograph(code: int) -> bool:
    """CJK unified ideographs (the basic block, extension A, the supplementary planes) and the
    compatibility ones."""
    return (
        0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x3134F or 0xF900 <= code <= 0xFAFF
    )


def _block_weight(code: int, language: str) -> float:
    if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF60 or 0x2010 <= code <= 0x2044 or code in (0xB7, 0xD7):
        return _PUNCTUATION_WEIGHT  # CJK and full-width punctuation, quotes, dashes, ellipsis
    if _is_ideograph(code):
        return _RARE_IDEOGRAPH_WEIGHT
    if language == "ja":
        if 0x3041 <= code <= 0x30FF:
            return 1.0  # kana: the surest sign of Japanese
        if 0xFF61 <= code <= 0xFF9F:
            return 0.2  # half-width katakana: rare in real text, common in misread bytes
    if language == "ko" and 0xAC00 <= code <= 0xD7A3:
        return 0.1  # a Hangul syllable outside KS X 1001: cp949's extension, rare in real text
    if 0xC0 <= code <= 0x24F:
        return 0.2
    return 0.0  # private use, controls, Greek or kana amid Chinese, box drawing: misread bytes


def _score(text: str, codec: str, sample: int = 600) -> float:
    """How well `text` reads in the language of `codec`: the mean weight of the non-ASCII
    characters among its first few thousand (1.0 when there are none)."""
    language = _LANGUAGE.get(codec, "hans")
    weights = _weights(language)
    chars = [ch for ch in text[: sample * 4] if ch >= "\x80"][:sample]
    if not chars:
        return 1.0
    missing = set(chars).difference(weights)
    if missing and len(weights) < _MAX_REMEMBERED:  # weigh each new character once, then remember
        weights.update((ch, _block_weight(ord(ch), language)) for ch in missing)
    elif missing:
        weights = weights | {ch: _block_weight(ord(ch), language) for ch in missing}
    return sum(map(weights.__getitem__, chars)) / len(chars)


def _read(data: bytes, codec: str) -> _Reading | None:
    """`data` read in `codec`, also when cut inside its last character (a truncated subject)."""
    text, lossy = _strict(data, codec), False
    for cut in (1, 2, 3):
        if text is not None or len(data) <= cut:
            break
        if (text := _strict(data[:-cut], codec)) is not None:
            text, lossy = text + "\ufffd", True
    if text is None:
        return None
    ideographs = sum(1 for ch in text if _is_ideograph(ord(ch)) or "\u3041" <= ch <= "\u30ff" or "가" <= ch <= "힣")
    return _Reading(codec, text, _score(text, codec), ideographs, lossy)


def _non_ascii_count(text: str) -> int:
    return sum(1 for ch in itertools.islice((ch for ch in text if ch >= "\x80"), _MIN_EVIDENCE))


def _best_cjk(data: bytes, *, prefer: str | None = None, skip: str | None = None) -> _Reading | None:
    """The CJK reading that scores best; the preferred charset (else GB18030) unless another
    one reads `_PREFER_MARGIN` better over enough characters to tell."""
    readings = [reading for codec in _CANDIDATES if codec != skip and (reading := _read(data, codec))]
    best = max(readings, key=lambda reading: reading.score, default=None)
    preferred = prefer if prefer in _CANDIDATES else _CANDIDATES[0]
    for reading in readings:
        if reading.charset == preferred and best:
            few = _non_ascii_count(reading.text) < _MIN_EVIDENCE  # a name or two: too little to go on
            if reading.score >= best.score - _PREFER_MARGIN or (few and reading.score >= DETECT_MIN_SCORE):
                return reading
    return best


# --- ISO-2022-JP as Windows writes it ---------------------------------------------------------

# Escape sequence -> mode. JIS X 0208 and its 1990 announcer; JIS-Roman read as ASCII.
_JIS_ESCAPES = {b"\x1b(B": "ascii", b"\x1b(J": "ascii", b"\x1b(H": "ascii", b"\x1b(I": "kana"}
_JIS_ESCAPES |= {b"\x1b$@": "jis", b"\x1b$B": "jis", b"\x1b&@": ""}
_INVALID_CP932 = 0xFF  # a byte cp932 cannot decode: becomes U+FFFD under errors="replace"


def _iso2022jp_as_cp932(data: bytes, errors: str = "strict") -> str:
    """ISO-2022-JP read as CP50220: JIS X 0208 pairs moved to Shift_JIS and decoded as cp932,
    which also has the NEC and IBM rows (①, Ⅲ, ㈱) and half-width katakana that Python's
    iso2022_jp rejects. Other character sets (JIS X 0212, 0213) are left to Python's codecs."""
    out = bytearray()
    mode, i = "ascii", 0
    while i < len(data):
        byte = data[i]
        if byte == 0x1B:
            escape = next((seq for seq in _JIS_ESCAPES if data.startswith(seq, i)), None)
            if escape is None:
                if errors == "strict":
                    raise ValueError(f"unsupported escape sequence at {i}")
                i += 1
                continue
            mode = _JIS_ESCAPES[escape] or mode
            i += len(escape)
        elif byte in (0x0E, 0x0F):  # SO / SI: half-width katakana shifted in and out
            mode = "kana" if byte == 0x0E else "ascii"
            i += 1
        elif byte >= 0x80 or (mode == "kana" and 0x5F < byte < 0x7F):
            if errors == "strict":
                raise ValueError(f"byte {byte:#x} is not ISO-2022-JP at {i}")
            out.append(_INVALID_CP932)
            i += 1
        elif byte < 0x21 or byte == 0x7F or mode == "ascii":
            out.append(byte)  # controls and spaces pass through in every mode
            i += 1
        elif mode == "kana":
            out.append(byte | 0x80)
            i += 1
        elif i + 1 < len(data) and 0x21 <= data[i + 1] <= 0x7E:
            out += _jis_to_sjis(byte, data[i + 1])
            i += 2
        else:
            if errors == "strict":
                raise ValueError(f"truncated JIS character at {i}")
            out.append(_INVALID_CP932)
            i += 1
    return out.decode("cp932", errors)


def _jis_to_sjis(first: int, second: int) -> bytes:
    """A JIS X 0208 row/cell pair as the Shift_JIS bytes of the same character."""
    lead = (first + 1) // 2 + (0x70 if first <= 0x5E else 0xB0)
    trail = second + (0x1F if second <= 0x5F else 0x20) if first % 2 else second + 0x7E
    return bytes((lead, trail))


# --- headers ----------------------------------------------------------------------------------

# An RFC 2047 encoded word, leniently: the closing `?=` may be missing before a space or the end.
_ENCODED_WORD = re.compile(
    rb"=\?(?P<charset>[^?\s]+)\?(?P<encoding>[bBqQ])\?(?P<text>[^?\s]*)(?:\?=|\?(?=\s|$)|(?=\s|$))"
)
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")


class _Word(NamedTuple):
    charset: str
    encoding: bytes  # b"B" or b"Q"
    text: bytes


def header_bytes(value: str | bytes) -> bytes:
    """A header value as its bytes again: the parser keeps 8-bit bytes as lone surrogates."""
    if isinstance(value, bytes):
        return value
    return value.encode("utf-8", "surrogateescape")


def decode_header(value: str | bytes | None, *, hint: str | None = None) -> str:
    """A header value as one line of text: RFC 2047 words and raw 8-bit bytes decoded."""
    if value is None:
        return ""
    raw = _FOLD.sub(b"", header_bytes(value))
    if raw.isascii() and b"=?" not in raw:
        return _one_line(raw.decode("ascii"))
    return _one_line("".join(_decode_segments(raw, hint=hint)))


def decode_raw_8bit(value: str | bytes | None, *, hint: str | None = None) -> str:
    """Only the raw 8-bit bytes of a header decoded, encoded words left as they are: an address
    list is split before its display names are decoded (a decoded name may hold a comma)."""
    if value is None:
        return ""
    raw = _FOLD.sub(b"", header_bytes(value))
    return raw.decode("ascii") if raw.isascii() else decode(raw, None, hint=hint)


def _one_line(text: str) -> str:
    return " ".join(text.replace("\x00", "").split())


def _decode_segments(raw: bytes, *, hint: str | None) -> Iterator[str]:
    items: list[_Word | bytes] = []
    position = 0
    for match in _ENCODED_WORD.finditer(raw):
        if match.start() > position:
            items.append(raw[position : match.start()])
        charset = match["charset"].split(b"*")[0].decode("ascii", "replace").lower()
        items.append(_Word(charset, match["encoding"].upper(), match["text"]))
        position = match.end()
    if position < len(raw):
        items.append(raw[position:])
    # Space between two encoded words is not text (RFC 2047 6.2).
    kept = [
        item
        for k, item in enumerate(items)
        if not (
            isinstance(item, bytes)
            and not item.strip()
            and 0 < k < len(items) - 1
            and isinstance(items[k - 1], _Word)
            and isinstance(items[k + 1], _Word)
        )
    ]
    # The bytes of adjacent words in one charset are joined before decoding: a character split
    # across two words comes out whole.
    for charset, group in itertools.groupby(kept, key=lambda item: item.charset if isinstance(item, _Word) else ""):
        pieces = list(group)
        if charset:
            words = [piece for piece in pieces if isinstance(piece, _Word)]
            yield decode(_word_bytes(words), charset, hint=hint)
        else:
            for piece in pieces:
                if isinstance(piece, bytes):
                    yield piece.decode("ascii") if piece.isascii() else decode(piece, None, hint=hint)


def _word_bytes(words: list[_Word]) -> bytes:
    if all(word.encoding == b"B" for word in words):
        joined = b"".join(word.text for word in words)
        if b"=" not in joined.rstrip(b"="):  # one base64 stream, possibly split off its boundaries
            return lenient_b64decode(joined)
    return b"".join(lenient_b64decode(word.text) if word.encoding == b"B" else _q_decode(word.text) for word in words)


def _q_decode(text: bytes) -> bytes:
    return _QP_ESCAPE.sub(lambda match: bytes.fromhex(match[1].decode("ascii")), text.replace(b"_", b" "))


_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=]*")


def lenient_b64decode(data: bytes) -> bytes:
    """Base64 as mailers write it: padding missing or in the middle (two streams glued), and
    junk dropped: text after the padding on its line, and lines with anything but base64 in
    them (a footer someone appended)."""
    kept = []
    for line in data.splitlines():
        line = line.strip()
        match = _BASE64_RUN.match(line)
        run = match[0] if match else b""
        if len(run) == len(line) or run.endswith(b"="):
            kept.append(run)
    alphabet_only = b"".join(kept)
    out = bytearray()
    for chunk in re.split(rb"=+", alphabet_only):
        if len(chunk) % 4 == 1:
            chunk = chunk[:-1]  # a lone trailing sextet holds no whole byte
        if chunk:
            try:
                out += base64.b64decode(chunk + b"=" * (-len(chunk) % 4))
            except binascii.Error:
                continue
    return bytes(out)
