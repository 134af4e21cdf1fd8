-- 060_payment_flows.sh, the baseline: two plain transfers between the same
-- kind of accounts as 060_flows_authorize_capture.sql (the same random
-- customer and merchant for both, so that each touches the same rows twice
-- as a hold and its capture do), each committing on its own.
\set c random(:first_customer, :last_customer)
\set m random(:first_merchant, :last_merchant)
\set cents random(1, 1000)
SELECT payments.post_transfer(:c::bigint, :m::bigint, '0.01 USD'::monetary * :cents::bigint);
SELECT payments.post_transfer(:c::bigint, :m::bigint, '0.01 USD'::monetary * :cents::bigint);
