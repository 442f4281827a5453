"""Documents the format tests make themselves: PDFs printed by Debian's chromium from Japanese
HTML, DOCX/PPTX/XLSX written with their libraries, EPUB and e-mail with the standard library,
hand-written PDFs (CID fonts without a Unicode map, encryption, a huge page tree) and the
hostile files (a zip bomb, a truncated DOCX).
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import zipfile
from email.header import Header
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

#: A Japanese report: an outline of three chapters over three pages, a vertical chapter,
#: a line long enough to wrap.
REPORT_HTML = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>社内規程集</title>
<style>
body { font-family: "IPAGothic", sans-serif; font-size: 13pt; }
h1 { break-before: page; font-size: 18pt; }
h1:first-of-type { break-before: auto; }
.v { writing-mode: vertical-rl; height: 360px; }
</style></head><body>
<h1>第1章 総則</h1>
<p>この規程は、株式会社サンプルの就業に関する事項を定める。従業員は誠実に職務を遂行しなければならない。この文章は行をまたいで折り返されるが、日本語の文字の間に空白が入ってはならない。</p>
<h2>1.1 目的</h2>
<p>本規程の目的は、働きやすい職場環境を整えることにある。専門用語の表記を統一する。</p>
<h1>第2章 勤務</h1>
<p>始業時刻は午前九時、終業時刻は午後六時とする。Flexible working hours apply to every team.</p>
<h1>第3章 縦書きの心得</h1>
<div class="v"><p>吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。
何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。</p></div>
</body></html>
"""

#: Pages without an outline: each page a section.
PAGES_HTML = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>議事録</title>
<style>body { font-family: "IPAGothic", sans-serif; } p { break-after: page; }</style></head><body>
<p>一ページ目には予算の話がある。</p><p>二ページ目では採用計画を議論した。</p><p>三ページ目は懇親会の案内である。</p>
</body></html>
"""


def chromium_pdf(html: str, out: Path, outline: bool = True) -> Path:
    """``html`` printed to ``out`` by chromium (no header or footer; an outline from the headings)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    source = out.with_suffix(".html")
    source.write_text(html, encoding="utf-8")
    flags = ["--no-pdf-header-footer"] + (["--generate-pdf-document-outline"] if outline else [])
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            *flags,
            f"--print-to-pdf={out}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    source.unlink()
    return out


# -- hand-written PDFs ------------------------------------------------------------------


def raw_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF of ``objects`` (object 1 the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer.decode('latin-1')}>>\n".encode("latin-1")
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


_CID_FONT = (
    b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /Ryumin-Light /CIDSystemInfo << /Registry (Adobe)"
    b" /Ordering (Japan1) /Supplement 2 >> /FontDescriptor 7 0 R >>"
)
_DESCRIPTOR = (
    b"<< /Type /FontDescriptor /FontName /Ryumin-Light /Flags 6 /FontBBox [0 -141 1000 859] /ItalicAngle 0"
    b" /Ascent 859 /Descent -141 /CapHeight 709 /StemV 69 >>"
)


def cid_pdf(encoding: str, codes: bytes, to_unicode: dict[int, str] | None = None) -> bytes:
    """One line of text in a CID font that is not embedded and has no Unicode map
    (``encoding``: ``Identity-H`` with Adobe-Japan1 CIDs, or a predefined CMap such as
    ``90ms-RKSJ-H`` with Shift_JIS bytes): what older Japanese Acrobat and TeX output holds.
    ``to_unicode`` gives the font a Unicode map instead (code → text), as a font that maps a
    kanji's glyph to a radical (⽤ for 用) has."""
    content = b"BT /F1 24 Tf 72 700 Td <" + codes.hex().encode() + b"> Tj ET"
    extra = b""
    tail: list[bytes] = []
    if to_unicode:
        chars = " ".join(f"<{code:04X}> <{ord(text):04X}>" for code, text in to_unicode.items())
        cmap = (
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe)"
            " /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def"
            f" 1 begincodespacerange <0000> <FFFF> endcodespacerange {len(to_unicode)} beginbfchar {chars}"
            " endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
        ).encode()
        extra = b" /ToUnicode 8 0 R"
        tail = [_stream(cmap)]
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
            b" /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type0 /BaseFont /Ryumin-Light /Encoding /"
            + encoding.encode()
            + b" /DescendantFonts [6 0 R]"
            + extra
            + b" >>",
            _stream(content),
            _CID_FONT,
            _DESCRIPTOR,
            *tail,
        ]
    )


