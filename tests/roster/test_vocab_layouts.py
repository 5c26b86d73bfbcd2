"""Real roster layouts read by their values (issue 23): 城乡 by village, category in a
保障类别 column, 边缘/刚性支出 titles, wide member columns, two header rows of amounts,
provincial 救助类型 labels, unknown values listed once, 存量 versus 新增."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook, load_workbook

from mzdesk.roster.exporter import ACCOUNT_MARK, export_payment_roster
from mzdesk.roster.importer import analyse, import_roster
from mzdesk.roster.monthly import monthly_stats
from tests.helpers import make_id

MONTH = dt.date(2026, 11, 1)


def book(path, title: str | None, headers: list, rows: list, sheet="Sheet1", sub=None, merges=()):
    """A one-sheet roster: an optional title row, one or two header rows, data rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
    ws.append(headers)
    if sub:
        ws.append(sub)
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    wb.save(path)
    return path


def counts(report: dict) -> dict:
    return report["problem_counts"]


def enrolments(store) -> list[dict]:
    return list(
        store.db.query(
            "SELECT e.id, e.category, e.class, e.monthly_fen, e.start_on, e.support_mode, "
            "e.institution, e.member_id, h.village, h.area_type FROM enrolments e "
            "JOIN households h ON h.id = e.household_id WHERE e.status = 'active' ORDER BY e.id"
        )
    )


def parts(store) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for r in store.db.query(
        "SELECT enrolment_id, component, fen FROM enrolment_components WHERE status = 'active'"
    ):
        out.setdefault(r["enrolment_id"], {})[r["component"]] = r["fen"]
    return out


def snapshot(store) -> tuple:
    """Everything an import writes, to show a second import changes nothing."""
    q = store.conn.execute
    return tuple(
        q(sql).fetchall()
        for sql in (
            "SELECT id, rev, village, area_type, bank_account, notes FROM households ORDER BY id",
            "SELECT id, name, relation, id_number FROM members ORDER BY id",
            "SELECT id, rev, category, class, monthly_fen, start_on, support_mode FROM enrolments",
            "SELECT id, component, fen FROM enrolment_components ORDER BY id",
        )
    )


def ids(n: int, start=1) -> list[str]:
    return [make_id(f"19{50 + i:02d}0101", 10 + i) for i in range(start, start + n)]


# -- 城乡低保 with a class column: 城乡 from the village ------------------------------------
def test_urban_rural_roster_decides_by_village_and_class_values(store, today, tmp_path):
    p = ids(6)
    path = book(
        tmp_path / "城乡.xlsx",
        "青山镇城乡低保对象花名册",
        ["序号", "村(社区)", "户主姓名", "身份证号码", "保障人口", "类别", "月保障金"],
        [
            [1, "红旗村", "甲", p[0], 2, "A类", 800],
            [2, "幸福社区", "乙", p[1], 1, "C类", 300],
            [3, "东风村", "丙", p[2], 3, "重点保障户", 900],
            [4, "城关居委会", "丁", p[3], 1, "B类", 500],
            [5, "石桥", "戊", p[4], 1, "A类", 400],  # neither 村 nor 社区: not decided
            [6, "石桥", "己", p[5], 1, "C类", 300],
        ],
    )
    report = analyse(store, path, today=today).report()
    assert report["sheets"][0]["category"] == "dibao"
    assert counts(report) == {"unknown_value": 1}  # listed once, with its count
    (u,) = report["unknown_values"]
    assert (u["column"], u["value"], u["count"], u["first_row"]) == ("村(社区)", "石桥", 2, 7)
    assert u["choices"] == ["城市", "农村"]
    assert report["errors"] == 0 and report["skipped_enrolments"] == 2
    done = import_roster(store, path, month=MONTH, today=today)
    assert done["created"] == 6  # every household; only the two rows' enrolments held back
    got = [(e["village"], e["category"], e["class"], e["area_type"]) for e in enrolments(store)]
    assert got == [
        ("红旗村", "rural_dibao", "一类", "rural"),
        ("幸福社区", "urban_dibao", "三类", "urban"),
        ("东风村", "rural_dibao", "一类", "rural"),
        ("城关居委会", "urban_dibao", "二类", "urban"),
    ]
    # the clerk maps the value; the held-back rows now import, the rest is unchanged
    again = import_roster(
        store, path, mapping={"values": {"村(社区)": {"石桥": "农村"}}}, month=MONTH, today=today
    )
    assert again["problem_counts"] == {} and again["updated"] == 2 and again["unchanged"] == 4
    assert [e["category"] for e in enrolments(store)][4:] == ["rural_dibao", "rural_dibao"]
    before = snapshot(store)
    third = import_roster(
        store, path, mapping={"values": {"村(社区)": {"石桥": "农村"}}}, month=MONTH, today=today
    )
    assert third["unchanged"] == 6 and snapshot(store) == before


