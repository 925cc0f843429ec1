"""Importing customers from CSV: rejected rows reported and the import going on, the same file
twice changing nothing, a file that cannot be read refused whole, a crash keeping what was
committed, and imported customers merged and unmerged like any other."""

from __future__ import annotations

import csv
import multiprocessing
import pickle
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.actions import customer_import
from filrouge.core.actions.customer_import import ImportOptions, ImportReport, import_customers
from filrouge.core.actions.duplicates import refresh_suggestions
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.audit import Actor
from filrouge.core.customer_csv import CsvError, CustomerRow, RejectedRow
from filrouge.core.customer_csv_background import ReadingStopped, pack, unpack
from filrouge.core.errors import Invalid
from filrouge.core.models import Customer, DuplicateSuggestion, Event, Identity
from filrouge.core.search import SearchFilters, search
from filrouge.settings import Settings


def run_import(
    factory: sessionmaker[Session], settings: Settings, path: Path, **options: Any
) -> ImportReport:
    with factory() as session, session.begin():
        workspace_id = ensure_workspace(session, settings.workspace_name).id
    chosen = ImportOptions(region="FR", locale="en", actor=Actor.system(), **options)
    return import_customers(factory, workspace_id, path, chosen)


def write(tmp_path: Path, text: str, name: str = "clients.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def customers_by_name(factory: sessionmaker[Session]) -> dict[str | None, dict[str, Any]]:
    with factory() as session:
        customers = session.scalars(select(Customer).order_by(Customer.id)).all()
        return {
            c.name: {
                "attributes": c.attributes,
                "identities": {(i.kind, i.value) for i in c.identities},
            }
            for c in customers
        }


def count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def rejected_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_it_imports_the_good_rows_and_reports_each_rejected_row_with_its_line_and_reason(
    factory, settings, tmp_path
):
    source = write(
        tmp_path,
        "name,email,phone,city\n"
        "Jeanne Martin,Jeanne@Example.fr,06 12 34 56 78,Lyon\n"
        "Paul Durand,paul@nowhere,,Paris\n"
        "Marie Curie,marie@example.fr,12,Paris\n"
        f"{'X' * 301},long@example.fr,,\n"
        "Trop,de@example.fr,,champs,ici\n"
        ",,,Lille\n"
        "Louis Petit,louis@example.fr,+33 6 99 88 77 66,\n"
        "Nul\x00,nul@example.fr,,\n",
    )

    report = run_import(factory, settings, source)

    assert (report.created, report.updated, report.rejected) == (2, 0, 6)
    assert report.rejected_path == tmp_path / "clients.rejected.csv"
    rejected = rejected_rows(tmp_path / "clients.rejected.csv")
    assert [(r["line"], r["reason"]) for r in rejected] == [
        ("3", "paul@nowhere is not an email address."),
        ("4", "12 is not a phone number."),
        ("5", "The name has 301 characters; at most 300 are kept."),
        ("6", "This line has 5 fields; the header has 4."),
        ("7", "A customer needs a name, an email or a phone."),
        ("9", "This line contains a NUL byte."),
    ]
    assert (rejected[0]["name"], rejected[0]["city"]) == ("Paul Durand", "Paris")
    customers = customers_by_name(factory)
    assert customers["Jeanne Martin"] == {
        "attributes": {"city": "Lyon"},
        "identities": {("email", "jeanne@example.fr"), ("phone", "+33612345678")},
    }
    assert customers["Louis Petit"]["identities"] == {
        ("email", "louis@example.fr"),
        ("phone", "+33699887766"),
    }


def test_it_finds_every_row_unchanged_when_the_same_file_is_imported_again(
    factory, settings, tmp_path
):
    source = write(
        tmp_path,
        "name,email,phone,vip\n"
        "Jeanne Martin,jeanne@example.fr,0612345678,oui\n"
        "Paul Durand,,06 11 11 11 11,\n",
    )
    first = run_import(factory, settings, source)
    second = run_import(factory, settings, source)

    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, 2, 0)
    assert count(factory, Customer) == 2
    assert count(factory, Identity) == 3
    assert second.rejected_path is None
    assert not (tmp_path / "clients.rejected.csv").exists()


