"""Tests of payments_money.py against a live database.

The database is given by the libpq variables (PGHOST, PGPORT, PGUSER,
PGDATABASE, ...) and must have had ``CREATE EXTENSION payments CASCADE``.
Every run makes its own ledger ('py-adapter-test-<random>'), so reruns on the
same database work. Standard library and psycopg only:

    /usr/bin/python3 -m unittest -v test_adapter
"""

import asyncio
import logging
import os
import random
import sys
import threading
import time
import unittest
import uuid
from collections import Counter, defaultdict
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.composite import CompositeInfo, register_composite
from psycopg.types.json import Jsonb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payments_money import (  # noqa: E402
    ISO_SCALES, ISO_WITHOUT_MINOR_UNIT, Currency, Money, Retrier,
    currency_from_binary, fetch_types, is_retryable, money_from_binary,
    money_from_text, register, register_async)

# psycopg warns when it cannot roll back on a connection the tests killed
logging.getLogger("psycopg").setLevel(logging.ERROR)

RUN = uuid.uuid4().hex[:10]
LEDGER = f"py-adapter-test-{RUN}"
BIG = 10 ** 38 - 1

# (currency, scale): every ISO scale, scale 18, codes of 3 to 8 characters
CURRENCIES = [("JPY", 0), ("USD", 2), ("BHD", 3), ("CLF", 4), ("ETH/18", 18),
              ("USD/4", 4), ("USD/0", 0), ("XAU/2", 2), ("ABCDEFGH/18", 18),
              ("A1B/0", 0), ("USDC/6", 6), ("BTC/8", 8)]


def connect(**kwargs):
    conn = psycopg.connect(autocommit=True, **kwargs)
    register(conn)
    return conn


def expected_text(units, currency, scale):
    """The server's text, built independently of payments_money."""
    digits = str(abs(units)).rjust(scale + 1, "0")
    if scale:
        digits = digits[:-scale] + "." + digits[-scale:]
    return ("-" if units < 0 else "") + digits + " " + currency


def extreme_cases():
    for cur, scale in CURRENCIES:
        for units in (BIG, -BIG, 0, 1, -1, 10 ** 19, -(10 ** 37) - 12345,
                      2 ** 63, 2 ** 64 - 1, 2 ** 64, -(2 ** 64), -(2 ** 63) - 1):
            yield cur, scale, units


