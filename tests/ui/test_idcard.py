"""ID-card reader: the termb.dll interface against a real compiled fake, wedge, simulator."""

from __future__ import annotations

import ctypes
import datetime as dt
import subprocess

import pytest

from mzdesk.idcard import (
    ReaderError,
    SimulatedReader,
    TermbReader,
    check_card,
    parse_wedge,
)
from mzdesk.models.errors import FieldError
from tests.helpers import require_tool

FAKE_TERMB = r"""
#include <string.h>
static int opened = 0, card = 1;
static int put(char *buf, int *len, const char *s) {
    int n = (int)strlen(s); memcpy(buf, s, n); *len = n; return 1; }
int CVR_InitComm(int port) { opened = (port == 1001); return opened ? 1 : 0; }
int CVR_CloseComm(void) { opened = 0; return 1; }
int CVR_Authenticate(void) { return opened && card ? 1 : 0; }
int CVR_Read_Content(int active) { return opened && active == 4 ? 1 : 0; }
void fake_set_card(int on) { card = on; }
/* GBK bytes: 王秀英 / 女 / 汉 / 红旗村一组 */
int GetPeopleName(char *b, int *n) { return put(b, n, "\xcd\xf5\xd0\xe3\xd3\xa2"); }
int GetPeopleSex(char *b, int *n) { return put(b, n, "\xc5\xae"); }
int GetPeopleNation(char *b, int *n) { return put(b, n, "\xba\xba"); }
int GetPeopleBirthday(char *b, int *n) { return put(b, n, "19560308"); }
int GetPeopleAddress(char *b, int *n) { return put(b, n, "\xba\xec\xc6\xec\xb4\xe5\xd2\xbb\xd7\xe9"); }
int GetPeopleIDCode(char *b, int *n) { return put(b, n, "34162319560308002X"); }
int GetEndDate(char *b, int *n) { return put(b, n, "20200101"); }
"""


@pytest.fixture
def fake_dll(tmp_path):
    gcc = require_tool("gcc")
    src = tmp_path / "termb.c"
    src.write_text(FAKE_TERMB, encoding="utf-8")
    so = tmp_path / "libtermb.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    return so


def test_termb_backend_reads_a_card_through_ctypes(fake_dll):
    card = TermbReader.load(str(fake_dll)).read()
    assert (card.name, card.gender, card.ethnicity) == ("王秀英", "F", "汉")
    assert card.birth_date == dt.date(1956, 3, 8)
    assert card.address == "红旗村一组" and card.id_number == "34162319560308002X"
    assert card.valid_until == dt.date(2020, 1, 1) and card.photo is None
    warnings = check_card(card, typed_id="341623195603080003", today=dt.date(2026, 1, 1))
    assert any("已过有效期" in w for w in warnings) and any("不一致" in w for w in warnings)


def test_termb_backend_says_what_is_wrong(fake_dll, tmp_path):
    with pytest.raises(ReaderError) as exc:
        TermbReader.load(str(fake_dll), port=3).test()
    assert exc.value.code == "idcard_no_reader"
    assert "连接正常" in TermbReader.load(str(fake_dll)).test()
    ctypes.CDLL(str(fake_dll)).fake_set_card(0)
    with pytest.raises(ReaderError) as exc:
        TermbReader.load(str(fake_dll)).read()
    assert exc.value.code == "idcard_no_card"
    with pytest.raises(ReaderError) as exc:
        TermbReader.load(str(tmp_path / "missing.so"))
    assert exc.value.code == "idcard_no_driver"


def test_wedge_and_simulator():
    assert parse_wedge(" 34162319560308002x\n") == "34162319560308002X"
    with pytest.raises(FieldError):
        parse_wedge("341623195603080021")
    card = SimulatedReader().read()
    assert check_card(card, typed_id=card.id_number) == []
