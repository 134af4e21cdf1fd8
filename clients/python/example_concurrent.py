#!/usr/bin/python3
"""Post transfers from several threads, safely retried, and print the balances.

    PGHOST=... PGPORT=... PGUSER=... PGDATABASE=... /usr/bin/python3 example_concurrent.py

The database needs `CREATE EXTENSION payments CASCADE`. Each run makes its own
ledger, so it can be run again and again.
"""

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

from payments_money import Currency, Money, Retrier, register

LEDGER = f"example-{uuid.uuid4().hex[:8]}"
USD = Currency("USD")


def connect():
    """One connection per thread, adapted for Money; autocommit, so that each
    Retrier.run() is exactly one explicit transaction."""
    conn = psycopg.connect(autocommit=True)
    register(conn)
    return conn


def main():
    with connect() as conn:
        def create(name, **options):
            return conn.execute(
                "SELECT payments.create_account(%s, %s, %s, %s, NULL, %s)",
                (name, USD, options.get("normal", "credit"),
                 options.get("allow_negative", False), LEDGER)).fetchone()[0]

        bank = create("bank", normal="debit", allow_negative=True)
        customers = [create(f"customer-{i}") for i in range(4)]
        shop = create("shop")

    # The work: top up every customer, then many small purchases. Each request
    # has its idempotency key and metadata fixed *before* the first attempt:
    # a retry must send exactly the same call.
    top_ups = [(f"{LEDGER}-topup-{c}", bank, c, Money("150.00", USD), {"kind": "top-up"})
               for c in customers]
    orders = [(f"{LEDGER}-order-{n}", customers[n % 4], shop,
               Money(Decimal("0.99") + n % 7, USD), {"order": n})
              for n in range(200)]

    declined = []

    def post_all(requests):
        retrier = Retrier(connect)  # retries 40001, 40P01, 55P03, 57014, lost connections
        try:
            for key, src, dst, amount, metadata in requests:
                try:
                    retrier.run(lambda conn: conn.execute(
                        "SELECT payments.post_transfer(%s, %s, %s, %s, %s)",
                        (src, dst, amount, key, Jsonb(metadata))).fetchone()[0])
                except psycopg.Error as exc:
                    if exc.sqlstate != "23L01":  # insufficient funds: a decline, not a bug
                        raise
                    declined.append(key)
            return retrier.stats
        finally:
            retrier.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(post_all, [top_ups[i::4] for i in range(4)]))  # funds first
        stats = list(pool.map(post_all, [orders[i::8] for i in range(8)]))

    with connect() as conn:
        print(f"ledger {LEDGER}: {len(orders) - len(declined)} orders paid,"
              f" {len(declined)} declined for insufficient funds")
        for name, balance in conn.execute(
                "SELECT name, balance FROM payments.account_balances"
                " WHERE ledger = %s ORDER BY account_id", (LEDGER,)):
            print(f"  {name:12} {balance}")  # balance is a Money: '12.34 USD'
        retries = sum(stats, Counter())
        print(f"retries: {dict(retries) or 'none'}")
        problems = conn.execute("SELECT * FROM payments.verify_ledger()").fetchall()
        print("verify_ledger():", problems or "no problems")
        return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