# --------------------------------------------------------------------------
class ValueTests(unittest.TestCase):
    """Money and Currency alone, no database."""

    def test_json_form(self):
        import json
        m = Money("-0.000000000000000001", "ETH/18")
        self.assertEqual(json.dumps(m.json()),
                         '{"amount": "-0.000000000000000001", "currency": "ETH/18"}')
        self.assertEqual(Money("5", "JPY").json(), {"amount": "5", "currency": "JPY"})

    def test_normalisation(self):
        m = Money(Decimal("12.3"), "usd")
        self.assertEqual(m.amount, Decimal("12.30"))
        self.assertEqual(str(m.amount), "12.30")
        self.assertEqual(m.currency, "USD")
        self.assertIsInstance(m.currency, Currency)
        self.assertEqual(m.minor_units, 1230)
        self.assertEqual(str(m), "12.30 USD")
        self.assertEqual(repr(m), "Money(Decimal('12.30'), 'USD')")
        self.assertEqual(Money("12.30", "USD/2"), m)
        self.assertEqual(hash(Money(12, "USD")), hash(Money("12.00", "USD")))
        self.assertEqual(Money.parse("USD 12.3"), m)
        self.assertEqual(str(Money("1.5", "eth/18")), "1.500000000000000000 ETH/18")
        self.assertEqual(str(Money(Decimal("0E-30"), "JPY")), "0 JPY")
        self.assertEqual(str(Money(Decimal("-0"), "USD")), "0.00 USD")
        self.assertEqual(str(Money(Decimal("1E+3"), "JPY")), "1000 JPY")
        self.assertNotEqual(Money("1", "USD"), Money("1", "USD/4"))
        self.assertEqual(Currency("USD/002"), "USD")
        self.assertEqual(Currency("usd/004"), "USD/4")
        self.assertEqual((Currency("ETH/18").code, Currency("ETH/18").scale), ("ETH", 18))
        self.assertEqual(Currency.of("XAU", 2), "XAU/2")
        with self.assertRaises(AttributeError):
            m.amount = Decimal(1)

    def test_refusals(self):
        for amount, cur in [("12.345", "USD"), ("1e5", "USD"), ("1,000", "USD"),
                            (Decimal("NaN"), "USD"), (Decimal("Infinity"), "USD"),
                            (10 ** 38, "JPY"), (Decimal("1E-40"), "USD"),
                            ("1", "XAU"), ("1", "FOO"), ("1", "USD/19"), ("1", "US"),
                            ("1", "ABCDEFGHI/2"), ("1", "US$")]:
            with self.subTest(amount=amount, currency=cur):
                with self.assertRaises(ValueError):
                    Money(amount, cur)
        for amount in (1.5, True, None):
            with self.assertRaises(TypeError):
                Money(amount, "USD")
        with self.assertRaises(ValueError):
            Money.from_minor_units(BIG + 1, "JPY")
        with self.assertRaises(ValueError):
            Money.from_minor_units(BIG, "JPY") + Money(1, "JPY")
        with self.assertRaises(ValueError):
            Money(1, "USD") + Money(1, "EUR")

    def test_binary_layout(self):
        # -1 minor unit of USD: all ones (two's complement), then 3 "USD" 2
        self.assertEqual(Money("-0.01", "USD")._to_binary(),
                         b"\xff" * 16 + b"\x03USD\x02")
        self.assertEqual(Money.from_minor_units(2 ** 64 + 5, "ETH/18")._to_binary(),
                         (1).to_bytes(8, "big") + (5).to_bytes(8, "big") + b"\x03ETH\x12")
        self.assertEqual(Currency("ABCDEFGH/18")._to_binary(), b"\x08ABCDEFGH\x12")
        for cur, scale, units in extreme_cases():
            m = Money.from_minor_units(units, cur)
            self.assertEqual(money_from_binary(m._to_binary()), m)
            self.assertEqual(money_from_text(str(m)), m)
            self.assertEqual(currency_from_binary(m.currency._to_binary()), m.currency)
        for bad in [b"\x00" * 16 + b"\x02US\x02", b"\x00" * 16 + b"\x03usd\x02",
                    b"\x00" * 16 + b"\x03USD\x13", b"\x00" * 16 + b"\x03USD\x02\x00",
                    b"\x00" * 16 + b"\x03USD", (10 ** 38).to_bytes(16, "big") + b"\x03USD\x02"]:
            with self.assertRaises(psycopg.DataError):
                money_from_binary(bad)


# --------------------------------------------------------------------------
class DatabaseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()