def test_area_column_decides_before_the_village(store, today, tmp_path):
    p = ids(2)
    path = book(
        tmp_path / "a.xlsx",
        "城乡低保名册",
        ["村(社区)", "户主姓名", "身份证号码", "户籍类型", "档次", "月保障金"],
        [
            ["幸福社区", "甲", p[0], "农业户口", "一类", 500],
            ["红旗村", "乙", p[1], "城镇", "二类", 400],
        ],
    )
    import_roster(store, path, month=MONTH, today=today)
    assert [(e["category"], e["area_type"]) for e in enrolments(store)] == [
        ("rural_dibao", "rural"),
        ("urban_dibao", "urban"),
    ]


# -- a 保障类别 column holding categories; 特困 self-care and 供养方式 ----------------------
def test_category_in_a_class_named_column_with_selfcare_and_support(store, today, tmp_path):
    p = ids(4)
    path = book(
        tmp_path / "b.xlsx",
        None,
        [
            "村(社区)",
            "户主姓名",
            "身份证号码",
            "保障类别",
            "生活自理能力",
            "供养方式",
            "供养机构",
            "月保障金",
        ],
        [
            ["红旗村", "甲", p[0], "农村低保", None, None, None, 600],
            ["红旗村", "乙", p[1], "特困", "具备生活自理能力", "集中供养", "青山敬老院", 900],
            ["东风村", "丙", p[2], "特困", "部分丧失生活自理能力", "分散", None, 1100],
            ["东风村", "丁", p[3], "特困", "完全丧失生活自理能力", "分散供养", None, 1500],
        ],
    )
    report = analyse(store, path, today=today).report()
    cols = {c["header"]: c["field"] for c in report["sheets"][0]["columns"].values()}
    assert cols["保障类别"] == "category" and cols["生活自理能力"] == "selfcare"
    assert counts(report) == {}
    import_roster(store, path, month=MONTH, today=today)
    got = [
        (e["category"], e["class"], e["support_mode"], e["institution"]) for e in enrolments(store)
    ]
    assert got == [
        ("rural_dibao", "", "", ""),
        ("tekun", "全自理", "concentrated", "青山敬老院"),
        ("tekun", "半自理", "dispersed", ""),
        ("tekun", "全护理", "dispersed", ""),
    ]
    assert [e["member_id"] is not None for e in enrolments(store)] == [False, True, True, True]


# -- titles that select a category -------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("青山镇城市低保边缘户花名册", "dibao_edge"),
        ("2026年农村低保边缘家庭名册", "dibao_edge"),
        ("刚性支出困难家庭花名册", "rigid_expense"),
    ],
)
def test_title_selects_edge_and_rigid_expense(store, today, tmp_path, title, code):
    p = ids(2)
    path = book(
        tmp_path / "t.xlsx",
        title,
        ["村(社区)", "户主姓名", "身份证号码", "保障人口"],
        [["幸福社区", "甲", p[0], 2], ["红旗村", "乙", p[1], 1]],
    )
    report = import_roster(store, path, month=MONTH, today=today)
    assert report["sheets"][0]["category"] == code and counts(report) == {}
    assert [(e["category"], e["monthly_fen"]) for e in enrolments(store)] == [(code, 0), (code, 0)]
    # monitored, no monthly cash: never on the month's paid figures
    assert monthly_stats(store, MONTH)["total"]["households"] == 0


def test_single_person_title_enrols_the_person(store, today, tmp_path):
    p = ids(1)
    path = book(
        tmp_path / "s.xlsx",
        "农村低保单人保花名册",
        ["村(社区)", "户主姓名", "身份证号码", "月保障金"],
        [["红旗村", "甲", p[0], 700]],
    )
    report = import_roster(store, path, month=MONTH, today=today)
    assert report["sheets"][0]["single"] is True
    (e,) = enrolments(store)
    assert e["category"] == "rural_dibao" and e["member_id"] is not None


