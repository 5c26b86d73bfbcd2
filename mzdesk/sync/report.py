"""What an import did, per table and in total (the sync page and ``sync import`` show it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..models.store import Store
from .common import TABLE_LABELS

REFUSED = "超出发送方权限"
SHOWN = 20  # refused records listed one by one in the text; the rest are counted


@dataclass
class TableReport:
    new: int = 0
    updated: int = 0
    merged: int = 0
    unchanged: int = 0
    conflicts: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ImportReport:
    sender: str
    sequence: int
    tables: dict[str, TableReport] = field(default_factory=dict)
    duplicates: list[dict] = field(default_factory=list)  # possible 重复享受 (masked IDs)
    acked: int = 0
    also_applied: list[int] = field(default_factory=list)  # held batches applied after this one
    then: list[ImportReport] = field(default_factory=list)  # and their reports, in that order
    # field laptop: households the sender withdrew ({"requested", "removed", "kept"})
    withdraw: dict = field(default_factory=dict)
    forgotten: int = 0  # township: households the field laptop confirmed it removed
    rekeyed: str = ""  # the sender's new key (fingerprint), vouched for by its old one
    # changes outside the sender's scope or role, not applied (mzdesk.sync.sender_scope):
    # {table, uid, reason, note}
    refused: list[dict] = field(default_factory=list)

    def table(self, name: str) -> TableReport:
        return self.tables.setdefault(name, TableReport())

    def refuse(self, table: str, entry: dict) -> None:
        """A change refused by the sender scope ({table, uid, reason, note}): listed, and
        its table named among the tables."""
        self.table(table)
        self.refused.append(entry)

    def totals(self) -> TableReport:
        t = TableReport()
        for r in self.tables.values():
            for k, v in r.__dict__.items():
                setattr(t, k, getattr(t, k) + v)
        return t

    def as_dict(self) -> dict:
        return {
            "sender": self.sender,
            "sequence": self.sequence,
            "acked": self.acked,
            "tables": {k: v.as_dict() for k, v in self.tables.items()},
            "totals": self.totals().as_dict(),
            "duplicates": self.duplicates,
            "also_applied": self.also_applied,
            "withdraw": self.withdraw,
            "forgotten": self.forgotten,
            "refused": self.refused,
            "then": [r.as_dict() for r in self.then],
        } | ({"rekeyed": self.rekeyed} if self.rekeyed else {})

    def text(self) -> str:
        """The report as the clerk reads it (sync page and ``sync import``)."""
        lines = [f"已导入站点 {self.sender} 的第 {self.sequence} 批"]
        if self.rekeyed:
            lines.append(
                f"站点 {self.sender} 已更换密钥（新指纹 {self.rekeyed}，由其原密钥签名确认），"
                "信任列表已更新"
            )
        for t, r in self.tables.items():
            lines.append(
                f"{TABLE_LABELS.get(t, t)}：新增 {r.new}，更新 {r.updated}（其中合并 "
                f"{r.merged}），未变 {r.unchanged}，冲突 {r.conflicts}"
            )
        if self.acked:
            lines.append(f"对方确认收到本站 {self.acked} 批")
        for d in self.duplicates:
            lines.append("⚠ " + d["note"])
        lines += refused_lines(self.refused)
        if self.withdraw.get("removed"):
            lines.append(
                f"已撤回 {len(self.withdraw['removed'])} 户：所在村已不再分配给本机，"
                "这些户的全部记录已从本机删除"
            )
        for k in self.withdraw.get("kept", []):
            lines.append(
                f"⚠ 暂未撤回 {k['village']} 户主{k['head_name']}：{k['reason']}；"
                "上传并经对方确认后自动撤回"
            )
        if self.forgotten:
            lines.append(f"对方已撤回 {self.forgotten} 户（其所在村已不再分配给该终端）")
        if self.also_applied:
            lines.append(f"并已导入此前暂存的第 {', '.join(map(str, self.also_applied))} 批：")
        for nxt in self.then:  # each with its own counts and warnings (重复享受 above all)
            lines.extend(nxt.text().splitlines())
        return "\n".join(lines)


def refused_lines(refused: list[dict]) -> list[str]:
    """The refused changes as the clerk reads them (report text, ``sync status``)."""
    if not refused:
        return []
    lines = [f"⚠ {REFUSED}：{len(refused)} 条更改未导入，也不会转发给其他站点"]
    for r in refused[:SHOWN]:
        note = r["note"].removeprefix(f"{REFUSED}：")
        lines.append(f"  {TABLE_LABELS.get(r['table'], r['table'])} {r['uid']}：{note}")
    if len(refused) > SHOWN:
        lines.append(f"  …另有 {len(refused) - SHOWN} 条")
    return lines


def refusals(store: Store) -> list[dict]:
    """Every change refused by the sender scope, newest batch first: the reports kept with
    the incoming batches (``sync status``).  Each: peer, seq, table, uid, reason, note."""
    out = []
    for peer, seq, report in store.conn.execute(
        "SELECT peer, seq, report FROM sync_batches WHERE direction = 'in' "
        "AND report LIKE '%\"refused\": [{%' ORDER BY id DESC"
    ):
        # each batch keeps its own report (a held batch applied later has its own row)
        out += [{"peer": peer, "seq": seq, **r} for r in json.loads(report).get("refused", [])]
    return out
