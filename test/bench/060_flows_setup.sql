-- The starting state of 060_payment_flows.sh, in a database of its own,
-- all in ledger 'bench' and loaded through the posting engine (one INSERT
-- of many transfers per step, as 050 does):
--   account 1            the bank: debit-normal, may go negative
--   accounts 2 .. M+1    :merchants merchants (credit-normal, allow_negative false)
--   the next :customers  customers (credit-normal, allow_negative false), funded
--                        with 10,000.00 USD each
-- then a card history of :history payments from random customers to random
-- merchants, 0.01 to 100.00 USD: half plain transfers, half holds (expiring
-- in 7 days) of which 90% are captured, 5% released and 5% left open.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

SELECT payments.create_account('bank', 'USD', 'debit', true, ledger => 'bench');
SELECT payments.create_account('merchant-' || i, 'USD', ledger => 'bench')
  FROM generate_series(1, :merchants) i;
SELECT payments.create_account('customer-' || i, 'USD', ledger => 'bench')
  FROM generate_series(1, :customers) i;

INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
SELECT 'bench', 1, id, '10000 USD' FROM payments.accounts WHERE name LIKE 'customer-%';

CREATE TEMP TABLE card AS
SELECT g, :merchants + 2 + floor(random() * :customers)::bigint AS c,
       2 + floor(random() * :merchants)::bigint AS m,
       '0.01 USD'::monetary * (1 + floor(random() * 10000)::bigint) AS amount
  FROM generate_series(1, :history) g;

INSERT INTO payments.transfers (ledger, from_account, to_account, amount)
SELECT 'bench', c, m, amount FROM card WHERE g % 2 = 0;
INSERT INTO payments.transfers (ledger, from_account, to_account, amount, status, expires_at)
SELECT 'bench', c, m, amount, 'pending', now() + interval '7 days' FROM card WHERE g % 2 = 1;

-- resolve the holds: captures (status posted) and voids, each naming its hold
INSERT INTO payments.transfers (ledger, from_account, to_account, amount, status, pending_id)
SELECT h.ledger, h.from_account, h.to_account, h.amount,
       CASE WHEN n % 20 = 0 THEN 'voided' ELSE 'posted' END, h.id
  FROM (SELECT t.*, row_number() OVER (ORDER BY t.id) AS n
          FROM payments.transfers t WHERE t.status = 'pending') h
 WHERE n % 20 <> 1
 ORDER BY h.id;