# -- wide layout: 成员一姓名 … -------------------------------------------------------------
def test_wide_member_columns(store, today, tmp_path):
    p = ids(7)
    headers = ["序号", "村(社区)", "户主姓名", "户主身份证号", "保障人口", "月保障金"]
    for n in "一二三":
        headers += [f"成员{n}姓名", f"成员{n}与户主关系", f"成员{n}身份证号"]
    path = book(
        tmp_path / "w.xlsx",
        "农村低保花名册",
        headers,
        [
            [
                1,
                "红旗村",
                "甲",
                p[0],
                3,
                700,
                "甲妻",
                "配偶",
                p[1],
                "甲子",
                "子",
                p[2],
                None,
                None,
                None,
            ],
            [2, "红旗村", "乙", p[3], 1, 300, None, None, None, None, None, None, None, None, None],
            [
                3,
                "东风村",
                "丙",
                p[4],
                3,
                900,
                "丙",
                "户主",
                p[4],
                "丙妻",
                "妻",
                p[5],
                "丙女",
                "女",
                p[6],
            ],
        ],
    )
    report = analyse(store, path, today=today).report()
    assert report["sheets"][0]["wide_members"] == 3 and report["sheets"][0]["mode"] == "household"
    assert (report["households"], report["members"]) == (3, 7)  # the head listed again: once
    assert counts(report) == {}
    import_roster(store, path, month=MONTH, today=today)
    rels = store.conn.execute("SELECT relation FROM members ORDER BY id").fetchall()
    assert [r[0] for r in rels] == ["户主", "配偶", "子", "户主", "户主", "配偶", "女"]


# -- two header rows: 领取金额 over 家庭补差 / 重点救助 / 合计 ----------------------------------
def test_two_header_rows_group_amounts_into_components(store, today, tmp_path):
    p = ids(3)
    path = book(
        tmp_path / "g.xlsx",
        "农村低保发放花名册",
        ["序号", "村(社区)", "户主姓名", "身份证号码", "保障人口", "领取金额", None, None],
        [
            [1, "红旗村", "甲", p[0], 2, 600, 100, 700],
            [2, "红旗村", "乙", p[1], 1, 300, None, 300],
            [3, "东风村", "丙", p[2], 2, 500, 80, 600],  # 500 + 80 is not 600
        ],
        sub=[None, None, None, None, None, "家庭补差", "重点救助", "合计"],
        merges=("A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3", "F2:H2"),
    )
    report = analyse(store, path, today=today).report()
    cols = {c["header"]: c["field"] for c in report["sheets"][0]["columns"].values()}
    assert (cols["家庭补差"], cols["重点救助"], cols["合计"]) == ("monthly", "classified", "total")
    assert counts(report) == {"total_mismatch": 1}
    (bad,) = report["problems"]
    assert (bad["row"], bad["column"], bad["severity"]) == (6, "合计", "skip")
    import_roster(store, path, month=MONTH, today=today)
    es = enrolments(store)
    assert [e["monthly_fen"] for e in es] == [70000, 30000]  # the mismatched row held back
    assert parts(store) == {es[0]["id"]: {"base": 60000, "classified": 10000}}
    stats = monthly_stats(store, MONTH)
    assert stats["totals"]["rural_dibao"]["components_fen"] == {"base": 90000, "classified": 10000}


# -- provincial person-file headers in one file -----------------------------------------------
PROVINCIAL = [
    "所属街",
    "所属社",
    "户主姓名",
    "户主身份证号",
    "姓名",
    "与户主关系",
    "身份证号",
    "救助类型",
    "户籍类型",
    "享受保障人数",
    "户月保障金额（元）",
    "家庭分类施保总额（元）",
    "人员分类施保总额（元）",
    "合计（元）",
    "银行帐号",
    "低保（特困）证号",
    "最初享受月份",
    "分类施保类别",
]


def provincial(path, p):
    return book(
        path,
        None,
        PROVINCIAL,
        [
            [
                "青山镇",
                "红旗村",
                "甲",
                p[0],
                "甲",
                "户主",
                p[0],
                "农村最低生活保障对象",
                "农业",
                2,
                600,
                50,
                30,
                700,
                6228480012345678912,
                "D001",
                "2019-03",
                "重病",
            ],
            [
                None,
                None,
                "甲",
                p[0],
                "甲妻",
                "配偶",
                p[1],
                "农村最低生活保障对象",
                None,
                None,
                None,
                None,
                20,
                None,
                None,
                None,
                None,
                None,
            ],
            [
                "青山镇",
                "幸福社区",
                "乙",
                p[2],
                "乙",
                "户主",
                p[2],
                "城市最低生活保障对象",
                "非农业",
                1,
                500,
                None,
                None,
                500,
                "6228480098765432",
                "D002",
                None,
                None,
            ],
            [
                "青山镇",
                "红旗村",
                "丙",
                p[3],
                "丙",
                "户主",
                p[3],
                "农村特困人员（分散供养）",
                "农业",
                1,
                900,
                None,
                None,
                900,
                None,
                "T003",
                "2026-11",
                None,
            ],
        ],
        sheet="人员查询",
    )