def test_two_rows_with_the_same_email_make_one_customer_the_second_updating_it(
    factory, settings, tmp_path
):
    source = write(
        tmp_path,
        "name,email,phone,city\n"
        "Jeanne Martin,jeanne@example.fr,,Lyon\n"
        "Jeanne M.,JEANNE@example.fr,06 12 34 56 78,Bordeaux\n",
    )

    report = run_import(factory, settings, source)

    assert (report.created, report.updated) == (1, 1)
    assert customers_by_name(factory) == {
        "Jeanne M.": {
            "attributes": {"city": "Bordeaux"},
            "identities": {("email", "jeanne@example.fr"), ("phone", "+33612345678")},
        }
    }


def test_a_row_whose_email_and_phone_are_two_customers_is_rejected_never_merged(
    factory, settings, tmp_path
):
    run_import(
        factory,
        settings,
        write(
            tmp_path,
            "name,email,phone\nJeanne,jeanne@example.fr,\nPaul,paul@example.fr,0611111111\n",
            "first.csv",
        ),
    )
    source = write(
        tmp_path,
        "name,email,phone\n"
        "Jeanne,jeanne@example.fr,06 11 11 11 11\n"
        "Louis,louis@example.fr,\n"
        "Louise,louis@example.fr,\n"
        "Marie,marie@example.fr,0622222222\n"
        "Marie L.,louis@example.fr,0622222222\n",
    )

    report = run_import(factory, settings, source)

    assert (report.created, report.updated, report.rejected) == (2, 1, 2)
    with factory() as session:
        jeanne = session.scalars(select(Customer).where(Customer.name == "Jeanne")).one()
        paul = session.scalars(select(Customer).where(Customer.name == "Paul")).one()
    reasons = [r["reason"] for r in rejected_rows(tmp_path / "clients.rejected.csv")]
    assert reasons == [
        f"jeanne@example.fr belongs to customer {jeanne.id} and +33611111111 to customer "
        f"{paul.id}: merge them first, or correct the line.",
        "louis@example.fr and +33622222222 belong to two different customers, one of them made "
        "by line 3 of this file: correct one of the lines.",
    ]
    assert customers_by_name(factory)["Paul"]["identities"] == {
        ("email", "paul@example.fr"),
        ("phone", "+33611111111"),
    }


def test_it_records_one_event_per_chunk_with_counts_and_no_personal_data(
    factory, settings, tmp_path
):
    lines = "".join(f"Client {n},client{n}@example.fr,\n" for n in range(7))
    source = write(tmp_path, "name,email,phone\n" + lines + "Bad,bad,\n")

    run_import(factory, settings, source, chunk_rows=3)

    with factory() as session:
        events = session.scalars(
            select(Event).where(Event.action == "customers.imported").order_by(Event.id)
        ).all()
        first_id = session.scalar(select(func.min(Customer.id)))
    assert [e.after["lines"] for e in events if e.after] == [[2, 4], [5, 7], [8, 9]]
    assert [(e.after["created"], e.after["rejected"]) for e in events if e.after] == [
        (3, 0),
        (3, 0),
        (1, 1),
    ]
    assert events[0].after is not None
    assert events[0].after["file"] == "clients.csv"
    assert events[0].after["created_ids"] == [[first_id, first_id + 2]]
    assert all("example.fr" not in str(e.after) for e in events)
    assert count(factory, Event) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "clients.csv is empty: there is nothing to import."),
        ("\n\n", "clients.csv is empty: there is nothing to import."),
        (
            "Jeanne,jeanne@example.fr\n",
            "clients.csv: the first line must be a header naming at least one of the columns "
            "name, email, phone (it reads: Jeanne, jeanne@example.fr).",
        ),
        (
            "nom,courriel\nJeanne,jeanne@example.fr\n",
            "clients.csv: the first line must be a header naming at least one of the columns "
            "name, email, phone (it reads: nom, courriel).",
        ),
        (
            "name,email,email\nJeanne,a@example.fr,b@example.fr\n",
            "clients.csv: the column email appears more than once in the header.",
        ),
    ],
)
def test_it_refuses_a_file_it_cannot_read_and_writes_nothing(
    factory, settings, tmp_path, content, message
):
    source = write(tmp_path, content)
    with pytest.raises(CsvError) as refused:
        run_import(factory, settings, source)
    assert refused.value.message_in("en") == message
    assert count(factory, Customer) == 0
    assert not (tmp_path / "clients.rejected.csv").exists()


