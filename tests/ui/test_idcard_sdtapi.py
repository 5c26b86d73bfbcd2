"""The sdtapi.dll interface against a real compiled fake; card photos kept only on request."""

from __future__ import annotations

import ctypes
import datetime as dt
import stat
import subprocess

import pytest

from mzdesk.idcard import Card, ReaderError, SimulatedReader, TermbReader, check_card, save_photo
from mzdesk.idcard.sdtapi import SdtapiReader, ethnicity, parse_text
from tests.helpers import require_tool
from tests.ui.test_idcard import FAKE_TERMB

PHOTO = bytes(range(256)) * 4  # 1024 bytes, as the card's wlt block


def text_block(valid_end: str = "20201231") -> bytes:
    fields = [
        ("王秀英", 15),
        ("2", 1),
        ("01", 2),
        ("19560308", 8),
        ("安徽省利辛县城关镇红旗村一组", 35),
        ("34162319560308002x", 18),
        ("利辛县公安局", 15),
        ("20101231", 8),
        (valid_end, 8),
        ("", 18),
    ]
    out = b"".join(text.ljust(width).encode("utf-16-le") for text, width in fields)
    assert len(out) == 256
    return out


def c_bytes(data: bytes) -> str:
    return "{" + ",".join(str(b) for b in data) + "}"


def fake_sdtapi(valid_end: str) -> str:
    return f"""
#include <string.h>
static int opened = 0, card = 1, photo_asked = 0;
static const unsigned char TEXT[256] = {c_bytes(text_block(valid_end))};
static const unsigned char PHOTO[1024] = {c_bytes(PHOTO)};
int SDT_OpenPort(int port) {{ opened = (port == 1001); return opened ? 0x90 : 0x01; }}
int SDT_ClosePort(int port) {{ opened = 0; return 0x90; }}
int SDT_StartFindIDCard(int port, unsigned char *iin, int open) {{
    return opened && card ? 0x9f : 0x80; }}
int SDT_SelectIDCard(int port, unsigned char *sn, int open) {{ return opened ? 0x90 : 0x81; }}
int SDT_ReadBaseMsg(int port, unsigned char *ch, unsigned int *chlen,
                    unsigned char *ph, unsigned int *phlen, int open) {{
    if (!opened) return 0x41;
    memcpy(ch, TEXT, 256); *chlen = 256;
    memcpy(ph, PHOTO, 1024); *phlen = 1024;
    return 0x90; }}
void fake_set_card(int on) {{ card = on; }}
"""


def compile_fake(tmp_path, name: str, source: str):
    gcc = require_tool("gcc")
    src = tmp_path / f"{name}.c"
    src.write_text(source, encoding="utf-8")
    so = tmp_path / f"lib{name}.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    return so


@pytest.fixture
def fake_sdt(tmp_path):
    return compile_fake(tmp_path, "sdtapi", fake_sdtapi("20201231"))


def test_sdtapi_reads_a_card_through_ctypes(fake_sdt):
    card = SdtapiReader.load(str(fake_sdt)).read()
    assert (card.name, card.gender, card.ethnicity) == ("王秀英", "F", "汉")
    assert card.birth_date == dt.date(1956, 3, 8)
    assert card.address == "安徽省利辛县城关镇红旗村一组"
    assert card.id_number == "34162319560308002X"  # normalised: upper-case X
    assert card.valid_until == dt.date(2020, 12, 31)
    assert card.photo is None  # not kept unless the office enables it
    warnings = check_card(card, typed_id=card.id_number, today=dt.date(2026, 12, 5))
    assert warnings == ["证件已过有效期（2020-12-31），请提醒换证"]


def test_sdtapi_keeps_the_photo_only_when_asked(fake_sdt):
    card = SdtapiReader.load(str(fake_sdt), keep_photo=True).read()
    assert card.photo == PHOTO and card.photo_format == "wlt"


def test_sdtapi_long_valid_card_is_not_expired(tmp_path):
    so = compile_fake(tmp_path, "sdtlong", fake_sdtapi("长期"))
    card = SdtapiReader.load(str(so)).read()
    assert card.valid_until is None and check_card(card, today=dt.date(2099, 1, 1)) == []


def test_sdtapi_says_what_is_wrong(fake_sdt, tmp_path):
    with pytest.raises(ReaderError) as exc:
        SdtapiReader.load(str(fake_sdt), port=2).test()
    assert exc.value.code == "idcard_no_reader"
    assert SdtapiReader.load(str(fake_sdt)).test() == "读卡器连接正常（端口1001）"
    ctypes.CDLL(str(fake_sdt)).fake_set_card(0)
    with pytest.raises(ReaderError) as exc:
        SdtapiReader.load(str(fake_sdt)).read()
    assert exc.value.code == "idcard_no_card"
    with pytest.raises(ReaderError) as exc:
        SdtapiReader.load(str(tmp_path / "missing.so"))
    assert exc.value.code == "idcard_no_driver"


def test_text_block_and_ethnicity_codes():
    t = parse_text(text_block())
    assert t["authority"] == "利辛县公安局" and t["valid_from"] == "20101231"
    assert [ethnicity(c) for c in ("01", "08", "56", "97", "xx")] == [
        "汉",
        "壮",
        "基诺",
        "其他",
        "xx",
    ]


def test_termb_photo_only_when_kept(tmp_path):
    source = (
        FAKE_TERMB
        + r"""
int GetBMPData(unsigned char *b, int *n) { memcpy(b, "BMfake", 6); *n = 6; return 1; }
"""
    )
    so = compile_fake(tmp_path, "termbphoto", source)
    assert TermbReader.load(str(so)).read().photo is None
    assert TermbReader.load(str(so), keep_photo=True).read().photo == b"BMfake"


def test_a_kept_photo_is_written_for_the_owner_only(tmp_path):
    assert save_photo(tmp_path, SimulatedReader().read()) is None  # no photo, no file
    old = tmp_path / "photos" / "34162319560308002X.wlt"
    old.parent.mkdir()
    old.write_bytes(b"old")
    old.chmod(0o644)
    c = Card("王秀英", "F", "汉", dt.date(1956, 3, 8), "", "34162319560308002X", None, PHOTO, "wlt")
    path = save_photo(tmp_path / "photos", c)
    assert path == old and path.read_bytes() == PHOTO
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