def test_provincial_headers_labels_parts_account_and_first_month(store, today, tmp_path):
    path = provincial(tmp_path / "人员查询.xlsx", ids(4))
    report = analyse(store, path, today=today).report()
    cols = {c["header"]: c["field"] for c in report["sheets"][0]["columns"].values()}
    assert cols["所属社"] == "village" and cols["银行帐号"] == "bank_account"
    assert cols["最初享受月份"] == "first_month" and cols["户籍类型"] == "area_type"
    assert cols["享受保障人数"] == "covered" and cols["合计（元）"] == "total"
    assert counts(report) == {"account_precision_lost": 1}
    (acc,) = report["problems"]
    assert (acc["row"], acc["column"], acc["severity"]) == (2, "银行帐号", "flag")
    assert report["monthly_total_fen"] == 70000 + 50000 + 90000
    import_roster(store, path, month=MONTH, today=today)
    es = enrolments(store)
    assert [(e["category"], e["monthly_fen"], e["start_on"]) for e in es] == [
        ("rural_dibao", 70000, "2019-03-01"),
        ("urban_dibao", 50000, "2026-11-01"),
        ("tekun", 90000, "2026-11-01"),
    ]
    assert es[2]["support_mode"] == "dispersed"
    assert parts(store)[es[0]["id"]] == {"base": 60000, "classified": 10000}
    accounts = store.conn.execute(
        "SELECT bank_account, notes FROM households ORDER BY id"
    ).fetchall()
    assert accounts[0][0] == "" and "银行账号待核实" in accounts[0][1]
    assert "622848001234567…" in accounts[0][1]  # the 15 digits Excel kept, none made up
    assert "6228480012345678" not in accounts[0][1]
    assert accounts[1][0] == "6228480098765432" and "证号：D002" in accounts[1][1]
    # the 清册 marks the account to verify
    out = tmp_path / "清册.xlsx"
    export_payment_roster(store, MONTH, out)
    wb = load_workbook(out)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert ACCOUNT_MARK in cells and "6228480098765432" in cells
    # 存量 versus 新增: 2019 is not new; no month given is before mzdesk, not new either;
    # 特困 whose 最初享受月份 is this month really started now
    stats = monthly_stats(store, MONTH)["totals"]
    assert stats["rural_dibao"]["new"] == 0 and stats["urban_dibao"]["new"] == 0
    assert stats["tekun"]["new"] == 1
    before = snapshot(store)
    again = import_roster(store, path, month=MONTH, today=today)
    assert again["unchanged"] == 3 and snapshot(store) == before


def test_existing_roster_is_stock_not_new(store, today, tmp_path):
    """Before issue 23 every household of a roster imported in month M was 当月新增."""
    p = ids(3)
    path = book(
        tmp_path / "n.xlsx",
        "农村低保花名册",
        ["村(社区)", "户主姓名", "身份证号码", "月保障金"],
        [["红旗村", "甲", p[0], 500], ["红旗村", "乙", p[1], 400], ["东风村", "丙", p[2], 300]],
    )
    import_roster(store, path, month=MONTH, today=today)
    total = monthly_stats(store, MONTH)["totals"]["rural_dibao"]
    assert (total["households"], total["new"]) == (3, 0)


