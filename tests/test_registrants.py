"""Registrants in a real database: incremental CSV import, add, cancel, purge, and Zoom registration."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from opsflow import store as db
from opsflow.core.errors import InputError, NotFoundError
from opsflow.core.jobspec import load_job
from opsflow.zoom.meeting import create_meeting
from opsflow.registrants import read_event_csv, sync_registrants
from opsflow.registrants.csvfile import RegistrantsFile, read_registrants
from opsflow.registrants.roster import CHUNK, add_person, cancel_person, import_people, list_people, purge
from opsflow.registrants.zoomsync import sync_zoom

from .conftest import NOW, REPO

CP932 = REPO / "tests" / "data" / "registrants" / "seminar-cp932.csv"
HEADER = "タイムスタンプ,氏名,メールアドレス,自治体名,所属部署\r\n"


def _write(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\r\n" for r in rows), encoding="utf-8-sig")
    return path


def _people(store, event_id="example-seminar") -> dict[str, dict]:
    return {p["email"]: p for p in list_people(store, event_id)}


def test_cp932_export_imports_good_rows_and_reports_bad_ones(store, event):
    report = import_people(store, event.id, read_registrants(CP932), NOW)
    assert report.encoding == "cp932"
    assert len(report.added) == 9
    assert [(p.row, p.reason) for p in report.problems] == [
        (8, "'yamada@@city' is not a valid email address"), (9, "no email address"), (10, "no name")]
    assert [(d.email, d.rows) for d in report.duplicates] == [("k-takahashi@city.itoshima.lg.jp", (3, 11))]
    people = _people(store)
    assert people["t-yamazaki@city.morioka.lg.jp"]["name"] == "山﨑 隆"  # U+FA11 survives
    assert people["k-takahashi@city.itoshima.lg.jp"]["name"] == "髙橋 健一"
    assert (people["t-yamada@city.kaga.lg.jp"]["family_name"], people["t-yamada@city.kaga.lg.jp"]["given_name"]) == (
        "山田", "太郎")

    again = import_people(store, event.id, read_registrants(CP932), NOW)
    assert not again.is_changed and again.unchanged == 9


def test_reimport_adds_updates_and_cancels(store, event, tmp_path):
    first = _write(tmp_path / "a.csv", "1,山田 太郎,a@city.example.lg.jp,加賀市,情報政策課",
                   "2,佐藤 花子,b@city.example.lg.jp,糸島市,DX推進課")
    import_people(store, event.id, read_registrants(first), NOW)
    second = _write(tmp_path / "b.csv", "1,山田 太郎,a@city.example.lg.jp,加賀市,総務課",
                    "3,鈴木 一郎,c@city.example.lg.jp,北見市,市民課")
    report = import_people(store, event.id, read_registrants(second), NOW)
    assert report.added == ["c@city.example.lg.jp"]
    assert report.updated == [("a@city.example.lg.jp", ["department"])]
    assert report.cancelled == ["b@city.example.lg.jp"]
    people = _people(store)
    assert (people["b@city.example.lg.jp"]["status"], people["b@city.example.lg.jp"]["cancel_reason"]) == (
        "cancelled", "removed-from-csv")
    assert people["a@city.example.lg.jp"]["department"] == "総務課"

    back = import_people(store, event.id, read_registrants(first), NOW)
    assert back.reactivated == ["b@city.example.lg.jp"] and back.cancelled == ["c@city.example.lg.jp"]


def test_a_long_list_is_imported_a_chunk_at_a_time_as_if_whole(store, event, tmp_path):
    """More people than one chunk, a person twice across chunks: the same rows, ids in the order of
    the kept rows, and the same report as the whole file read at once."""
    count = CHUNK * 2 + 37
    rows = [f"{n},職員 {n:04d},p{n:04d}@city.example.lg.jp,市{n % 7},課" for n in range(count)]
    rows.insert(CHUNK + 10, "x,職員 0003 (2),p0003@city.example.lg.jp,市3,課")  # the same person, further down
    first = _write(tmp_path / "a.csv", *rows)
    scanned = RegistrantsFile(first)
    report = import_people(store, event.id, scanned, NOW)
    whole = import_people(store, event.id, read_registrants(first), NOW, dry_run=True)
    assert report.added == [p.email for p in read_registrants(first).people] and len(report.added) == count
    assert [(d.email, d.rows) for d in report.duplicates] == [("p0003@city.example.lg.jp", (5, CHUNK + 12))]
    assert whole.unchanged == count and not whole.is_changed
    with store.read() as conn:
        stored = db.list_registrants(conn, event.id)
    assert [r["email"] for r in stored] == report.added  # ids in the order of the kept rows
    assert {r["email"]: r["name"] for r in stored}["p0003@city.example.lg.jp"] == "職員 0003 (2)"

    second = _write(tmp_path / "b.csv", *rows[::2])  # every other row: the rest are cancelled, page by page
    again = import_people(store, event.id, RegistrantsFile(second), NOW)
    expected = import_people(store, event.id, read_registrants(first), NOW, dry_run=True)
    assert not again.added and len(again.cancelled) == count - len({r.split(",")[2] for r in rows[::2]})
    assert set(again.cancelled) == set(expected.reactivated)
    assert set(again.cancelled).isdisjoint(r.split(",")[2] for r in rows[::2])


def test_dry_run_changes_nothing(store, event):
    report = import_people(store, event.id, read_registrants(CP932), NOW, dry_run=True)
    assert len(report.added) == 9 and list_people(store, event.id) == []


def test_cancelled_by_hand_stays_cancelled_and_manual_people_stay(store, event, tmp_path):
    csv_file = _write(tmp_path / "a.csv", "1,山田 太郎,a@city.example.lg.jp,加賀市,情報政策課")
    import_people(store, event.id, read_registrants(csv_file), NOW)
    assert cancel_person(store, event.id, "A@City.Example.LG.JP", NOW) == "a@city.example.lg.jp cancelled"
    assert add_person(store, event.id, "ｋ－ｓａｔｏ＠city.example.lg.jp", "佐藤　健", NOW,
                      organization="北見市") == "k-sato@city.example.lg.jp added"

    report = import_people(store, event.id, read_registrants(csv_file), NOW)
    assert report.kept_cancelled == ["a@city.example.lg.jp"] and report.cancelled == []
    people = _people(store)
    assert people["a@city.example.lg.jp"]["status"] == "cancelled"
    assert (people["k-sato@city.example.lg.jp"]["status"], people["k-sato@city.example.lg.jp"]["source"],
            people["k-sato@city.example.lg.jp"]["name"]) == ("active", "manual", "佐藤 健")
    assert add_person(store, event.id, "a@city.example.lg.jp", "山田 太郎", NOW) == "a@city.example.lg.jp registered again"


def test_bad_manual_input(store, event):
    with pytest.raises(InputError, match=r"^'not-an-email' is not a valid email address$"):
        add_person(store, event.id, "not-an-email", "名前", NOW)
    with pytest.raises(NotFoundError) as err:
        cancel_person(store, event.id, "nobody@example.jp", NOW)
    assert str(err.value) == ("nobody@example.jp is not registered for example-seminar: see "
                              "`opsflow registrants list example-seminar`")


def test_a_file_without_anyone_cancels_nobody(store, event, tmp_path):
    import_people(store, event.id, read_registrants(CP932), NOW)
    empty = _write(tmp_path / "empty.csv")
    with pytest.raises(InputError) as err:
        import_people(store, event.id, read_registrants(empty), NOW)
    assert str(err.value).startswith(f"{empty} has no valid registrants, but 9 people of example-seminar came from "
                                     "a CSV: nothing was changed.")
    assert all(p["status"] == "active" for p in list_people(store, event.id))


def test_job_file_columns_and_encoding(store, write_job, tmp_path):
    (tmp_path / "jobs" / "forms").mkdir(parents=True)
    (tmp_path / "jobs" / "forms" / "f.csv").write_bytes("連絡先,参加者\r\nx@city.example.lg.jp,田中 一\r\n".encode("cp932"))
    path = write_job('[event]\nid = "cols"\ntitle = "T"\nstart = 2027-01-21T18:00:00+09:00\nduration = "1h"\n'
                     '[registrants]\ncsv = "forms/f.csv"\nencoding = "cp932"\n'
                     '[registrants.columns]\nemail = "連絡先"\nname = "参加者"\n')
    read = read_event_csv(load_job(path))
    assert [(p.email, p.name) for p in read.people] == [("x@city.example.lg.jp", "田中 一")]
    assert read.encoding == "cp932"


def test_zoom_registration_gives_everyone_a_personal_link(store, zoom, fake_zoom, event):
    create_meeting(store, zoom, event, NOW)
    imported, synced = sync_registrants(store, lambda: zoom, event, NOW)
    assert len(imported.added) == 40 and synced.registered == 40
    (meeting_id,) = fake_zoom.meetings
    assert fake_zoom.count("POST", f"/v2/meetings/{meeting_id}/batch_registrants") == 2  # 30 + 10
    people = list_people(store, event.id)
    assert all(p["join_url"] and p["join_link"] == p["join_url"] and p["zoom_registrant_id"] for p in people)
    assert len({p["join_url"] for p in people}) == 40
    by_email = {r["email"]: r for r in fake_zoom.registrants(meeting_id)}
    yamada = by_email["t-yamada@city.kaga.lg.jp"]
    assert (yamada["first_name"], yamada["last_name"]) == ("拓也", "山田")

    again = sync_zoom(store, zoom, event, NOW)
    assert again.registered == 0
    assert fake_zoom.count("POST", f"/v2/meetings/{meeting_id}/batch_registrants") == 2
    with store.read() as conn:
        step = next(s for s in db.list_steps(conn, [event.id]) if s["key"] == "registrants.sync")
    assert step["state"] == "done"


def test_cancelled_people_are_cancelled_on_zoom_and_zoom_registrations_pulled(store, zoom, fake_zoom, event):
    create_meeting(store, zoom, event, NOW)
    sync_registrants(store, lambda: zoom, event, NOW)
    (meeting_id,) = fake_zoom.meetings
    cancel_person(store, event.id, "t-yamada@city.kaga.lg.jp", NOW)
    zoom.add_registrant("meeting", meeting_id, {"email": "Walk-In@Town.Example.lg.jp", "first_name": "直子",
                                                "last_name": "森"})
    report = sync_zoom(store, zoom, event, NOW)
    assert (report.cancelled, report.pulled) == (1, ["walk-in@town.example.lg.jp"])
    active = {r["email"] for r in zoom.list_registrants("meeting", meeting_id)}
    assert "t-yamada@city.kaga.lg.jp" not in active
    walk_in = _people(store)["walk-in@town.example.lg.jp"]
    assert (walk_in["source"], walk_in["name"], walk_in["status"]) == ("zoom", "森 直子", "active")
    assert sync_zoom(store, zoom, event, NOW).cancelled == 0  # cancelled once only


def test_hosts_are_never_registered(store, zoom, fake_zoom, event):
    create_meeting(store, zoom, event, NOW)
    add_person(store, event.id, fake_zoom.meetings[next(iter(fake_zoom.meetings))]["host_email"], "ホスト 役", NOW)
    sync_registrants(store, lambda: zoom, event, NOW)
    (meeting_id,) = fake_zoom.meetings
    host = fake_zoom.meetings[meeting_id]["host_email"]
    assert host not in {r["email"] for r in fake_zoom.registrants(meeting_id)}
    assert _people(store)[host]["join_link"] == fake_zoom.meetings[meeting_id]["join_url"]  # the meeting's link


def test_sync_needs_the_meeting_first(store, zoom, event):
    with pytest.raises(NotFoundError) as err:
        sync_zoom(store, zoom, event, NOW)
    assert str(err.value) == "example-seminar has no Zoom meeting yet: run `opsflow zoom create example-seminar` first"


def test_purge_keeps_counts_and_organizations(store, event):
    import_people(store, event.id, read_registrants(CP932), NOW)
    with pytest.raises(InputError) as err:
        purge(store, event.id, timedelta(days=180), NOW)
    assert str(err.value) == ("example-seminar ended on 2027-01-21; with --older-than 180d its personal data can be "
                              "purged from 2027-07-20: nothing purged")
    later = datetime(2027, 8, 1, tzinfo=timezone.utc)
    assert purge(store, event.id, timedelta(days=180), later, dry_run=True) == (
        "(dry run) example-seminar: would purge the personal data of 9 registrants")
    assert purge(store, event.id, timedelta(days=180), later) == (
        "example-seminar: purged the personal data of 9 registrants; counts and organizations are kept")
    people = list_people(store, event.id)
    assert len(people) == 9
    dump = json.dumps(people, default=str, ensure_ascii=False)
    for secret in ("t-yamada@city.kaga.lg.jp", "山田", "情報政策課"):
        assert secret not in dump
    assert {p["organization"] for p in people} >= {"石川県加賀市", "岩手県盛岡市"}
    assert purge(store, event.id, timedelta(days=180), later).endswith("was already purged on 2027-08-01")

