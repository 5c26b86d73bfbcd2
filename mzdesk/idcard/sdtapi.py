"""The ``sdtapi.dll`` reader interface (公安部 SDT_* functions), loaded with ctypes.

Most second-generation readers that do not ship ``termb.dll`` ship this one (often with
``WltRS.dll`` to decode the photo).  A read is: open the port, find the card
(``SDT_StartFindIDCard`` answers 0x9F), select it, then ``SDT_ReadBaseMsg`` gives 256
bytes of text in UCS-2 (little endian) at fixed offsets and 1024 bytes of photo in the
card's own compressed ``wlt`` format.  Every other call answers 0x90 on success.

The photo is read only when the office keeps photos (``keep_photo``); it is kept as the
card gives it (``wlt``), decoding needs the vendor's ``WltRS.dll``.
"""

from __future__ import annotations

import ctypes

from ..models.ids import normalise_id
from . import Card, ReaderError, card_date, card_gender

OK = 0x90
CARD_FOUND = 0x9F

# (start, end) byte offsets in the 256-byte text block
TEXT_FIELDS = {
    "name": (0, 30),
    "gender": (30, 32),
    "ethnicity": (32, 36),
    "birth": (36, 52),
    "address": (52, 122),
    "id_number": (122, 158),
    "authority": (158, 188),
    "valid_from": (188, 204),
    "valid_end": (204, 220),
}

# GB 3304 ethnicity codes as the card stores them
ETHNICITIES = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 "
    "高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 "
    "普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 "
    "珞巴 基诺"
).split()


def ethnicity(code: str) -> str:
    """``'01'`` → ``'汉'``; 97 其他, 98 外国血统中国籍人士; an unknown code as it is."""
    code = code.strip()
    special = {"97": "其他", "98": "外国血统中国籍人士"}
    if code in special:
        return special[code]
    if code.isdigit() and 1 <= int(code) <= len(ETHNICITIES):
        return ETHNICITIES[int(code) - 1]
    return code


def parse_text(block: bytes) -> dict[str, str]:
    """The fields of ``SDT_ReadBaseMsg``'s text block (UCS-2 LE, space padded)."""
    return {
        key: block[a:b].decode("utf-16-le", errors="replace").strip("\x00 ").strip()
        for key, (a, b) in TEXT_FIELDS.items()
    }


class SdtapiReader:
    """The ``sdtapi.dll`` family; ``port`` 1001-1016 is USB, 1-16 a serial port."""

    def __init__(self, lib: ctypes.CDLL, port: int = 1001, keep_photo: bool = False) -> None:
        self.lib, self.port, self.keep_photo = lib, port, keep_photo
        byte_p, uint_p, c_int = (
            ctypes.POINTER(ctypes.c_ubyte),
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_int,
        )
        signatures = {
            "SDT_OpenPort": [c_int],
            "SDT_ClosePort": [c_int],
            "SDT_StartFindIDCard": [c_int, byte_p, c_int],
            "SDT_SelectIDCard": [c_int, byte_p, c_int],
            "SDT_ReadBaseMsg": [c_int, byte_p, uint_p, byte_p, uint_p, c_int],
        }
        for name, args in signatures.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, c_int

    @classmethod
    def load(cls, path: str, port: int = 1001, keep_photo: bool = False) -> SdtapiReader:
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            raise ReaderError(f"无法加载读卡器驱动：{path}（{exc}）", "idcard_no_driver") from exc
        return cls(lib, port, keep_photo)

    def _open(self) -> None:
        if self.lib.SDT_OpenPort(self.port) != OK:
            raise ReaderError(f"读卡器未连接（端口{self.port}）", "idcard_no_reader")

    def test(self) -> str:
        self._open()
        self.lib.SDT_ClosePort(self.port)
        return f"读卡器连接正常（端口{self.port}）"

    def read(self) -> Card:
        self._open()
        try:
            scratch = (ctypes.c_ubyte * 64)()
            if self.lib.SDT_StartFindIDCard(self.port, scratch, 0) != CARD_FOUND:
                raise ReaderError("未检测到证件，请把身份证放在读卡器上", "idcard_no_card")
            if self.lib.SDT_SelectIDCard(self.port, scratch, 0) != OK:
                raise ReaderError("读取证件信息失败，请重新放卡", "idcard_read_failed")
            text, photo = (ctypes.c_ubyte * 256)(), (ctypes.c_ubyte * 1024)()
            text_len, photo_len = ctypes.c_uint(0), ctypes.c_uint(0)
            status = self.lib.SDT_ReadBaseMsg(
                self.port, text, ctypes.byref(text_len), photo, ctypes.byref(photo_len), 0
            )
            if status != OK:
                raise ReaderError("读取证件信息失败，请重新放卡", "idcard_read_failed")
        finally:
            self.lib.SDT_ClosePort(self.port)
        t = parse_text(bytes(text)[: min(text_len.value, 256)])
        birth = card_date(t["birth"])
        if birth is None:
            raise ReaderError("证件出生日期无法识别", "idcard_read_failed")
        kept = bytes(photo)[: min(photo_len.value, 1024)] if self.keep_photo else b""
        return Card(
            name=t["name"],
            gender=card_gender(t["gender"]),
            ethnicity=ethnicity(t["ethnicity"]),
            birth_date=birth,
            address=t["address"],
            id_number=normalise_id(t["id_number"]),
            valid_until=card_date(t["valid_end"]),
            photo=kept or None,
            photo_format="wlt",
        )
