"""ID-card reader input (身份证读卡器): one interface, three backends, no Qt.

* :class:`TermbReader`: the vendor SDK most desktop readers ship on Windows
  (``termb.dll``: CVR_InitComm / CVR_Authenticate / CVR_Read_Content /
  GetPeopleName ...), loaded with ctypes;
* :class:`mzdesk.idcard.sdtapi.SdtapiReader`: the other common SDK (``sdtapi.dll``:
  SDT_OpenPort / SDT_StartFindIDCard / SDT_SelectIDCard / SDT_ReadBaseMsg);
* :func:`parse_wedge`: readers and scanners that type the number like a keyboard;
* :class:`SimulatedReader`: tests and the demo.

A read gives a :class:`Card`; :func:`check_card` compares it with what was typed
and with the card's validity end date.  No reader configured means no error.
The card photo is read and kept only when the office enables it (:func:`save_photo`
writes it readable by the clerk's account alone).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..models.errors import MzError
from ..models.ids import normalise_id, parse_id


class ReaderError(MzError):
    """The reader could not be opened or read."""


@dataclass(frozen=True)
class Card:
    name: str
    gender: str  # M / F
    ethnicity: str
    birth_date: dt.date
    address: str
    id_number: str
    valid_until: dt.date | None = None  # None: 长期
    photo: bytes | None = None  # only when the office keeps photos
    photo_format: str = "bmp"  # termb gives a bitmap, sdtapi the card's wlt


class Reader(Protocol):
    def test(self) -> str: ...
    def read(self) -> Card: ...


def card_date(text: str) -> dt.date | None:
    text = text.strip()
    if not text or text == "长期":
        return None
    return dt.datetime.strptime(text[:8], "%Y%m%d").date()


def card_gender(text: str) -> str:
    return "F" if text.strip() in ("女", "2") else "M"


class SimulatedReader:
    """Gives back the card it was made with (or a fixed demo card)."""

    def __init__(self, card: Card | None = None) -> None:
        self.card = card or Card(
            name="王秀英",
            gender="F",
            ethnicity="汉",
            birth_date=dt.date(1956, 3, 8),
            address="安徽省亳州市利辛县城关镇红旗村一组",
            id_number="34162319560308002" + "X",
            valid_until=None,
        )

    def test(self) -> str:
        return "模拟读卡器：连接正常"

    def read(self) -> Card:
        return self.card


class TermbReader:
    """The termb.dll family (CVR_* and GetPeople*), loaded with ctypes.

    ``lib`` is anything with those functions (a ctypes.CDLL or WinDLL); ``port``
    1001-1016 is USB, 1-16 a serial port.
    """

    FIELDS = {
        "name": "GetPeopleName",
        "gender": "GetPeopleSex",
        "ethnicity": "GetPeopleNation",
        "birth": "GetPeopleBirthday",
        "address": "GetPeopleAddress",
        "id_number": "GetPeopleIDCode",
        "valid_end": "GetEndDate",
    }

    def __init__(self, lib: ctypes.CDLL, port: int = 1001, keep_photo: bool = False) -> None:
        self.lib, self.port, self.keep_photo = lib, port, keep_photo
        for fn in self.FIELDS.values():
            getattr(lib, fn).argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
            getattr(lib, fn).restype = ctypes.c_int

    @classmethod
    def load(cls, path: str, port: int = 1001, keep_photo: bool = False) -> TermbReader:
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            raise ReaderError(f"无法加载读卡器驱动：{path}（{exc}）", "idcard_no_driver") from exc
        return cls(lib, port, keep_photo)

    def _open(self) -> None:
        if self.lib.CVR_InitComm(self.port) != 1:
            raise ReaderError(f"读卡器未连接（端口{self.port}）", "idcard_no_reader")

    def test(self) -> str:
        self._open()
        self.lib.CVR_CloseComm()
        return f"读卡器连接正常（端口{self.port}）"

    def _photo(self) -> bytes | None:
        """The photo as a bitmap (``GetBMPData``, where the driver has it), if kept."""
        if not self.keep_photo:
            return None
        try:
            fn = self.lib.GetBMPData
        except AttributeError:  # an older driver: it only writes zp.bmp beside itself
            return None
        buf = ctypes.create_string_buffer(65536)
        n = ctypes.c_int(65536)
        if fn(buf, ctypes.byref(n)) != 1 or n.value <= 0:
            return None
        return buf.raw[: n.value]

    def _text(self, fn: str) -> str:
        buf = ctypes.create_string_buffer(256)
        n = ctypes.c_int(256)
        if getattr(self.lib, fn)(buf, ctypes.byref(n)) != 1:
            raise ReaderError("读取证件信息失败，请重新放卡", "idcard_read_failed")
        return buf.raw[: n.value].decode("gbk").strip("\x00 ").strip()

    def read(self) -> Card:
        self._open()
        try:
            if self.lib.CVR_Authenticate() != 1:
                raise ReaderError("未检测到证件，请把身份证放在读卡器上", "idcard_no_card")
            if self.lib.CVR_Read_Content(4) != 1:
                raise ReaderError("读取证件信息失败，请重新放卡", "idcard_read_failed")
            t = {k: self._text(fn) for k, fn in self.FIELDS.items()}
            photo = self._photo()
        finally:
            self.lib.CVR_CloseComm()
        birth = card_date(t["birth"])
        if birth is None:
            raise ReaderError("证件出生日期无法识别", "idcard_read_failed")
        return Card(
            name=t["name"],
            gender=card_gender(t["gender"]),
            ethnicity=t["ethnicity"].removesuffix("族") if t["ethnicity"] != "" else "",
            birth_date=birth,
            address=t["address"],
            id_number=normalise_id(t["id_number"]),
            valid_until=card_date(t["valid_end"]),
            photo=photo,
        )


def parse_wedge(typed: str) -> str:
    """What a keyboard-wedge reader typed (the number, maybe with Enter) → the ID."""
    return parse_id(typed.strip()).number


def check_card(card: Card, typed_id: str = "", today: dt.date | None = None) -> list[str]:
    """Warnings for the clerk: expired card, number differs from the one typed."""
    today = today or dt.date.today()
    out = []
    if card.valid_until is not None and card.valid_until < today:
        out.append(f"证件已过有效期（{card.valid_until:%Y-%m-%d}），请提醒换证")
    if typed_id.strip() and normalise_id(typed_id) != card.id_number:
        out.append("读卡号码与已录入的身份证号不一致，请核对")
    return out


def save_photo(folder: str | Path, card: Card) -> Path | None:
    """Write the card's photo as ``<ID>.<format>`` in ``folder``, readable by the owner
    only (0600: a photo of a person is personal data); None when the card has none."""
    if not card.photo:
        return None
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{card.id_number}.{card.photo_format}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(card.photo)
    os.chmod(path, 0o600)  # also when the file was there before with wider rights
    return path
