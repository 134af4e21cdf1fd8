-- The starting state of 070_fx_payments.sh, in a database of its own, all
-- in ledger 'bench':
--   one stored rate, 1 EUR = 1.0842 USD (from 2020-01-01, source 'bench')
--   the FX accounts fx:EUR and fx:USD (payments.create_fx_account(): may go
--                        negative, hot, 16 stripes)
--   the bank             EUR, debit-normal, may go negative
--   :merchants merchants USD (credit-normal, allow_negative false)
--   :customers customers EUR (credit-normal, allow_negative false), funded
--                        with 10,000.00 EUR each
-- then a history of :history FX payments (payments.post_fx_transfer(), one
-- entry of two transfers each) from random customers to random merchants,
-- 0.01 to 100.00 EUR paid, of which 4% are refunded in full and 1% in half
-- (payments.reverse_fx_transfer(), at the original rate).  The script reads
-- the accounts' ids back from the tables; it does not assume them.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

SELECT payments.set_rate('EUR', 'USD', 1.0842, '2020-01-01', 'bench');
SELECT payments.create_fx_account('EUR', 'bench');
SELECT payments.create_fx_account('USD', 'bench');

SELECT payments.create_account('bank', 'EUR', 'debit', true, ledger => 'bench');
SELECT payments.create_account('merchant-' || i, 'USD', ledger => 'bench')
  FROM generate_series(1, :merchants) i;
SELECT payments.create_account('customer-' || i, 'EUR', ledger => 'bench')
  FROM generate_series(1, :customers) i;

INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
SELECT 'bench', (SELECT b.id FROM payments.accounts b WHERE b.ledger = 'bench' AND b.name = 'bank') AS bank,
       id, '10000 EUR'
  FROM payments.accounts WHERE ledger = 'bench' AND name LIKE 'customer-%' ORDER BY id;

CREATE TEMP TABLE customers AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id
  FROM payments.accounts WHERE ledger = 'bench' AND name LIKE 'customer-%';
CREATE TEMP TABLE merchants AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id
  FROM payments.accounts WHERE ledger = 'bench' AND name LIKE 'merchant-%';

CREATE TEMP TABLE card AS
SELECT g, floor(random() * :customers)::bigint AS cn, floor(random() * :merchants)::bigint AS mn,
       1 + floor(random() * 10000)::bigint AS cents
  FROM generate_series(1, :history) g;

-- One call per payment, each its own entry, committed a hundred at a
-- time: one transaction of them all would update the FX accounts' stripe
-- rows (and the busier accounts' rows) over and over, each time a new row
-- version it must step past the next time, and slow down quadratically.
CREATE TEMP TABLE fx (g bigint, cents bigint, entry bigint);
SET synchronous_commit = off;
DO $$
DECLARE
    r record;
    n bigint := 0;
BEGIN
    FOR r IN SELECT card.g, card.cents, c.id AS c, m.id AS m
               FROM card JOIN customers c ON c.n = card.cn JOIN merchants m ON m.n = card.mn
              ORDER BY card.g
    LOOP
        INSERT INTO fx
        VALUES (r.g, r.cents,
                payments.post_fx_transfer(r.c, r.m, '0.01 EUR'::monetary * r.cents, 'USD'));
        n := n + 1;
        IF n % 100 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;

-- refunds, at the original rate: 4% in full, 1% in half
DO $$
DECLARE
    r record;
    n bigint := 0;
BEGIN
    FOR r IN SELECT entry, CASE WHEN g % 25 = 0 THEN NULL
                                ELSE '0.01 EUR'::monetary * greatest(cents / 2, 1) END AS amount
               FROM fx WHERE g % 25 = 0 OR g % 100 = 1 ORDER BY g
    LOOP
        PERFORM payments.reverse_fx_transfer(r.entry, r.amount);
        n := n + 1;
        IF n % 100 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;
RESET synchronous_commit;
