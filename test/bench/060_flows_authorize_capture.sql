-- 060_payment_flows.sh: a card payment as a hold (authorization, expiring
-- in an hour) and its capture in full, from a random customer to a random
-- merchant, 0.01 to 10.00 USD; each statement commits on its own, as the
-- two requests of an application do.  -D sets the account ranges.
\set c random(:first_customer, :last_customer)
\set m random(:first_merchant, :last_merchant)
\set cents random(1, 1000)
SELECT payments.hold(:c::bigint, :m::bigint, '0.01 USD'::monetary * :cents::bigint,
                     now() + interval '1 hour') AS hold_id \gset
SELECT payments.capture(:hold_id::bigint);
