-- 030_ledger_throughput.sh: one transfer through the ledger's API, between
-- two distinct random user accounts, 0.01 to 100.00 USD.  The amount is
-- built as an application holds it, a monetary, not through numeric
-- division in the timed statement (the floor gets its bigint cents as is).
\set f random(1, 1000)
\set t random(1, 999)
\set t case when :t >= :f then :t + 1 else :t end
\set cents random(1, 10000)
SELECT payments.post_transfer(:f::bigint, :t::bigint, '0.01 USD'::monetary * :cents::bigint);
