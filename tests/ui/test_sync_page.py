"""Sync page: a township exports to the county and imports its answer, sees a conflict side by
side and resolves it, and a refused batch leaves a message and no change."""

from __future__ import annotations

from mzdesk.models.demo import generate_demo
from mzdesk.sync.history import pending_acks
from mzdesk.sync.keys import PublicKey
from mzdesk.ui.sync_page import SyncPage
from tests.sync.sites import edit, fingerprint, link, make_site
from tests.sync.test_keys_and_age import _zbar


def wait_done(qtbot, page):
    qtbot.waitUntil(
        lambda: page._task is not None and not page._task.thread.isRunning(), timeout=20000
    )


def test_sync_page_export_import_conflict(qtbot, tmp_path):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    f = make_site(tmp_path, "341623101001", "入户终端", "field")
    link(t, c)
    generate_demo(t.store, 6, seed=4)
    village = t.store.scalar("SELECT village FROM households ORDER BY id LIMIT 1")
    link(t, f, villages=[village])
    page = SyncPage(t.store)
    qtbot.addWidget(page)
    assert page.dest.count() == 2 and "指纹" in page.own_key.text()
    # roles by their Chinese names, here and in the trusted-sites table
    assert page.site_label.text() == "本站：341623101 青山镇（乡镇）"
    roles = {page.trusted.item(r, 2).text() for r in range(page.trusted.rowCount())}
    assert roles == {"县民政局", "入户核查终端"}
    # the public key as a QR code: a scanner reads back the public key file
    png = tmp_path / "qr.png"
    assert page.qr.pixmap().save(str(png))
    assert PublicKey.from_json(_zbar(png)) == t.keys.public

    page.dest.setCurrentIndex(page.dest.findData(c.code))
    out = tmp_path / "to-county.age"
    page.export_to(out)
    wait_done(qtbot, page)
    assert out.exists() and "第 1 批" in page.report.toPlainText()
    assert page.history.rowCount() == 1 and "待对方确认：1" in page.pending_label.text()

    c.import_(out)
    back = c.export(t)
    with qtbot.waitSignal(page.changed, timeout=20000):
        page.import_from(back)
    wait_done(qtbot, page)
    assert (
        page.last_report.sequence == 1
        and "已导入站点 341623 的第 1 批" in page.report.toPlainText()
    )
    assert "待对方确认：0" in page.pending_label.text()

    # a refused batch (replay): message shown, nothing changed
    before = fingerprint(t.store)
    page.import_from(back)
    wait_done(qtbot, page)
    assert "重复导入" in page.last_error and fingerprint(t.store) == before

    # a conflict with the field laptop, resolved here (the township decides)
    page.dest.setCurrentIndex(page.dest.findData(f.code))
    down = tmp_path / "to-field.age"
    page.export_to(down)
    wait_done(qtbot, page)
    f.import_(down)
    uid = t.store.scalar(
        "SELECT uid FROM households WHERE village = ? ORDER BY id LIMIT 1", (village,)
    )
    edit(t.store, "households", uid, phone="13800000000")
    edit(f.store, "households", uid, phone="13900000000")
    page.import_from(f.export(t))
    wait_done(qtbot, page)
    assert page.conflict_list.count() == 1 and page.tabs.tabText(2) == "冲突 (1)"
    page.conflict_list.setCurrentRow(0)
    assert page.sides.item(0, 0).text() == "phone"
    assert (page.sides.item(0, 1).text(), page.sides.item(0, 2).text()) == (
        "13800000000",
        "13900000000",
    )
    shown = [page.sides.item(i, j).text() for i in range(page.sides.rowCount()) for j in range(3)]
    head_id = t.store.scalar("SELECT head_id_number FROM households WHERE uid = ?", (uid,))
    assert "id_rev" not in shown and not any(head_id in x or head_id[::-1] in x for x in shown)
    page.resolve_current("remote")
    assert page.conflict_list.count() == 0
    assert t.store.scalar("SELECT phone FROM households WHERE uid = ?", (uid,)) == "13900000000"
    assert pending_acks(t.store) == []  # the field laptop's batch acknowledged ours
    for s in (t, c, f):
        s.store.close()


def test_sync_page_reassigns_villages_and_shows_the_withdrawal(qtbot, tmp_path):
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    f = make_site(tmp_path, "341623101001", "入户终端", "field")
    generate_demo(t.store, 20, seed=6)
    a, b = [
        r[0]
        for r in t.store.conn.execute("SELECT DISTINCT village FROM households ORDER BY 1 LIMIT 2")
    ]
    link(t, f, villages=[a])
    f.import_(t.export(f))
    page = SyncPage(t.store)
    qtbot.addWidget(page)
    row = next(
        i for i in range(page.trusted.rowCount()) if page.trusted.item(i, 0).text() == f.code
    )
    page.trusted.selectRow(row)
    assert page.villages.text() == a  # the current assignment, ready to edit
    page.villages.setText(b)
    page.assign_btn.click()
    assert f"下发新分配的 {b}" in page.assign_note.text() and f"撤回 {a}" in page.assign_note.text()
    page.dest.setCurrentIndex(page.dest.findData(f.code))
    down = tmp_path / "down.age"
    page.export_to(down)
    wait_done(qtbot, page)
    r = f.import_(down)
    assert r.withdraw["removed"] and not r.withdraw["kept"]
    got = {x[0] for x in f.store.conn.execute("SELECT DISTINCT village FROM households")}
    assert got == {b}
    # the laptop confirms; the township's report says so
    page.import_from(f.export(t))
    wait_done(qtbot, page)
    assert f"对方已撤回 {len(r.withdraw['removed'])} 户" in page.report.toPlainText()