# -- unknown values and the value mapping ------------------------------------------------------
def test_unknown_values_listed_once_and_mapped(store, today, tmp_path):
    p = ids(5)
    path = book(
        tmp_path / "u.xlsx",
        "农村低保花名册",
        ["村(社区)", "户主姓名", "身份证号码", "类别", "月保障金"],
        [
            ["红旗村", "甲", p[0], "A类", 500],
            ["红旗村", "乙", p[1], "丙类", 300],
            ["红旗村", "丙", p[2], "丙类", 300],
            ["东风村", "丁", p[3], "丙类", 300],
            ["东风村", "戊", p[4], "C类", 300],
        ],
    )
    report = analyse(store, path, today=today).report()
    assert report["unknown_values"] == [
        {
            "sheet": "Sheet1",
            "column": "类别",
            "field": "class",
            "value": "丙类",
            "count": 3,
            "first_row": 4,
            "choices": ["一类", "二类", "三类"],
        }
    ]
    assert counts(report) == {"unknown_value": 1} and report["errors"] == 0
    mapped = analyse(store, path, mapping={"values": {"类别": {"丙类": "三类"}}}, today=today)
    assert mapped.report()["problems"] == []
    import_roster(store, path, mapping={"values": {"类别": {"丙类": "三类"}}}, today=today)
    assert [e["class"] for e in enrolments(store)] == ["一类", "三类", "三类", "三类", "三类"]
    # remembered with the layout: the next analysis needs no mapping
    assert analyse(store, path, today=today).report()["problems"] == []


def test_value_mapping_is_checked(store, today, tmp_path):
    from mzdesk.models.errors import MzError

    path = book(
        tmp_path / "x.xlsx",
        None,
        ["村(社区)", "户主姓名", "身份证号码"],
        [["红旗村", "甲", ids(1)[0]]],
    )
    with pytest.raises(MzError, match="values.类别.C类"):
        analyse(store, path, mapping={"values": {"类别": {"C类": 3}}}, today=today)


# -- every vocabulary word ------------------------------------------------------------------
def test_every_vocabulary_word_is_read(store, today, tmp_path):
    """Each category label, class word, 城乡 word and 供养方式 of resources/roster_vocab.json
    and each self-care label of selfcare.json, in a generated roster: read, never unknown."""
    from mzdesk.models.categories import categories
    from mzdesk.models.selfcare import levels
    from mzdesk.roster.vocab import vocab

    v = vocab()
    cats = categories(store)
    known = set(cats) | set(v["area_categories"])
    assert set(v["categories"].values()) <= known  # every label names a real category
    rows = []
    n = 0

    def row(village, category, cls=None, area=None, selfcare=None, mode=None):
        nonlocal n
        n += 1
        person = make_id(f"19{40 + n % 50:02d}0101", 100 + n)
        rows.append([village, f"户主{n}", person, category, cls, area, selfcare, mode, 300])

    for label, code in v["categories"].items():
        if cats.get(code, {}).get("payment") in ("one_off",):
            continue  # 临时救助/医疗救助 are cases, not roster enrolments
        row("红旗村", label)
    for word in v["classes"]:
        if v["classes"][word] in cats["rural_dibao"]["classes"]:
            row("红旗村", "农村低保", cls=word)
    for word in v["area_types"]:
        row("石桥", "低保", area=word)
    for level in levels():
        for label in level["labels"]:
            row("红旗村", "特困", selfcare=label, mode="分散")
    for word in v["support_modes"]:
        row("红旗村", "特困", selfcare="自理", mode=word)
    path = book(
        tmp_path / "v.xlsx",
        None,
        [
            "村(社区)",
            "户主姓名",
            "身份证号码",
            "救助类型",
            "档次",
            "户籍类型",
            "生活自理能力",
            "供养方式",
            "月保障金",
        ],
        rows,
    )
    report = analyse(store, path, today=today).report()
    assert report["unknown_values"] == []
    assert not {"unknown_value", "unknown_category"} & set(counts(report))
    assert report["households"] == len(rows)


def test_cli_mapping_maps_values(capsys, store, tmp_path):
    """`roster import --mapping` with "values": the existing file format plus a values key."""
    import json

    from mzdesk.cli import main

    p = ids(2)
    path = book(
        tmp_path / "c.xlsx",
        "农村低保花名册",
        ["村(社区)", "户主姓名", "身份证号码", "类别", "月保障金"],
        [["红旗村", "甲", p[0], "丙类", 500], ["红旗村", "乙", p[1], "A类", 400]],
    )

    def run(*args) -> tuple[int, dict]:
        try:
            main(["roster", "import", str(path), "--db", str(store.path), "--json", *args])
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        return code, json.loads(capsys.readouterr().out)

    code, report = run("--dry-run")
    assert code == 1 and report["unknown_values"][0]["value"] == "丙类"
    m = tmp_path / "m.json"
    mapping = {"columns": {"E": "monthly"}, "values": {"类别": {"丙类": "三类"}}}
    m.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    code, report = run("--mapping", str(m), "--month", "2026-11")
    assert code == 0 and report["problems"] == [] and report["created"] == 2
    assert [e["class"] for e in enrolments(store)] == ["三类", "一类"]