class TypeTests(DatabaseTest):

    def test_lookup(self):
        types = fetch_types(self.conn)
        schema = self.conn.execute(
            "SELECT extnamespace::regnamespace::text FROM pg_extension"
            " WHERE extname = 'monetary'").fetchone()[0]
        self.assertEqual(types.schema, schema)
        self.assertEqual(types.monetary.oid, self.conn.execute(
            "SELECT pg_typeof('1 USD'::monetary)::oid::int").fetchone()[0])
        self.assertEqual(self.conn.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)

    def test_iso_table_matches_server(self):
        # every three-letter code at every scale: which ones the server writes bare
        rows = self.conn.execute("""
            WITH l(c) AS (SELECT chr(65 + i) FROM generate_series(0, 25) i),
                 codes(code) AS (SELECT a.c || b.c || d.c FROM l a, l b, l d)
            SELECT code, s FROM codes, generate_series(0, 18) s
             WHERE ((code || '/' || s)::currency)::text = code""").fetchall()
        self.assertEqual(dict(rows), ISO_SCALES)
        for code in sorted(ISO_WITHOUT_MINOR_UNIT):
            with self.assertRaises(psycopg.errors.InvalidTextRepresentation) as cm:
                self.conn.execute("SELECT %s::text::currency", (code,))
            self.assertIn("has no minor unit", str(cm.exception))

    def test_parameters_extremes(self):
        """Client -> server: the server reads exactly the value, text and binary."""
        cases = list(extreme_cases())
        for ph in ("%t", "%b", "%s"):
            q = f"SELECT {ph}::text, minor_units({ph})::text, currency({ph})::text"
            with self.conn.cursor() as cur:
                for cur_text, scale, units in cases:
                    m = Money.from_minor_units(units, cur_text)
                    with self.subTest(ph=ph, value=str(m)):
                        cur.execute(q, (m, m, m))
                        self.assertEqual(cur.fetchone(), (
                            expected_text(units, cur_text, scale), str(units), cur_text))

    def test_results_extremes(self):
        """Server -> client: values made by the server, read as text and binary."""
        cases = list(extreme_cases())
        for binary in (False, True):
            with self.conn.cursor(binary=binary) as cur:
                for cur_text, scale, units in cases:
                    text = expected_text(units, cur_text, scale)
                    with self.subTest(binary=binary, value=text):
                        cur.execute("SELECT %s::text::monetary, %s::text::currency,"
                                    " monetary(%s::text::numeric, %s::text::currency)",
                                    (text, cur_text, text.split()[0], cur_text))
                        m, c, m2 = cur.fetchone()
                        self.assertEqual((m.minor_units, m.currency, m.currency.scale),
                                         (units, cur_text, scale))
                        self.assertEqual(str(m), text)
                        self.assertEqual(m.amount, Decimal(text.split()[0]))
                        self.assertEqual(c, cur_text)
                        self.assertIsInstance(c, Currency)
                        self.assertEqual(m2, m)

    def test_round_trip(self):
        for binary in (False, True):
            with self.conn.cursor(binary=binary) as cur:
                for cur_text, scale, units in extreme_cases():
                    m = Money.from_minor_units(units, cur_text)
                    for ph in ("%t", "%b"):
                        cur.execute(f"SELECT {ph}, {ph}", (m, m.currency))
                        self.assertEqual(cur.fetchone(), (m, m.currency))

    def test_range_edges_on_server(self):
        with self.assertRaises(psycopg.errors.NumericValueOutOfRange):
            self.conn.execute("SELECT %s - %s", (Money.from_minor_units(-BIG, "USD"),
                                                 Money("0.01", "USD")))
        # a binary value past 10^38 - 1, which Money cannot even hold; on a
        # cursor of its own, so that COPY elsewhere keeps the real dumper
        raw_cur = self.conn.cursor()
        raw_cur.adapters.register_dumper(_Raw, type(
            "RawMonetaryDumper", (_RawDumper,), {"oid": fetch_types(self.conn).monetary.oid}))
        for units, ok in ((BIG, True), (BIG + 1, False), (-BIG - 1, False),
                          (-(2 ** 127), False)):
            raw = _Raw(units.to_bytes(16, "big", signed=True) + b"\x03JPY\x00")
            if ok:
                self.assertEqual(raw_cur.execute("SELECT %b", (raw,)).fetchone()[0],
                                 Money(BIG, "JPY"))
            else:
                with self.assertRaises(psycopg.errors.NumericValueOutOfRange):
                    raw_cur.execute("SELECT %b", (raw,))
        for bad in (b"\x03usd\x02", b"\x03USD\x13", b"\x09ABCDEFGHI\x02",
                    b"\x02US\x02", b"\x03USD\x02\x00"):
            with self.assertRaises(psycopg.errors.InvalidBinaryRepresentation):
                raw_cur.execute("SELECT %b", (_Raw(b"\x00" * 16 + bad),))
        # a value cut short is 08P01, as for PostgreSQL's own types: the
        # connection survives, and retrying would fail again
        for short in (b"\x00" * 16 + b"\x03USD", b"\x00" * 15):
            with self.assertRaises(psycopg.errors.ProtocolViolation) as cm:
                raw_cur.execute("SELECT %b", (_Raw(short),))
            self.assertFalse(is_retryable(cm.exception, self.conn))
            self.assertEqual(raw_cur.execute("SELECT 1").fetchone(), (1,))
        raw_cur.close()

    def test_arrays(self):
        values = [Money.from_minor_units(u, c) for c, _, u in extreme_cases()]
        values[3:3] = [None]
        currencies = [Currency(c) for c, _ in CURRENCIES] + [None]
        for binary in (False, True):
            with self.conn.cursor(binary=binary) as cur:
                for ph in ("%t", "%b", "%s"):
                    with self.subTest(binary=binary, ph=ph):
                        cur.execute(f"SELECT {ph}, {ph}, pg_typeof({ph})::text,"
                                    f" array_length({ph}, 1), {ph}::monetary[]",
                                    (values, currencies, values, values, []))
                        self.assertEqual(cur.fetchone(), (values, currencies, "monetary[]",
                                                          len(values), []))
                cur.execute("SELECT split('100.00 USD', 3),"
                            " ARRAY[['1 JPY','2 JPY'],['3 JPY',NULL]]::monetary[],"
                            " ARRAY['ETH/18', 'usd']::currency[]")
                self.assertEqual(cur.fetchone(), (
                    [Money("33.34", "USD"), Money("33.33", "USD"), Money("33.33", "USD")],
                    [[Money(1, "JPY"), Money(2, "JPY")], [Money(3, "JPY"), None]],
                    ["ETH/18", "USD"]))

    def test_copy(self):
        rows = [(i, Money.from_minor_units(u, c), Currency(c),
                 [Money.from_minor_units(u, c), None])
                for i, (c, _, u) in enumerate(extreme_cases())]
        rows.append((len(rows), None, None, None))
        with self.conn.transaction():
            self.conn.execute("CREATE TEMP TABLE copy_t (id int, m monetary,"
                              " c currency, ms monetary[]) ON COMMIT DROP")
            types = ["int4", "monetary", "currency", "monetary[]"]
            for fmt in ("BINARY", "TEXT"):
                self.conn.execute("TRUNCATE copy_t")
                with self.conn.cursor() as cur:
                    with cur.copy(f"COPY copy_t FROM STDIN (FORMAT {fmt})") as copy:
                        copy.set_types(types)
                        for row in rows:
                            copy.write_row(row)
                    # read back in SQL: the server got the exact values
                    cur.execute("SELECT m::text FROM copy_t ORDER BY id")
                    self.assertEqual([r[0] for r in cur.fetchall()],
                                     [None if r[1] is None else str(r[1]) for r in rows])
                    for out_fmt in ("BINARY", "TEXT"):
                        with cur.copy("COPY (SELECT * FROM copy_t ORDER BY id)"
                                      f" TO STDOUT (FORMAT {out_fmt})") as copy:
                            copy.set_types(types)
                            self.assertEqual(list(copy.rows()), rows, (fmt, out_fmt))

    def test_client_cursor(self):
        m = Money.from_minor_units(-BIG, "ETH/18")
        with psycopg.ClientCursor(self.conn) as cur:
            self.assertIn(b"::", cur.mogrify("SELECT %s", (m,)).encode())
            cur.execute("SELECT %s, pg_typeof(%s)::text, %s", (m, m, Currency("USD/4")))
            self.assertEqual(cur.fetchone(), (m, "monetary", "USD/4"))

    def test_register_on_cursor_only(self):
        with psycopg.connect(autocommit=True) as conn:
            with conn.cursor() as cur:
                register(cur)
                cur.execute("SELECT '1.5 ETH/18'::monetary, %s", (Money(2, "JPY"),))
                self.assertEqual(cur.fetchone(), (Money("1.5", "ETH/18"), Money(2, "JPY")))
            # the connection itself is unchanged: text as str
            self.assertEqual(conn.execute("SELECT '1 JPY'::monetary").fetchone()[0], "1 JPY")

    def test_async(self):
        async def main():
            async with await psycopg.AsyncConnection.connect(autocommit=True) as aconn:
                await register_async(aconn)
                cur = await aconn.execute("SELECT %s, 'USD/4'::currency",
                                          (Money("-0.0001", "USD/4"),))
                return await cur.fetchone()
        self.assertEqual(asyncio.run(main()), (Money("-0.0001", "USD/4"), "USD/4"))

    def test_other_schema(self):
        """The types are found in the schema monetary was created in, off the path."""
        dbname = f"pyadapter_schema_{RUN}"
        try:
            self.conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        except psycopg.errors.InsufficientPrivilege:
            self.skipTest("no CREATEDB privilege")
        try:
            with psycopg.connect(dbname=dbname, autocommit=True) as conn:
                with self.assertRaises(psycopg.ProgrammingError):
                    register(conn)  # no extension yet: a clear error
                conn.execute('CREATE SCHEMA "Money $"')
                conn.execute('CREATE EXTENSION monetary SCHEMA "Money $"')
                conn.execute("SET search_path = pg_catalog")
                types = register(conn)
                self.assertEqual(types.schema, "Money $")
                m = Money.from_minor_units(BIG, "CLF")
                self.assertEqual(conn.execute('SELECT %t, %b, %s, "Money $".minor_units(%s)::text',
                                              (m, m, [m], m)).fetchone(),
                                 (m, m, [m], str(BIG)))
                with psycopg.ClientCursor(conn) as cur:
                    cur.execute("SELECT %s, %s", (m, Currency("CLF")))
                    self.assertEqual(cur.fetchone(), (m, "CLF"))
                with conn.cursor() as cur:
                    with cur.copy("COPY (SELECT %s::\"Money $\".monetary) TO STDOUT"
                                  " (FORMAT BINARY)", (m,)) as copy:
                        copy.set_types([types.monetary.oid])
                        self.assertEqual(list(copy.rows()), [(m,)])
        finally:
            self.conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)))