def test_sync_page_asks_for_the_passphrase_once_per_login(qtbot, tmp_path, monkeypatch):
    """Keys with a passphrase and an operator logged in: the first export asks for the
    passphrase (the prompt says the login will do from then on), a new page of a later
    session with the same login asks nothing."""
    from PySide6.QtWidgets import QInputDialog

    from mzdesk.models import auth
    from mzdesk.sync.keys import init_keys

    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    t.keys = init_keys(t.store, passphrase="山高水长", force=True)
    link(t, c)
    generate_demo(t.store, 3, seed=4)
    auth.add_operator(t.store, "li", "li-pass-01", "admin")
    auth.login(t.store, "li", "li-pass-01")
    asked = []

    def answer(parent, title, label, echo):
        asked.append(label)
        return "山高水长", True

    monkeypatch.setattr(QInputDialog, "getText", answer)
    for n in (1, 2):
        page = SyncPage(t.store)  # a fresh page: nothing unlocked in memory
        qtbot.addWidget(page)
        page.dest.setCurrentIndex(page.dest.findData(c.code))
        page.export_to(tmp_path / f"b{n}.age")
        wait_done(qtbot, page)
        assert (tmp_path / f"b{n}.age").exists(), page.last_error
    assert len(asked) == 1 and "登录即可解锁" in asked[0]


def test_exchange_tab_says_why_its_buttons_are_greyed_out(qtbot, tmp_path, store):
    page = SyncPage(store)  # a site without keys
    qtbot.addWidget(page)
    page.show()
    assert not page.export_btn.isEnabled() and not page.import_btn.isEnabled()
    assert page.exchange_note.isVisible() and "密钥与信任" in page.exchange_note.text()
    assert "生成" in page.exchange_note.text()

    t = make_site(tmp_path, "341623101", "青山镇", "township")  # keys, nobody trusted yet
    page = SyncPage(t.store)
    qtbot.addWidget(page)
    page.show()
    assert page.import_btn.isEnabled() and not page.export_btn.isEnabled()
    assert "公钥" in page.exchange_note.text()

    link(t, make_site(tmp_path, "341623", "县民政局", "county"))
    page.refresh()
    assert page.export_btn.isEnabled() and not page.exchange_note.isVisible()


def test_a_large_batch_imports_from_the_page_through_the_reader_process(
    qtbot, tmp_path, monkeypatch
):
    """The page's import runs on a Qt worker thread; a batch above the threshold is read by
    a worker process from there (mzdesk.sync.staging), with the bar moving and the report
    shown as for any other."""
    from mzdesk.sync import staging

    monkeypatch.setattr(staging, "STAGE_MIN", 0)
    monkeypatch.setattr(staging, "CHUNK", 50)
    started = []
    real_init = staging.Reader.__init__

    def spy(self, *a, **k):
        real_init(self, *a, **k)
        started.append(self)

    monkeypatch.setattr(staging.Reader, "__init__", spy)
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
    generate_demo(t.store, 80, seed=6)
    page = SyncPage(c.store)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.changed, timeout=30000):
        page.import_from(t.export(c, full=True))
    wait_done(qtbot, page)
    assert started and not started[0]._proc.is_alive()
    assert "家庭：新增 80" in page.report.toPlainText()
    assert c.store.scalar("SELECT count(*) FROM households") == 80


def test_revoking_the_county_from_the_page_needs_an_admin(qtbot, tmp_path, monkeypatch):
    """The window's question is the confirmation; the role is the service's check: a field
    account is refused with a message, an admin revokes."""
    from PySide6.QtWidgets import QMessageBox

    from mzdesk.models import auth
    from mzdesk.sync.keys import get_trusted

    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    c = make_site(tmp_path, "341623", "县民政局", "county")
    link(t, c)
    auth.add_operator(t.store, "wang", "wang-pass-1", "admin")
    t.store.operator = "wang"
    auth.add_operator(t.store, "li", "li-pass-01", "field")
    auth.login(t.store, "li", "li-pass-01")
    page = SyncPage(t.store)
    qtbot.addWidget(page)
    asked = []

    def yes(parent, title, text, *rest):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    page.trusted.setCurrentCell(0, 0)
    page._ask_revoke()
    assert "上级" in asked[0] and "管理员" in page.last_error
    assert not get_trusted(t.store, c.code).revoked
    auth.login(t.store, "wang", "wang-pass-1")
    page._ask_revoke()
    assert get_trusted(t.store, c.code).revoked


def test_sync_page_shows_changes_beyond_the_senders_scope(qtbot, tmp_path):
    """A field laptop's raw 注销 of a household arrives: the township's result view says
    超出发送方权限 and names the household; the household stays."""
    t = make_site(tmp_path, "341623101", "青山镇", "township")
    f = make_site(tmp_path, "341623101001", "入户终端", "field")
    generate_demo(t.store, 20, seed=6)
    village = t.store.scalar("SELECT min(village) FROM households")
    link(t, f, villages=[village])
    f.import_(t.export(f))
    hh = f.store.scalar("SELECT uid FROM households ORDER BY id")
    f.store.conn.execute("UPDATE households SET status = 'deleted' WHERE uid = ?", (hh,))
    page = SyncPage(t.store)
    qtbot.addWidget(page)
    page.import_from(f.export(t))
    wait_done(qtbot, page)
    text = page.report.toPlainText()
    assert "超出发送方权限" in text and hh in text and "入户终端不能注销家庭" in text
    page.refresh()  # the history tab keeps it with the batch
    cells = [page.history.item(0, j).text() for j in range(page.history.columnCount())]
    assert "超出发送方权限 1 条" in " ".join(cells)
    assert t.store.scalar("SELECT status FROM households WHERE uid = ?", (hh,)) == "active"