def identity_h(cids: list[int]) -> bytes:
    return b"".join(struct.pack(">H", cid) for cid in cids)


def huge_pdf(pages: int) -> bytes:
    """A PDF whose page tree holds ``pages`` pages sharing one content stream."""
    first = 4
    kids = " ".join(f"{first + i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        _stream(b"BT /F1 12 Tf 72 700 Td (page) Tj ET"),
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 3 0 R >>"
    objects += [page] * pages
    return raw_pdf(objects)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes, text: str = "secret") -> bytes:
    """A one-page PDF encrypted with the standard security handler (RC4, 40 bits, revision 2)."""
    owner = b"owner"
    pad = lambda p: (p + _PAD)[:32]  # noqa: E731
    o_key = hashlib.md5(pad(owner)).digest()[:5]
    o_entry = _rc4(o_key, pad(user_password))
    file_id = b"0123456789abcdef"
    permissions = struct.pack("<i", -4)
    key = hashlib.md5(pad(user_password) + o_entry + permissions + file_id).digest()[:5]
    u_entry = _rc4(key, _PAD)

    def obj_key(number: int) -> bytes:
        return hashlib.md5(key + struct.pack("<I", number)[:3] + b"\x00\x00").digest()[:10]

    content = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode()
    encrypted = _rc4(obj_key(4), content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        _stream(encrypted),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + o_entry.hex().encode()
        + b"> /U <"
        + u_entry.hex().encode()
        + b"> /P -4 >>",
    ]
    return raw_pdf(
        objects, b"/Encrypt 6 0 R /ID [<" + file_id.hex().encode() + b"> <" + file_id.hex().encode() + b">] "
    )