class _Raw(bytes):
    """Bytes sent as they are, typed monetary: to probe the server's monetary_recv."""


class _RawDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj):
        return bytes(obj)


# --------------------------------------------------------------------------
class LedgerTests(DatabaseTest):

    def account(self, name, currency="USD", *, normal="credit", negative=False):
        return self.conn.execute(
            "SELECT payments.create_account(%s, %s, %s, %s, NULL, %s)",
            (f"{name}-{uuid.uuid4().hex[:6]}", Currency(currency), normal, negative,
             LEDGER)).fetchone()[0]

    def post(self, conn, src, dst, amount, key=None, metadata=None):
        return conn.execute("SELECT payments.post_transfer(%s, %s, %s, %s, %s)",
                            (src, dst, amount, key, metadata)).fetchone()[0]

    def balance(self, account, conn=None):
        return (conn or self.conn).execute("SELECT payments.balance(%s)",
                                           (account,)).fetchone()[0]

    def test_post_transfer_with_money(self):
        bank = self.account("bank", normal="debit", negative=True)
        alice = self.account("alice")
        key = f"{RUN}-deposit"
        # ints and a Money, no cast: psycopg sends int2 and monetary
        tid = self.conn.execute("SELECT payments.post_transfer(%s, %s, %s)",
                                (bank, alice, Money("100.00", "USD"))).fetchone()[0]
        self.assertIsInstance(tid, int)
        tid2 = self.post(self.conn, bank, alice, Money("0.5", "USD"), key)
        self.assertEqual(self.post(self.conn, bank, alice, Money("0.50", "USD"), key), tid2)
        self.assertEqual(self.balance(alice), Money("100.50", "USD"))
        self.assertEqual(self.balance(bank), Money("100.50", "USD"))
        with self.assertRaises(psycopg.Error) as cm:  # another request, same key
            self.post(self.conn, bank, alice, Money("0.51", "USD"), key)
        self.assertEqual(cm.exception.sqlstate, "23I01")
        with self.assertRaises(psycopg.Error) as cm:
            self.post(self.conn, alice, bank, Money("1000", "USD"))
        self.assertEqual(cm.exception.sqlstate, "23L01")
        self.assertFalse(is_retryable(cm.exception))
        with self.assertRaises(psycopg.Error) as cm:
            self.post(self.conn, alice, bank, Money("1", "USD/4"))
        self.assertEqual(cm.exception.sqlstate, "22000")
        # the ledger returns Money in binary too
        with self.conn.cursor(binary=True) as cur:
            cur.execute("SELECT amount FROM payments.transfers WHERE ledger = %s"
                        " AND id = %s", (LEDGER, tid2))
            self.assertEqual(cur.fetchone()[0], Money("0.50", "USD"))

    def test_post_transfers_entry(self):
        """post_transfers() with a list of payments.transfer_request holding Money."""
        bank = self.account("entry-bank", "JPY", normal="debit", negative=True)
        shop, fees = self.account("entry-shop", "JPY"), self.account("entry-fees", "JPY")
        with connect() as conn:
            info = CompositeInfo.fetch(conn, "payments.transfer_request")
            register_composite(info, conn)
            Request = info.python_type
            for n, ph in enumerate(("%t", "%b")):
                requests = [Request(bank, shop, Money(1940, "JPY"), None, None),
                            Request(bank, fees, Money(60, "JPY"), None,
                                    Jsonb({"fee": True}))]
                key = f"{RUN}-entry-{n}"
                ids = conn.execute(f"SELECT payments.post_transfers({ph}, %s)",
                                   (requests, key)).fetchone()[0]
                self.assertEqual(len(ids), 2)
                self.assertEqual(conn.execute(f"SELECT payments.post_transfers({ph}, %s)",
                                              (requests, key)).fetchone()[0], ids)
        self.assertEqual(self.balance(shop), Money(3880, "JPY"))
        self.assertEqual(self.balance(fees), Money(120, "JPY"))

    def test_scale_18_limits(self):
        src = self.account("eth-src", "ETH/18", normal="debit", negative=True)
        dst = self.account("eth-dst", "ETH/18")
        most = Money.from_minor_units(10 ** 19, "ETH/18")  # 10 ETH: the per-transfer cap
        self.post(self.conn, src, dst, most)
        self.post(self.conn, src, dst, Money.from_minor_units(1, "ETH/18"))
        self.assertEqual(self.balance(dst), Money("10.000000000000000001", "ETH/18"))
        with self.assertRaises(psycopg.errors.NumericValueOutOfRange):
            self.post(self.conn, src, dst, Money.from_minor_units(10 ** 19 + 1, "ETH/18"))

    def test_copy_transfers_binary(self):
        bank = self.account("copy-bank", "BHD", normal="debit", negative=True)
        users = [self.account(f"copy-u{i}", "BHD") for i in range(3)]
        rows = [(LEDGER, bank, u, Money(f"{i + 1}.001", "BHD"), f"{RUN}-copy-{i}")
                for i, u in enumerate(users)]
        with self.conn.cursor() as cur:
            with cur.copy("COPY payments.transfers (ledger, from_account, to_account,"
                          " amount, idempotency_key) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["text", "int8", "int8", "monetary", "text"])
                for row in rows:
                    copy.write_row(row)
        self.assertEqual([self.balance(u) for u in users],
                         [Money("1.001", "BHD"), Money("2.001", "BHD"), Money("3.001", "BHD")])
        self.assertEqual(self.balance(bank), Money("6.003", "BHD"))

    # ---- the retryable failures, each made to happen ----------------------

    def test_retry_serialization_failure(self):
        bank = self.account("rr-bank", normal="debit", negative=True)
        alice = self.account("rr-alice")
        other = connect()
        first = [True]

        def work(conn):
            conn.execute("SELECT 1")  # the snapshot is taken here
            if first[0]:
                first[0] = False
                self.post(other, bank, alice, Money("1", "USD"))  # concurrent change
            return self.post(conn, bank, alice, Money("2", "USD"), f"{RUN}-rr")

        retrier = Retrier(lambda: self._rr_connect())
        try:
            tid = retrier.run(work)
        finally:
            retrier.close()
            other.close()
        self.assertEqual(retrier.stats, Counter({"40001": 1}))
        self.assertEqual(self.post(self.conn, bank, alice, Money("2", "USD"), f"{RUN}-rr"), tid)
        self.assertEqual(self.balance(alice), Money("3", "USD"))

    def _rr_connect(self):
        conn = connect()
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return conn

    def test_retry_deadlock(self):
        x, y = (self.account(n, normal="debit", negative=True) for n in ("dl-x", "dl-y"))
        a, b = self.account("dl-a"), self.account("dl-b")
        barrier = threading.Barrier(2, timeout=20)
        results, stats = {}, {}

        def worker(name, src, first, second):
            def work(conn):
                self.post(conn, src, first, Money("1", "USD"), f"{RUN}-{name}-1")
                if not results.get(f"{name}-waited"):
                    results[f"{name}-waited"] = True
                    barrier.wait()  # both hold their first account
                return self.post(conn, src, second, Money("2", "USD"), f"{RUN}-{name}-2")

            def conn_factory():
                conn = connect()
                try:  # detect it sooner than the default 1 s (superusers only)
                    conn.execute("SET deadlock_timeout = '100ms'")
                except psycopg.errors.InsufficientPrivilege:
                    pass
                return conn
            retrier = Retrier(conn_factory)
            try:
                results[name] = retrier.run(work)
            finally:
                stats[name] = retrier.stats
                retrier.close()

        threads = [threading.Thread(target=worker, args=("t1", x, a, b)),
                   threading.Thread(target=worker, args=("t2", y, b, a))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertIn("t1", results)
        self.assertIn("t2", results)
        self.assertEqual(stats["t1"]["40P01"] + stats["t2"]["40P01"], 1, stats)
        self.assertEqual(self.balance(a), Money("3", "USD"))
        self.assertEqual(self.balance(b), Money("3", "USD"))

    def test_retry_lock_timeout(self):
        self._retry_timeout("lock_timeout", "55P03")

    def test_retry_statement_timeout(self):
        self._retry_timeout("statement_timeout", "57014")

    def _retry_timeout(self, setting, sqlstate):
        bank = self.account("lt-bank", normal="debit", negative=True)
        alice = self.account("lt-alice")
        holder = connect()
        holder.execute("BEGIN")
        self.post(holder, bank, alice, Money("5", "USD"))  # holds both accounts

        def conn_factory():
            conn = connect()
            conn.execute(f"SET {setting} = '100ms'")
            return conn

        retrier = Retrier(conn_factory, base_delay=0.05)
        attempts = [0]

        def work(conn):
            attempts[0] += 1
            if attempts[0] == 2:
                holder.execute("COMMIT")
            return self.post(conn, bank, alice, Money("1", "USD"), f"{RUN}-{setting}")

        try:
            retrier.run(work)
        finally:
            retrier.close()
            holder.close()
        self.assertEqual(retrier.stats, Counter({sqlstate: 1}))
        self.assertEqual(self.balance(alice), Money("6", "USD"))

    def test_retry_lost_connection(self):
        """The backend killed before and after the commit: one transfer each time."""
        bank = self.account("lc-bank", normal="debit", negative=True)
        alice = self.account("lc-alice")
        killer = connect()
        for when in ("before-commit", "after-commit"):
            key = f"{RUN}-lc-{when}"
            retrier = Retrier(connect)
            calls = []

            def work(conn):
                tid = self.post(conn, bank, alice, Money("1", "USD"), key)
                calls.append(tid)
                if len(calls) == 1 and when == "before-commit":
                    killer.execute("SELECT pg_terminate_backend(%s, 5000)",
                                   (conn.info.backend_pid,))
                return tid

            try:
                tid = retrier.run(work)
                if when == "after-commit":
                    # the commit happened; the answer never came: retry with the key
                    killer.execute("SELECT pg_terminate_backend(%s, 5000)",
                                   (retrier.conn.info.backend_pid,))
                    self.assertEqual(retrier.run(work), tid)
            finally:
                retrier.close()
            with self.subTest(when=when):
                self.assertEqual(retrier.stats, Counter({"lost": 1}))
                self.assertEqual(len(calls), 2)
                if when == "before-commit":
                    # the first attempt's id was rolled back; the key was free
                    self.assertNotEqual(calls[0], calls[1])
                else:
                    self.assertEqual(calls[0], calls[1])
                self.assertEqual(self.conn.execute(
                    "SELECT count(*) FROM payments.transfers WHERE ledger = %s"
                    " AND idempotency_key = %s", (LEDGER, key)).fetchone()[0], 1)
        killer.close()
        self.assertEqual(self.balance(alice), Money("2", "USD"))

    # ---- many clients at once ---------------------------------------------

    def test_concurrent_transfers(self):
        threads_n, per_thread, users_n = 8, 40, 6
        usd = "USD"
        bank = self.account("cc-bank", normal="debit", negative=True)
        users = [self.account(f"cc-user{i}") for i in range(users_n)]
        # ok[key] = (transfer id, from, to, amount); declined: keys refused with 23L01
        ok, declined, lock = {}, set(), threading.Lock()
        for i, u in enumerate(users):
            key = f"{RUN}-fund-{i}"
            ok[key] = (self.post(self.conn, bank, u, Money("300.00", usd), key),
                       bank, u, Money("300.00", usd))
        pids, done = {}, threading.Event()
        stats, errors = Counter(), []
        meta = {"run": RUN, "note": "same metadata on every attempt"}

        def worker(n):
            rnd = random.Random(n)
            rr = n % 4 == 0           # REPEATABLE READ: 40001 when a replay races
            pair = n % 4 == 1         # two calls in one transaction: may deadlock

            def conn_factory():
                conn = connect()
                if rr:
                    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                if n % 4 == 3:
                    conn.execute("SET lock_timeout = '50ms'")  # 55P03 under contention
                try:
                    conn.execute("SET deadlock_timeout = '100ms'")
                except psycopg.errors.InsufficientPrivilege:
                    pass
                pids[n] = conn.info.backend_pid
                return conn

            retrier = Retrier(conn_factory, attempts=100)
            try:
                for i in range(per_thread):
                    legs = []
                    for leg in range(2 if pair else 1):
                        kind = rnd.random()
                        src, dst = rnd.sample(users, 2)
                        if kind < 0.15:
                            src = bank
                        elif kind < 0.25:
                            dst = bank
                        amount = Money.from_minor_units(rnd.randint(1, 15000), usd)
                        legs.append((f"{RUN}-w{n}-{i}-{leg}", src, dst, amount))

                    def work(conn, legs=legs):
                        return [self.post(conn, s, d, a, k, Jsonb(meta))
                                for k, s, d, a in legs]
                    try:
                        ids = retrier.run(work)
                    except psycopg.Error as exc:
                        if exc.sqlstate != "23L01":
                            raise
                        with lock:
                            declined.update(k for k, *_ in legs)
                    else:
                        with lock:
                            for tid, (k, s, d, a) in zip(ids, legs):
                                ok[k] = (tid, s, d, a)
            except Exception as exc:  # reported by the main thread
                errors.append(f"worker {n}: {exc!r}")
            finally:
                pids.pop(n, None)
                with lock:
                    stats.update(retrier.stats)
                retrier.close()

        def chaos():
            killer = connect()
            kills = 0
            try:
                while not done.is_set():
                    victims = list(pids.values())
                    if victims:
                        kills += killer.execute("SELECT pg_terminate_backend(%s)",
                                                (random.choice(victims),)).fetchone()[0]
                    done.wait(0.15 if kills else 0.01)
            finally:
                stats["killed"] = kills
                killer.close()

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
        chaos_thread = threading.Thread(target=chaos)
        started = time.monotonic()
        for t in workers:
            t.start()
        chaos_thread.start()
        for t in workers:
            t.join(120)
        done.set()
        chaos_thread.join(30)
        elapsed = time.monotonic() - started
        self.assertEqual(errors, [])

        # the ledger holds exactly the transfers the clients were told were posted
        rows = self.conn.execute(
            "SELECT idempotency_key, id, from_account, to_account, amount"
            "  FROM payments.transfers WHERE ledger = %s AND idempotency_key LIKE %s",
            (LEDGER, f"{RUN}-w%")).fetchall()
        server = {k: (tid, s, d, a) for k, tid, s, d, a in rows}
        self.assertEqual(len(server), len(rows))
        client = {k: v for k, v in ok.items() if k.startswith(f"{RUN}-w")}
        self.assertEqual(server, client)
        self.assertFalse(declined & set(server))

        # exact balances: credit-normal users, debit-normal bank
        expected = defaultdict(lambda: Money.zero(usd))
        for tid, s, d, a in ok.values():
            expected[s] -= a
            expected[d] += a
        expected[bank] = -expected[bank]  # debit-normal: debits minus credits
        for acct in [bank] + users:
            self.assertEqual(self.balance(acct), expected[acct], acct)
        total = sum((self.balance(u) for u in users), Money.zero(usd))
        self.assertEqual(total, self.balance(bank))  # money was neither made nor lost
        self.assertEqual(self.conn.execute("SELECT * FROM payments.verify_ledger()").fetchall(), [])
        self.assertGreaterEqual(stats["lost"], 1, stats)
        print(f"\n  concurrent: {len(client)} transfers posted, {len(declined)} declined"
              f" (23L01), in {elapsed:.1f}s; retries: {dict(stats)}", file=sys.stderr)


class VerifyLedgerTest(DatabaseTest):
    def test_zz_verify_ledger(self):
        self.assertEqual(self.conn.execute("SELECT * FROM payments.verify_ledger()").fetchall(), [])


if __name__ == "__main__":
    unittest.main()
