-- 030_ledger_throughput.sh: the floor, the bare writes any ledger must make
-- for one transfer, on plain tables (floor.*) of the ledger's shape with
-- bigint amounts and no triggers: insert the transfer (with its id and its
-- entry's id drawn from sequences), update both balances, insert both
-- postings with the balances after.
--
-- One statement, so one round trip and one plan (pgbench -M prepared), like
-- the one call of post_transfer().  Its one UPDATE locks the two account rows
-- in id order: the plan is an index scan of the primary key with id = ANY
-- (...), which takes the array's keys in ascending order.  The benchmark
-- runs it with enable_bitmapscan = off, since a bitmap heap scan (which the
-- planner may prefer) would visit the rows in physical order, and it checks
-- the plan.
\set f random(1, 1000)
\set t random(1, 999)
\set t case when :t >= :f then :t + 1 else :t end
\set cents random(1, 10000)
WITH transfer AS (
    INSERT INTO floor.transfers (ledger, from_account, to_account, amount, created_at)
    VALUES ('bench', :f::bigint, :t::bigint, :cents::bigint, now())
    RETURNING id, created_at
), account AS (
    UPDATE floor.accounts
       SET debits_posted = debits_posted + CASE WHEN id = :f::bigint THEN :cents::bigint ELSE 0 END,
           credits_posted = credits_posted + CASE WHEN id = :t::bigint THEN :cents::bigint ELSE 0 END
     WHERE ledger = 'bench' AND id IN (:f::bigint, :t::bigint)
    RETURNING id, credits_posted - debits_posted AS balance_after
)
INSERT INTO floor.postings (ledger, transfer_id, account_id, side, amount, balance_after, created_at)
SELECT 'bench', transfer.id, account.id,
       CASE WHEN account.id = :f::bigint THEN 'debit' ELSE 'credit' END,
       :cents::bigint, account.balance_after, transfer.created_at
  FROM transfer, account;