def test_it_refuses_a_latin1_file_naming_the_line_and_byte_and_how_to_convert(
    factory, settings, tmp_path
):
    source = tmp_path / "clients.csv"
    source.write_bytes(
        "name,email\nJeanne,jeanne@example.fr\nHélène,helene@example.fr\n".encode("latin-1")
    )
    with pytest.raises(CsvError) as refused:
        run_import(factory, settings, source)
    assert refused.value.message_in("en") == (
        "clients.csv is not UTF-8 text: line 3, byte 38 (0xe9). Convert it first, for example: "
        "iconv -f latin1 -t utf-8 clients.csv > clients.csv.utf8.csv"
    )
    assert count(factory, Customer) == 0


def test_a_crash_keeps_the_committed_chunks_and_a_second_run_completes_the_import(
    factory, settings, tmp_path, monkeypatch
):
    lines = "".join(f"Client {n},client{n}@example.fr\n" for n in range(10))
    source = write(tmp_path, "name,email\n" + lines)
    real = customer_import.import_customer_rows
    calls = {"n": 0}

    def failing_at_chunk_3(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(customer_import, "import_customer_rows", failing_at_chunk_3)
    with pytest.raises(RuntimeError):
        run_import(factory, settings, source, chunk_rows=3)
    assert count(factory, Customer) == 6
    monkeypatch.setattr(customer_import, "import_customer_rows", real)

    report = run_import(factory, settings, source, chunk_rows=3)

    assert (report.created, report.unchanged) == (4, 6)
    assert count(factory, Customer) == 10
    assert count(factory, Identity) == 10


def test_imported_customers_can_be_merged_and_unmerged(admin, factory, settings, tmp_path):
    source = write(
        tmp_path,
        "name,email,phone\nJeanne Martin,jeanne@example.fr,\nJ. Martin,,06 12 34 56 78\n",
    )
    run_import(factory, settings, source)
    with factory() as session:
        ids = {c.name: c.id for c in session.scalars(select(Customer))}
    target, other = ids["Jeanne Martin"], ids["J. Martin"]

    merged = admin.post(f"/api/v1/customers/{target}/merge", json={"other_id": other})
    assert merged.status_code == 200, merged.text
    kinds = {i["kind"] for i in admin.get(f"/api/v1/customers/{target}").json()["identities"]}
    assert kinds == {"email", "phone"}

    restored = admin.post(f"/api/v1/customers/{target}/unmerge", json={"other_id": other})
    assert restored.status_code == 200, restored.text
    back = admin.get(f"/api/v1/customers/{other}").json()
    assert [(i["kind"], i["value"]) for i in back["identities"]] == [("phone", "+33612345678")]


def test_an_imported_customer_can_be_erased_and_the_import_log_keeps_no_trace_of_them(
    admin, factory, settings, tmp_path
):
    source = write(tmp_path, "name,email,phone\nJeanne Martin,jeanne@example.fr,0612345678\n")
    run_import(factory, settings, source)
    with factory() as session:
        jeanne = session.scalars(select(Customer)).one().id

    erased = admin.post(f"/api/v1/customers/{jeanne}/erase", json={"reason": "Demande écrite"})

    assert erased.status_code == 200, erased.text
    with factory() as session:
        assert session.scalars(select(Identity)).all() == []
        logged = " ".join(str(e.after) for e in session.scalars(select(Event)))
    assert "jeanne" not in logged.lower()
    again = run_import(factory, settings, source)  # the same file brings her back, as new
    assert again.created == 1


def test_it_writes_the_report_where_asked_even_when_nothing_is_rejected(
    factory, settings, tmp_path
):
    source = write(tmp_path, "name,email\nJeanne,jeanne@example.fr\n")
    report_path = tmp_path / "out" / "refus.csv"
    report_path.parent.mkdir()

    report = run_import(factory, settings, source, rejected_path=report_path)

    assert report.rejected_path == report_path
    assert report_path.read_text(encoding="utf-8").splitlines() == ["line,name,email,reason"]


def scan(factory: sessionmaker[Session], settings: Settings) -> Any:
    with factory() as session, session.begin():
        workspace_id = ensure_workspace(session, settings.workspace_name).id
        return refresh_suggestions(session, workspace_id)


def test_the_duplicates_scan_after_an_import_reads_only_what_is_new(
    admin, factory, settings, tmp_path
):
    lines = "".join(f"Client {n},client{n}@gmail.com,06 00 00 00 {n:02d}\n" for n in range(40))
    run_import(factory, settings, write(tmp_path, "name,email,phone\n" + lines))
    first = scan(factory, settings)
    assert (first.new, first.counts.identities_read) == (0, 80)  # the first scan reads all

    unchanged = scan(factory, settings)
    assert (unchanged.counts.changed, unchanged.counts.identities_read) == (0, 0)

    texting = admin.post(
        "/api/v1/customers",
        json={"name": None, "identities": [{"kind": "whatsapp", "value": "+33600000007"}]},
    ).json()["id"]
    found = scan(factory, settings)

    assert found.new == 1
    # the two identities of the one customer it may be, and the new customer's WhatsApp
    # number twice (also read among the customers known only by a network): not the 80 others
    assert found.counts.identities_read == 4
    with factory() as session:
        [suggestion] = session.scalars(select(DuplicateSuggestion)).all()
        old = session.scalars(select(Identity).where(Identity.value == "+33600000007")).all()
    assert {suggestion.customer_id, suggestion.other_id} == {c.customer_id for c in old}
    assert texting in (suggestion.customer_id, suggestion.other_id)
    assert suggestion.evidence[0]["kind"] == "same_phone"


def test_it_never_writes_the_report_over_the_file_it_imports(factory, settings, tmp_path):
    source = write(tmp_path, "name,email\nJeanne,jeanne@example.fr\n")
    with pytest.raises(CsvError) as refused:
        run_import(factory, settings, source, rejected_path=source)
    assert "cannot be written over clients.csv" in refused.value.message_in("en")
    assert source.read_text(encoding="utf-8").startswith("name,email")
    assert count(factory, Customer) == 0


def found_customers(admin: Any, factory: sessionmaker[Session], typed: str) -> set[str | None]:
    """The names of the customers the search box finds for ``typed``."""
    with factory() as session:
        results = search(session, admin.user, typed, SearchFilters(kinds=("customers",)))
        return {hit.title for hit in results.hits}


def test_imported_customers_are_found_by_name_email_and_phone_and_a_new_identity_too(
    admin, factory, settings, tmp_path
):
    first = write(
        tmp_path,
        "name,email,phone\nJeanne Martin,jeanne@example.fr,06 12 34 56 78\n"
        "Paul Durand,paul@example.fr,\n",
    )
    run_import(factory, settings, first)

    assert found_customers(admin, factory, "Martin") == {"Jeanne Martin"}
    assert found_customers(admin, factory, "jeanne@example.fr") == {"Jeanne Martin"}
    assert found_customers(admin, factory, "06 12 34 56 78") == {"Jeanne Martin"}
    assert found_customers(admin, factory, "Durand") == {"Paul Durand"}
    assert found_customers(admin, factory, "07 11 22 33 44") == set()

    again = write(tmp_path, "name,email,phone\nPaul Durand,paul@example.fr,07 11 22 33 44\n")
    report = run_import(factory, settings, again)

    assert report.updated == 1
    assert found_customers(admin, factory, "07 11 22 33 44") == {"Paul Durand"}
    assert found_customers(admin, factory, "paul@example.fr") == {"Paul Durand"}
    with factory() as session:  # the hold never outlives the chunk's transaction
        if session.get_bind().dialect.name == "sqlite":
            assert session.execute(text("SELECT count(*) FROM search_holds")).scalar() == 0


def test_a_customer_written_elsewhere_after_an_import_is_indexed_as_usual(
    admin, factory, settings, tmp_path
):
    run_import(factory, settings, write(tmp_path, "name,email\nJeanne Martin,j@example.fr\n"))
    with factory() as session, session.begin():
        workspace_id = ensure_workspace(session, settings.workspace_name).id
        customer = Customer(workspace_id=workspace_id, name="Lucie Fontaine")
        session.add(customer)
        session.flush()
        session.add(
            Identity(
                workspace_id=workspace_id,
                customer_id=customer.id,
                kind="email",
                value="lucie@example.fr",
            )
        )

    assert found_customers(admin, factory, "Fontaine") == {"Lucie Fontaine"}
    assert found_customers(admin, factory, "lucie@example.fr") == {"Lucie Fontaine"}


def test_a_large_file_parsed_in_another_process_imports_exactly_as_in_place(
    factory, settings, tmp_path
):
    rows = [
        f"Client {n},client{n}@example.fr,06 12 34 {n // 100:02d} {n % 100:02d}" for n in range(40)
    ]
    rows[5] = "Faux,pas-une-adresse,"
    rows[9] = "Court,,12"
    rows[12] = "Trop,de@example.fr,,champs"
    source = write(tmp_path, "name,email,phone\n" + "\n".join(rows) + "\n")
    in_place = tmp_path / "in_place.rejected.csv"
    background = tmp_path / "background.rejected.csv"

    first = run_import(
        factory, settings, source, chunk_rows=7, background=False, rejected_path=in_place
    )
    imported = customers_by_name(factory)
    with factory() as session, session.begin():
        session.execute(delete(Identity))
        session.execute(delete(Customer))
    second = run_import(
        factory, settings, source, chunk_rows=7, background=True, rejected_path=background
    )

    assert (second.created, second.rejected) == (first.created, first.rejected)
    assert (first.created, first.rejected) == (37, 3)
    assert customers_by_name(factory) == imported
    assert rejected_rows(background) == rejected_rows(in_place)


def test_a_chunk_travels_as_columns_and_comes_back_in_file_order():
    refused = Invalid("invalid_phone", "{value} is not a phone number.", field="phone", value="12")
    chunk: list[CustomerRow | RejectedRow] = [
        RejectedRow(2, ["Court", "", "12"], refused),
        CustomerRow(3, "Ana", (("email", "ana@example.fr"),), {"ville": "Lyon"}, ["Ana"]),
        RejectedRow(4, ["Trop"], refused),
        CustomerRow(5, None, (("phone", "+33612345678"),), {}, ["", "06 12 34 56 78"]),
        RejectedRow(6, [], refused),
    ]

    back = unpack(pickle.loads(pickle.dumps(pack(chunk))))

    assert [row.line for row in back] == [2, 3, 4, 5, 6]
    assert back[1] == chunk[1]
    assert back[3] == chunk[3]
    assert isinstance(back[0], RejectedRow)
    assert back[0].reason.code == "invalid_phone"


def test_progress_of_a_file_read_in_another_process_reaches_its_end(factory, settings, tmp_path):
    rows = [f"Client {n},client{n}@example.fr" for n in range(30)]
    source = write(tmp_path, "name,email\n" + "\n".join(rows) + "\n")
    seen: list[tuple[int, int]] = []

    report = run_import(
        factory,
        settings,
        source,
        chunk_rows=8,
        background=True,
        progress=lambda read, done: seen.append((read, done)),
    )

    assert report.created == 30
    assert [done for _read, done in seen] == [8, 16, 24, 30]
    assert [read for read, _done in seen] == sorted(read for read, _done in seen)
    assert seen[-1][0] == source.stat().st_size


def test_a_killed_reading_process_stops_the_import_and_keeps_what_was_written(
    factory, settings, tmp_path
):
    rows = [f"Client {n},client{n}@example.fr" for n in range(40)]
    source = write(tmp_path, "name,email\n" + "\n".join(rows) + "\n")

    def kill_the_reader(_read: int, _done: int) -> None:
        for child in multiprocessing.active_children():
            if child.name == "filrouge-customers-csv":
                child.kill()
                child.join()

    with pytest.raises(ReadingStopped) as stopped:
        run_import(
            factory, settings, source, chunk_rows=5, background=True, progress=kill_the_reader
        )

    assert stopped.value.code == "reading_stopped"
    assert "clients.csv" in stopped.value.message_in("fr")
    with factory() as session:
        kept = session.scalar(select(func.count()).select_from(Customer))
    # the chunks already sent were written; the rest of the file was not
    assert kept is not None
    assert 5 <= kept < 40


def test_a_refusal_crosses_processes_with_its_code_and_words():
    refusal = Invalid("invalid_phone", "{value} is not a phone number.", field="phone", value="12")

    copy = pickle.loads(pickle.dumps(refusal))

    assert type(copy) is Invalid
    assert (copy.code, copy.field, copy.params) == ("invalid_phone", "phone", refusal.params)
    assert copy.message_in("en") == refusal.message_in("en") == "12 is not a phone number."
