-- 070_fx_payments.sh: an FX payment, payments.post_fx_transfer(), from a
-- random EUR customer to a random USD merchant, 0.01 to 10.00 EUR, the USD
-- amount converted at the stored rate: one entry of two transfers, customer
-- -> fx:EUR and fx:USD -> merchant, and its row in payments.fx_entries.  -D
-- sets the account ranges (and the FX accounts and the rate, which only the
-- baseline uses).
\set c random(:first_customer, :last_customer)
\set m random(:first_merchant, :last_merchant)
\set cents random(1, 1000)
SELECT payments.post_fx_transfer(:c::bigint, :m::bigint, '0.01 EUR'::monetary * :cents::bigint,
                                 'USD');
