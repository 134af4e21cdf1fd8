-- 070_fx_payments.sh, the baseline: the two transfers of an FX payment
-- (070_fx_payment.sql), posted as plain transfers in one call of
-- payments.post_transfers(), one entry: the same kind of random customer
-- and merchant, through the same FX accounts (fx_eur, fx_usd: their ids, as
-- plain accounts), the USD amount converted here by pgbench at the same
-- rate (-D rate; int() rounds to the nearest, ties to even, in floating
-- point: a cent apart at most, on a tie), with no rate looked up and no
-- fx_entries row.
\set c random(:first_customer, :last_customer)
\set m random(:first_merchant, :last_merchant)
\set cents random(1, 1000)
\set usd_cents int(:cents * :rate)
SELECT payments.post_transfers(ARRAY[
         (:c::bigint, :fx_eur::bigint, '0.01 EUR'::monetary * :cents::bigint, NULL, NULL),
         (:fx_usd::bigint, :m::bigint, '0.01 USD'::monetary * :usd_cents::bigint, NULL, NULL)
       ]::payments.transfer_request[]);