def scanned_pdf(out: Path) -> Path:
    """A PDF that is only a picture of a page (no text layer)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 560), "white")
    ImageDraw.Draw(image).rectangle((40, 40, 360, 120), fill="black")
    image.save(out, "PDF")
    return out


# -- Office -------------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def write_docx(out: Path) -> Path:
    """A DOCX with Heading 1/2, a style named 見出し 1, a table, a text box (with Word's VML
    copy), ruby, and core properties."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml

    document = docx.Document()
    props = document.core_properties
    props.title = "就業規則"
    props.author = "総務部"
    document.add_heading("第1章 総則", level=1)
    document.add_paragraph("この規則は従業員の就業に関する事項を定める。")
    document.add_heading("第1節 目的", level=2)
    para = document.add_paragraph("働きやすい職場をつくる。")
    box = (
        f'<w:r xmlns:w="{_W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
        ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
        ' xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        "<wps:txbx><w:txbxContent><w:p><w:r><w:t>囲み記事は一度だけ読む。</w:t></w:r></w:p></w:txbxContent>"
        "</wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r>"
        "<w:t>囲み記事は一度だけ読む。</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )
    para._p.append(parse_xml(box))
    ruby = document.add_paragraph()
    ruby._p.append(parse_xml(f'<w:r xmlns:w="{_W}"><w:t>山路を登りながら、こう考えた。</w:t></w:r>'))
    ruby._p.append(
        parse_xml(
            f'<w:r xmlns:w="{_W}"><w:ruby><w:rt><w:r><w:t>ち</w:t></w:r></w:rt>'
            "<w:rubyBase><w:r><w:t>智</w:t></w:r></w:rubyBase></w:ruby></w:r>"
        )
    )
    ruby._p.append(parse_xml(f'<w:r xmlns:w="{_W}"><w:t>に働けば角が立つ。</w:t></w:r>'))
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "項目", (0, 1): "内容", (1, 0): "始業", (1, 1): "午前九時"}.items():
        table.cell(r, c).text = text
    style = document.styles.add_style("見出し 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("第2章 服務", style=style)
    document.add_paragraph("服務規律を守る。")
    document.save(out)
    return out


def write_pptx(out: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "四半期報告"
    deck.core_properties.author = "営業部"
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "売上報告"
    slide.placeholders[1].text = "第3四半期の売上は前年比120%。"
    slide.notes_slide.notes_text_frame.text = "ここで質疑応答を受ける。"
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "今後の計画"
    slide.shapes.add_textbox(Inches(1), Inches(4), Inches(4), Inches(1)).text_frame.text = "下の段落。"
    slide.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(1)).text_frame.text = "上の段落。"
    deck.save(out)
    return out


def write_xlsx(out: Path) -> Path:
    """Two sheets; the cell 東京 carries a phonetic run (furigana) トウキョウ."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out))
    book.set_properties({"title": "支店一覧", "author": "経理部"})
    sheet = book.add_worksheet("支店")
    for row, values in enumerate([["支店", "売上"], ["東京", 1200], ["大阪", 850.5]]):
        for col, value in enumerate(values):
            sheet.write(row, col, value)
    book.add_worksheet("メモ").write(0, 0, "決算は三月。")
    book.close()
    with zipfile.ZipFile(out) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    strings = parts["xl/sharedStrings.xml"].decode()
    strings = strings.replace(
        "<si><t>東京</t></si>",
        '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="0" type="noConversion"/></si>',
    )
    parts["xl/sharedStrings.xml"] = strings.encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out


def write_epub(out: Path) -> Path:
    """An EPUB of two chapters in spine order (the second listed first in the manifest), with ruby."""
    chapter = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" lang="ja"><head><title>{title}</title></head>
<body>{body}</body></html>"""
    one = chapter.format(
        title="一",
        body="<h1>一</h1><p>山路を登りながら、こう考えた。<ruby>智<rp>(</rp><rt>ち</rt><rp>)</rp></ruby>に働けば角が立つ。</p>",
    )
    two = chapter.format(title="二", body="<p>情に棹させば流される。</p>")
    opf = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>
<dc:title>草枕</dc:title><dc:creator>夏目漱石</dc:creator><dc:language>ja</dc:language></metadata>
<manifest><item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/>
<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>"""
    container = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("OEBPS/content.opf", opf)
        archive.writestr("OEBPS/text/one.xhtml", one)
        archive.writestr("OEBPS/text/two.xhtml", two)
    return out


# -- e-mail -------------------------------------------------------------------------------


def iso2022_mail(attachment: tuple[str, bytes] | None = None) -> bytes:
    """A message in ISO-2022-JP (subject as encoded words, body 7-bit), with an optional attachment."""
    body = MIMEText("来週の会議は第二会議室で行います。資料を確認してください。", "plain", "iso-2022-jp")
    message: MIMEMultipart | MIMEText
    if attachment is None:
        message = body
    else:
        message = MIMEMultipart()
        message.attach(body)
        name, data = attachment
        part = MIMEApplication(data)
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
        message.attach(part)
    message["Subject"] = Header("会議室の変更", "iso-2022-jp").encode()
    message["From"] = "Yamada <yamada@example.jp>"
    message["To"] = "team@example.jp"
    message["Date"] = "Mon, 07 Dec 2026 10:30:00 +0900"
    return message.as_bytes()


def mislabelled_mail() -> bytes:
    """A Shift_JIS body declared ISO-2022-JP, as some mailers send it."""
    text = "見積書を添付します。ご確認ください。".encode("cp932")
    head = (
        b"From: sales@example.jp\r\nTo: buyer@example.jp\r\nSubject: =?ISO-2022-JP?B?"
        + __import__("base64").b64encode("見積".encode("iso2022_jp"))
        + b"?=\r\nDate: Tue, 08 Dec 2026 09:00:00 +0900\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head + text + b"\r\n"


def mbox(messages: list[bytes]) -> bytes:
    out = bytearray()
    for message in messages:
        out += b"From sender@example.jp Mon Dec  7 10:30:00 2026\n"
        out += message.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
        out += b"\n\n"
    return bytes(out)


def html_mail() -> bytes:
    message = EmailMessage()
    message["Subject"] = "お知らせ"
    message["From"] = "info@example.jp"
    message.set_content("<html><body><h1>新製品</h1><p>新しい電卓を発売します。</p></body></html>", subtype="html")
    return message.as_bytes()


# -- hostile files ------------------------------------------------------------------------


def zip_bomb_docx(out: Path, megabytes: int) -> Path:
    """A DOCX whose document part inflates to ``megabytes`` MB of spaces (a few hundred KB on disk)."""
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(chunk)
    return out


def truncated(source: Path, out: Path) -> Path:
    data = source.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


__all__ = [
    "PAGES_HTML",
    "REPORT_HTML",
    "chromium_pdf",
    "cid_pdf",
    "encrypted_pdf",
    "html_mail",
    "huge_pdf",
    "identity_h",
    "iso2022_mail",
    "mbox",
    "mislabelled_mail",
    "raw_pdf",
    "scanned_pdf",
    "truncated",
    "write_docx",
    "write_epub",
    "write_pptx",
    "write_xlsx",
    "zip_bomb_docx",
]
