-- Payments between currencies (DESIGN.md section 5): FX accounts, FX
-- entries converted from the stored rates or at a quoted rate, their
-- record, every rounding mode, scales 0, 3 and 18, refunds at the original
-- and at today's rate, positions and revaluation, idempotency, and every
-- refusal with its SQLSTATE through pg_temp.refuses() (nothing left
-- behind).  The randomised check against a numeric reference is
-- 043_fx_randomized.sql.
BEGIN;
SET search_path = public, payments;
SET LOCAL datestyle = 'ISO, YMD';
SET LOCAL timezone = 'UTC';
SET LOCAL payments.base_currency = 'USD';
SELECT plan(136);

\ir lib/ledger_helpers.sql

-- An FX entry as recorded: amount -> converted at numerator/denominator, rounding, basis.
CREATE FUNCTION pg_temp.fx(entry bigint) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s -> %s at %s/%s %s %s', f.amount, f.converted, f.rate_numerator,
                  f.rate_denominator, f.rounding, f.basis)
      FROM payments.fx_entries f WHERE f.entry_id = entry
$$;

-- An entry's transfers: from->to amount reverses, in id order.
CREATE FUNCTION pg_temp.entry_transfers(entry bigint) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s->%s %s %s', t.from_account, t.to_account, t.amount,
                             coalesce(t.reverses::text, '-')), ', ' ORDER BY t.id)
      FROM payments.transfers t WHERE t.entry_id = entry
$$;

-- rates and accounts ------------------------------------------------------------------------

SELECT payments.set_rate('EUR', 'USD', 1.0842, '2026-01-01', 'ECB');
SELECT payments.set_rate('USD', 'JPY', 155.5, '2026-01-01', 'ECB');
SELECT payments.set_rate('USD', 'BHD', 0.376, '2026-01-01', 'CBB peg');
SELECT payments.set_rate('ETH/18', 'USD', 3712.55, '2026-01-01', 'exchange');
-- a rate at which 0.03 EUR is 0.045 USD, half way between two cents
SELECT payments.set_rate('EUR', 'USD', 1.5, '2026-02-01', 'halfway');
SELECT payments.set_rate('EUR', 'USD', 1.0842, '2026-03-01', 'ECB');

SELECT payments.create_account('cust-eur', 'EUR', allow_negative => true, ledger => 'fx-tap') AS cust \gset
SELECT payments.create_account('poor-eur', 'EUR', ledger => 'fx-tap') AS poor \gset
SELECT payments.create_account('merch-usd', 'USD', ledger => 'fx-tap') AS merch \gset
SELECT payments.create_account('jpy', 'JPY', allow_negative => true, ledger => 'fx-tap') AS jpy \gset
SELECT payments.create_account('bhd', 'BHD', allow_negative => true, ledger => 'fx-tap') AS bhd \gset
SELECT payments.create_account('eth', 'ETH/18', allow_negative => true, ledger => 'fx-tap') AS eth \gset

SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'', ''2026-01-15'')', :cust, :merch),
    '23503', 'ledger "fx-tap" has no FX account in EUR',
    'an FX payment needs the ledger''s FX accounts');
SELECT is((pg_temp.error_of(format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'')',
                                   :cust, :merch)))[4],
          'Declare it with payments.create_fx_account(''EUR'', ''fx-tap'').',
          'the hint says how to declare it');

SELECT payments.create_fx_account('EUR', 'fx-tap') AS fx_eur \gset
SELECT payments.create_fx_account('USD', 'fx-tap') AS fx_usd \gset
SELECT payments.create_fx_account('JPY', 'fx-tap') AS fx_jpy \gset
SELECT payments.create_fx_account('BHD', 'fx-tap', false) AS fx_bhd \gset
SELECT payments.create_fx_account('ETH/18', 'fx-tap') AS fx_eth \gset
SELECT is(payments.create_fx_account('EUR', 'fx-tap'), :fx_eur::bigint,
          'declaring an FX account again returns the one there is');
SELECT is((SELECT format('%s %s %s %s %s', name, currency, normal_balance, allow_negative, hot)
             FROM payments.accounts WHERE id = :fx_eur),
          'fx:EUR EUR credit t t', 'an FX account: fx:CODE, credit-normal, may go negative, hot');
SELECT is((SELECT hot FROM payments.accounts WHERE id = :fx_bhd), false, 'hot => false leaves it cold');
SELECT is((SELECT name FROM payments.accounts WHERE id = :fx_eth), 'fx:ETH/18',
           'the name carries the scale of a currency written with one');
SELECT throws_ok($$SELECT payments.create_fx_account(NULL)$$, '22004',
                 'currency, ledger and hot must not be null', 'create_fx_account(NULL) is refused');

-- a payment converted from the stored rates -------------------------------------------------

SELECT payments.post_fx_transfer(:cust, :merch, '100.00 EUR', 'USD', '2026-01-15') AS e1 \gset
SELECT is(pg_temp.fx(:e1), '100.00 EUR -> 108.42 USD at 1.0842/1 half_even stored',
          'converted once at the stored rate, half_even by default');
SELECT is(pg_temp.entry_transfers(:e1),
          format('%s->%s 100.00 EUR -, %s->%s 108.42 USD -', :cust, :fx_eur, :fx_usd, :merch),
          'one entry: the customer pays the EUR FX account, the USD FX account pays the merchant');
SELECT is((SELECT converted FROM payments.fx_entries WHERE entry_id = :e1),
          payments.convert('100.00 EUR', 'USD', '2026-01-15'), 'it books what convert() returns');
SELECT is((SELECT rates FROM payments.fx_entries WHERE entry_id = :e1),
          '[{"from": "EUR", "to": "USD", "rate": 1.0842, "valid_from": "2026-01-01T00:00:00+00:00", "source": "ECB", "inverse": false}]'::jsonb,
          'the stored rate used is recorded: pair, rate, valid_from, source');
SELECT is((SELECT format('%s %s %s', rate_at, quote, reverses_entry) FROM payments.fx_entries
            WHERE entry_id = :e1), '2026-01-15 00:00:00+00  ', 'and the time it was taken at');
SELECT is((SELECT format('%s %s', payments.balance(:fx_eur), payments.balance(:fx_usd))),
          '100.00 EUR -108.42 USD', 'the FX accounts hold the positions: long EUR, short USD');
SELECT is((SELECT payments.balance(:merch)), '108.42 USD', 'the merchant is credited');

-- correcting a stored rate later changes no booked entry
UPDATE payments.exchange_rates SET rate = 1.2 WHERE from_currency = 'EUR' AND valid_from = '2026-01-01';
SELECT is(pg_temp.fx(:e1), '100.00 EUR -> 108.42 USD at 1.0842/1 half_even stored',
          'a corrected stored rate leaves the record as it was');
SELECT is((SELECT count(*) FROM payments.verify_ledger()), 0::bigint,
          'and the entry still verifies against its own rate');
UPDATE payments.exchange_rates SET rate = 1.0842 WHERE from_currency = 'EUR' AND valid_from = '2026-01-01';

-- every rounding mode at a half-way amount (0.03 EUR * 1.5 = 0.045 USD) ------------------------

SELECT is(pg_temp.fx(payments.post_fx_transfer(:cust, :merch, '0.03 EUR', 'USD', '2026-02-15', m::rounding_mode)),
          format('0.03 EUR -> %s USD at 1.5/1 %s stored', expected, m), 'half way, ' || m)
  FROM (VALUES ('half_even', '0.04'), ('half_up', '0.05'), ('half_down', '0.04'), ('up', '0.05'),
               ('down', '0.04'), ('ceiling', '0.05'), ('floor', '0.04')) v(m, expected);
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''0.03 EUR'', ''USD'', ''2026-02-15'', ''unnecessary'')',
           :cust, :merch),
    '22023', 'converting 0.03 EUR to USD needs rounding', 'unnecessary refuses to round');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''1 JPY'', ''EUR'', ''2026-01-15'', ''down'')',
           :jpy, :cust),
    '23514', '1 JPY converts to nothing in EUR', 'a payment converting to nothing is refused');

-- scales 0, 3 and 18, through the base currency -----------------------------------------------

SELECT payments.post_fx_transfer(:jpy, :bhd, '10000 JPY', 'BHD', '2026-01-15') AS e_jb \gset
SELECT is((SELECT converted FROM payments.fx_entries WHERE entry_id = :e_jb), '24.180 BHD',
          'JPY (0 decimals) to BHD (3): 10000 / 155.5 * 0.376, through USD');
SELECT is((SELECT jsonb_path_query_array(rates, '$[*].inverse') FROM payments.fx_entries
            WHERE entry_id = :e_jb), '[true, false]'::jsonb,
          'both stored rates recorded: USD->JPY divided by, USD->BHD multiplied by');
SELECT payments.post_fx_transfer(:bhd, :eth, '1.000 BHD', 'ETH/18', '2026-01-15') AS e_be \gset
SELECT is((SELECT converted FROM payments.fx_entries WHERE entry_id = :e_be),
          '0.000716374046971787 ETH/18', 'BHD to ETH/18: 1 / (0.376 * 3712.55) to 18 decimals');
SELECT payments.post_fx_transfer(:eth, :jpy, '0.5 ETH/18', 'JPY', '2026-01-15') AS e_ej \gset
SELECT is((SELECT converted FROM payments.fx_entries WHERE entry_id = :e_ej), '288651 JPY',
          'ETH/18 to JPY: 288650.7625 rounds half_even to 288651');
SELECT is((SELECT format('%s/%s', rate_numerator, rate_denominator) FROM payments.fx_entries
            WHERE entry_id = :e_ej), '577301.525/1', 'the recorded rate is the exact product');
SELECT is((SELECT count(*) FROM payments.fx_entries f
            WHERE f.converted <> payments.convert_at_rate(f.amount, currency(f.converted),
                                                          f.rate_numerator, f.rate_denominator,
                                                          f.rounding)),
          0::bigint, 'every recorded rate reproduces its converted amount');
SELECT is((SELECT count(*) FROM payments.fx_entries f
            WHERE f.converted <> payments.convert(f.amount, currency(f.converted), f.rate_at,
                                                  f.rounding)),
          0::bigint, 'and every entry booked what convert() returns at its time');

-- refusals ---------------------------------------------------------------------------------

SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'', ''2025-06-01'')', :cust, :merch),
    'P0002', 'no exchange rate from EUR to USD at 2025-06-01 00:00:00+00',
    'no rate at that time: the error names the pair and the time');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'', ''2026-01-15'')', :poor, :merch),
    '23L01', NULL, 'an insufficient source balance: nothing posted');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''EUR'')', :cust, :poor),
    '22023', 'amount 10.00 EUR is already in EUR', 'a payment within one currency is not FX');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''0.00 EUR'', ''USD'')', :cust, :merch),
    '23514', 'amount must be positive, not 0.00 EUR', 'a zero amount is refused');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''JPY'', ''2026-01-15'')', :cust, :merch),
    '22000', NULL, 'to_account in another currency than to_currency is refused');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'', rate => 1.1, to_amount => ''11.00 USD'')',
           :cust, :merch),
    '22023', 'a quote gives rate or to_amount, not both', 'a quote is a rate or amounts, not both');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'', quote => ''Q'')', :cust, :merch),
    '22023', 'quote names a quote but gives neither its rate nor its to_amount', 'a quote without terms');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'', to_amount => ''11.00 EUR'')',
           :cust, :merch),
    '22000', 'to_amount 11.00 EUR is not in to_currency USD', 'to_amount in another currency');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'', rate => -1)', :cust, :merch),
    '22023', 'rate_numerator must be a positive number, not -1', 'a rate that is not positive');
SELECT throws_ok($$SELECT payments.convert_at_rate('1.00 EUR', 'USD', 1.$$ || repeat('1', 80) || $$)$$,
                 '22023', NULL, 'a rate of more than 76 significant digits is refused');
SELECT throws_ok($$SELECT payments.convert_at_rate('99999999999999999999999999999999999.99 EUR', 'USD', 1000)$$,
                 '22003', 'converting 99999999999999999999999999999999999.99 EUR to USD is out of range',
                 'a conversion past 38 digits is out of range, never a wrap');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''10.00 EUR'', ''USD'', at => NULL)', :cust, :merch),
    '22004', 'at must not be null', 'a null time');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, NULL, ''10.00 EUR'', ''USD'')', :cust),
    '22004', 'to_account must not be null', 'a null account');

-- quotes ------------------------------------------------------------------------------------

SELECT payments.post_fx_transfer(:cust, :merch, '10.00 EUR', 'USD', rate => 1.1, quote => 'Q-1') AS eq1 \gset
SELECT is(pg_temp.fx(:eq1) || ' ' || (SELECT quote FROM payments.fx_entries WHERE entry_id = :eq1),
          '10.00 EUR -> 11.00 USD at 1.1/1 half_even quoted Q-1', 'a quoted rate, recorded with its quote');
SELECT payments.post_fx_transfer(:cust, :merch, '3.00 EUR', 'USD', to_amount => '3.25 USD') AS eq2 \gset
SELECT is(pg_temp.fx(:eq2), '3.00 EUR -> 3.25 USD at 13/12 half_even quoted',
          'quoted amounts: booked exactly, the rate their exact ratio in lowest terms');
SELECT is((SELECT rates FROM payments.fx_entries WHERE entry_id = :eq2), NULL::jsonb,
          'a quote uses no stored rate');
SELECT is(pg_temp.fx(payments.post_fx_transfer(:cust, :merch, '0.03 EUR', 'USD', rate => 1.5,
                                               mode => 'half_up')),
          '0.03 EUR -> 0.05 USD at 1.5/1 half_up quoted', 'a quoted rate is rounded once by mode');

-- idempotency ---------------------------------------------------------------------------------

SELECT payments.post_fx_transfer(:cust, :merch, '20.00 EUR', 'USD', '2026-01-15',
                                 idempotency_key => 'fx-1', metadata => '{"order": 7}') AS ek \gset
SELECT * FROM pg_temp.replays(
    format('SELECT payments.post_fx_transfer(%s, %s, ''20.00 EUR'', ''USD'', ''2026-01-15'', idempotency_key => ''fx-1'', metadata => ''{"order": 7}'')',
           :cust, :merch), :'ek', 'a replay returns the entry');
SELECT * FROM pg_temp.replays(
    format('SELECT payments.post_fx_transfer(%s, %s, ''20.00 EUR'', ''USD'', ''2026-03-15'', idempotency_key => ''fx-1'', metadata => ''{"order": 7}'')',
           :cust, :merch), :'ek', 'a retry at a later time (at = now()) still returns the entry');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''21.00 EUR'', ''USD'', idempotency_key => ''fx-1'', metadata => ''{"order": 7}'')',
           :cust, :merch),
    '23I01', 'idempotency key "fx-1" was already used for a different entry', 'another amount under the key');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''20.00 EUR'', ''USD'', mode => ''up'', idempotency_key => ''fx-1'', metadata => ''{"order": 7}'')',
           :cust, :merch),
    '23I01', 'idempotency key "fx-1" was already used for a different entry', 'another rounding under the key');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''20.00 EUR'', ''USD'', rate => 1.1, idempotency_key => ''fx-1'', metadata => ''{"order": 7}'')',
           :cust, :merch),
    '23I01', 'idempotency key "fx-1" was already used for a different entry', 'a quote under the key of a conversion');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''20.00 EUR'', ''USD'', idempotency_key => ''fx-1'')',
           :cust, :merch),
    '23I01', 'idempotency key "fx-1" was already used for a different entry', 'other metadata under the key');
SELECT payments.post_transfers(ARRAY[(:cust, :fx_eur, '1.00 EUR', NULL, NULL)]::payments.transfer_request[],
                               'plain-1') AS plain_entry \gset
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''1.00 EUR'', ''USD'', idempotency_key => ''plain-1'')',
           :cust, :merch),
    '23I01', 'idempotency key "plain-1" was already used for a different entry',
    'the key of a plain entry is not an FX payment''s');
SELECT payments.post_fx_transfer(:cust, :merch, '5.00 EUR', 'USD', rate => 1.25,
                                 idempotency_key => 'fx-q') AS ekq \gset
SELECT * FROM pg_temp.replays(
    format('SELECT payments.post_fx_transfer(%s, %s, ''5.00 EUR'', ''USD'', rate => 1.250, idempotency_key => ''fx-q'')',
           :cust, :merch), :'ekq', 'a quoted replay matches the rate by value');

-- refunds -------------------------------------------------------------------------------------

-- rates move: EUR is worth 1.2 USD from March 10th
SELECT payments.set_rate('EUR', 'USD', 1.2, '2026-03-10', 'ECB');
SELECT format('%s %s', payments.balance(:fx_eur), payments.balance(:fx_usd)) AS positions_before \gset
SELECT payments.reverse_fx_transfer(:e1) AS r_full \gset
SELECT is(pg_temp.fx(:r_full), '100.00 EUR -> 108.42 USD at 1.0842/1 half_even original',
          'a refund is at the original rate by default, whatever the rate now');
SELECT is((SELECT format('%s->%s %s', from_account, to_account, reverses_entry) FROM payments.fx_entries
            WHERE entry_id = :r_full), format('%s->%s %s', :merch, :cust, :e1),
          'the merchant refunds the customer; the record names the payment');
SELECT is(pg_temp.entry_transfers(:r_full),
          format('%s->%s 108.42 USD %s, %s->%s 100.00 EUR %s', :merch, :fx_usd,
                 (SELECT id FROM payments.transfers WHERE entry_id = :e1 AND to_account = :merch),
                 :fx_eur, :cust,
                 (SELECT id FROM payments.transfers WHERE entry_id = :e1 AND from_account = :cust)),
          'both legs reversed, each naming the leg it reverses');
SELECT is(format('%s %s', payments.balance(:fx_eur) + '100.00 EUR', payments.balance(:fx_usd) - '108.42 USD'),
          :'positions_before', 'a full refund at the original rate leaves the FX positions as before the payment');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_fx_transfer(%s)', :e1), '23L02',
                              format('FX entry %s is already reversed in full', :e1),
                              'nothing left to refund');

-- in thirds: the running total keeps the parts summing to the whole
SELECT payments.post_fx_transfer(:cust, :merch, '100.00 EUR', 'USD', '2026-01-15') AS e2 \gset
SELECT is(pg_temp.fx(payments.reverse_fx_transfer(:e2, '33.33 EUR')),
          '33.33 EUR -> 36.14 USD at 1.0842/1 half_even original', 'a first third: 36.137 rounds to 36.14');
SELECT is(pg_temp.fx(payments.reverse_fx_transfer(:e2, '33.33 EUR')),
          '33.33 EUR -> 36.13 USD at 1.0842/1 half_even original',
          'a second third: 72.27 of the running total less the 36.14 before');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_fx_transfer(%s, ''33.35 EUR'')', :e2), '23L02',
                              NULL, 'refunding more than is left is refused');
SELECT payments.reverse_fx_transfer(:e2) AS r_rest \gset
SELECT is(pg_temp.fx(:r_rest), '33.34 EUR -> 36.15 USD at 1.0842/1 half_even original',
          'the rest, by default all that is left');
SELECT is((SELECT format('%s %s', sum(amount), sum(converted)) FROM payments.fx_entries
            WHERE reverses_entry = :e2), '100.00 EUR 108.42 USD',
          'the parts give back exactly both original amounts');
SELECT is((SELECT string_agg(refunded_before::text, ' ' ORDER BY entry_id) FROM payments.fx_entries
            WHERE reverses_entry = :e2), '0.00 EUR 33.33 EUR 66.66 EUR', 'each refund records where it started');

-- at today's rate, if asked
SELECT payments.post_fx_transfer(:cust, :merch, '50.00 EUR', 'USD', '2026-01-15') AS e3 \gset
SELECT payments.reverse_fx_transfer(:e3, '10.00 EUR', at_original_rate => false) AS r_today \gset
SELECT is(pg_temp.fx(:r_today), '10.00 EUR -> 12.00 USD at 1.2/1 half_even stored',
          'a refund at today''s rate converts anew (1.2 now)');
SELECT is((SELECT count(reverses) FROM payments.transfers WHERE entry_id = :r_today), 1::bigint,
          'only the customer''s leg reverses the original: the merchant''s is a new conversion');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_fx_transfer(%s, ''1.00 USD'')', :e3), '22000',
                              format('refund amount 1.00 USD is not in EUR, the currency entry %s was paid in', :e3),
                              'a refund amount in the merchant''s currency is refused');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_fx_transfer(%s)', :r_today), '22023',
                              format('entry %s is itself a refund of an FX payment', :r_today),
                              'a refund is not refunded');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_entry(%s)', :e3), '22023',
                              format('transfer %s is a leg of FX entry %s',
                                     (SELECT min(id) FROM payments.transfers WHERE entry_id = :e3), :e3),
                              'reverse_entry() leaves FX payments to reverse_fx_transfer()');
SELECT * FROM pg_temp.refuses('SELECT payments.reverse_fx_transfer(999999999)', '23503',
                              'FX entry 999999999 does not exist', 'an unknown entry');

-- a refund's merchant share may round to nothing: that leg is left out
SELECT payments.post_fx_transfer(:jpy, :cust, '3 JPY', 'EUR', '2026-01-15', 'half_up') AS e4 \gset
SELECT is(pg_temp.fx(:e4), '3 JPY -> 0.02 EUR at 10000/1685931 half_up stored',
          'a small payment: 3 / 168.5931 = 0.0178 EUR');
SELECT is(pg_temp.fx(payments.reverse_fx_transfer(:e4, '1 JPY')), '1 JPY -> 0.01 EUR at 10000/1685931 half_up original',
          'a first yen back: 0.0059 rounds to 0.01');
SELECT payments.reverse_fx_transfer(:e4, '1 JPY') AS r_zero \gset
SELECT is(pg_temp.fx(:r_zero), '1 JPY -> 0.00 EUR at 10000/1685931 half_up original',
          'a second: 0.0119 rounds to 0.01 as well, so nothing more');
SELECT is(pg_temp.entry_transfers(:r_zero),
          format('%s->%s 1 JPY %s', :fx_jpy, :jpy,
                 (SELECT id FROM payments.transfers WHERE entry_id = :e4 AND from_account = :jpy)),
          'its leg of nothing is left out: the FX account alone gives the yen back');
SELECT payments.reverse_fx_transfer(:e4, '1 JPY', idempotency_key => 'r-last') AS r_last \gset
SELECT is(pg_temp.fx(:r_last), '1 JPY -> 0.01 EUR at 10000/1685931 half_up original', 'the last: 0.02 less 0.01');
SELECT * FROM pg_temp.replays(format('SELECT payments.reverse_fx_transfer(%s, ''1 JPY'', idempotency_key => ''r-last'')', :e4),
                              :'r_last', 'a refund''s replay returns it');
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_fx_transfer(%s, ''2 JPY'', idempotency_key => ''r-last'')', :e4),
                              '23I01', 'idempotency key "r-last" was already used for a different entry',
                              'another refund under its key');
SELECT payments.post_fx_transfer(:jpy, :bhd, '1 JPY', 'BHD', '2026-01-15', 'up') AS e5 \gset
SELECT is(pg_temp.fx(payments.reverse_fx_transfer(:e5, '1 JPY', at_original_rate => false)),
          '1 JPY -> 0.003 BHD at 3.76/1555 up stored', 'a refund at today''s rate keeps the rounding');

-- a leg alone is never reversed: a payment between currencies goes back whole, at a rate
SELECT payments.post_fx_transfer(:cust, :merch, '30.00 EUR', 'USD', '2026-01-15') AS e6 \gset
SELECT (SELECT id FROM payments.transfers WHERE entry_id = :e6 AND from_account = :cust) AS e6_leg \gset
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_transfer(%s)', :e6_leg), '22023',
                              format('transfer %s is a leg of FX entry %s', :e6_leg, :e6),
                              'reverse_transfer() of an FX leg is refused');
SELECT is((pg_temp.error_of(format('SELECT payments.reverse_transfer(%s)', :e6_leg)))[4],
          format('Refund it with payments.reverse_fx_transfer(%s).', :e6), 'with a hint naming the FX refund');
SELECT * FROM pg_temp.refuses(
    format('INSERT INTO payments.transfers (from_account, to_account, amount, reverses) VALUES (%s, %s, ''1.00 EUR'', %s)',
           :fx_eur, :cust, :e6_leg),
    '22023', format('transfer %s is a leg of FX entry %s', :e6_leg, :e6),
    'so is a plain INSERT reversing one: every write path');
-- a refund at today's rate that would convert to nothing gives nothing away
SELECT payments.post_fx_transfer(:jpy, :cust, '10 JPY', 'EUR', '2026-01-15', 'down') AS e7 \gset
SELECT * FROM pg_temp.refuses(format('SELECT payments.reverse_fx_transfer(%s, ''1 JPY'', at_original_rate => false)', :e7),
                              '23514', NULL, 'a refund at today''s rate of a part too small to convert is refused');
-- a quoted payment with its quote reference replays
SELECT payments.post_fx_transfer(:cust, :merch, '4.00 EUR', 'USD', rate => 1.2, quote => 'Q-9',
                                 idempotency_key => 'fx-q9') AS eq9 \gset
SELECT * FROM pg_temp.replays(
    format('SELECT payments.post_fx_transfer(%s, %s, ''4.00 EUR'', ''USD'', rate => 1.2, quote => ''Q-9'', idempotency_key => ''fx-q9'')',
           :cust, :merch), :'eq9', 'a quoted payment with a quote reference replays');
SELECT * FROM pg_temp.refuses(
    format('SELECT payments.post_fx_transfer(%s, %s, ''4.00 EUR'', ''USD'', rate => 1.2, quote => ''Q-10'', idempotency_key => ''fx-q9'')',
           :cust, :merch),
    '23I01', 'idempotency key "fx-q9" was already used for a different entry', 'another quote under its key');
-- which rates are booked is the DBA's: the base currency is not the caller's to set
CREATE ROLE fx_tap_caller;
SET LOCAL ROLE fx_tap_caller;
SELECT throws_ok($$SET payments.base_currency = 'EUR'$$, '42501', NULL,
                 'a role without the DBA''s rights cannot change the base currency');
RESET ROLE;

-- positions and revaluation ------------------------------------------------------------------

SELECT is((SELECT string_agg(format('%s %s', currency, position), ', ' ORDER BY currency::text)
             FROM payments.fx_positions WHERE ledger = 'fx-tap'),
          (SELECT string_agg(format('%s %s', x.currency, payments.balance(x.account_id)), ', ' ORDER BY x.currency::text)
             FROM payments.fx_accounts x WHERE x.ledger = 'fx-tap'),
          'fx_positions: what each FX account holds');
SELECT is((SELECT string_agg(format('%s %s', p.currency, p.position), ', ' ORDER BY p.currency::text)
             FROM payments.fx_positions p WHERE p.ledger = 'fx-tap'),
          (SELECT string_agg(format('%s %s', c, s), ', ' ORDER BY c::text)
             FROM (SELECT currency(t.amount) AS c,
                          sum(CASE WHEN t.to_account = x.account_id THEN t.amount ELSE - t.amount END) AS s
                     FROM payments.transfers t
                     JOIN payments.fx_accounts x ON x.ledger = t.ledger
                      AND x.account_id IN (t.from_account, t.to_account)
                    WHERE t.ledger = 'fx-tap'
                    GROUP BY 1) l),
          'each position is the sum of the FX account''s legs');
SELECT is((SELECT string_agg(format('%s %s %s', r.currency, r.position, r.value), ', ' ORDER BY r.currency::text)
             FROM payments.fx_revaluation('USD', '2026-03-15') r WHERE r.ledger = 'fx-tap'),
          (SELECT string_agg(format('%s %s %s', x.currency, payments.balance(x.account_id, '2026-03-15'),
                                    payments.convert(payments.balance(x.account_id, '2026-03-15'), 'USD', '2026-03-15')),
                             ', ' ORDER BY x.currency::text)
             FROM payments.fx_accounts x WHERE x.ledger = 'fx-tap'),
          'fx_revaluation(): each position then, valued in the reporting currency at that time');
SELECT is((SELECT sum(value) FROM payments.fx_revaluation('USD', '2026-03-15') r
            WHERE r.ledger = 'fx-tap' AND r.currency IN ('EUR', 'USD')) ,
          (SELECT payments.convert(payments.balance(:fx_eur, '2026-03-15'), 'USD', '2026-03-15')
                  + payments.balance(:fx_usd, '2026-03-15')),
          'their sum is the book''s gain or loss in the reporting currency');

-- the record is the ledger's alone ---------------------------------------------------------

SELECT throws_ok(format($$INSERT INTO payments.fx_entries VALUES ('fx-tap', 1, %s, %s, '1.00 EUR', '1.00 USD', 1, 1,
                          'half_even', 'quoted', now(), NULL, NULL, NULL, NULL, now())$$, :cust, :merch),
                 '0A000', 'payments.fx_entries is written only by the ledger', 'no INSERT into fx_entries');
SELECT throws_ok($$UPDATE payments.fx_entries SET converted = converted + converted$$, '0A000',
                 'cannot update payments.fx_entries', 'no UPDATE of fx_entries');
SELECT throws_ok($$DELETE FROM payments.fx_entries$$, '0A000', 'cannot delete from payments.fx_entries',
                 'no DELETE from fx_entries');
SELECT throws_ok($$TRUNCATE payments.fx_entries$$, '0A000', 'cannot truncate payments.fx_entries',
                 'no TRUNCATE of fx_entries');
SELECT throws_ok($$DELETE FROM payments.fx_accounts$$, '0A000', 'cannot delete from payments.fx_accounts',
                 'no DELETE from fx_accounts');
SELECT ok(NOT has_function_privilege('public', 'payments.post_fx_transfer(bigint, bigint, monetary, currency, timestamptz, rounding_mode, text, jsonb, numeric, monetary, text)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'payments.reverse_fx_transfer(bigint, monetary, boolean, text, jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'payments.create_fx_account(currency, text, boolean)', 'EXECUTE')
          AND NOT has_table_privilege('public', 'payments.fx_entries', 'SELECT'),
          'the FX API and its tables are granted by the DBA, not to PUBLIC');

-- the audit ---------------------------------------------------------------------------------

SELECT is((SELECT count(*) FROM payments.verify_ledger()), 0::bigint, 'verify_ledger(): nothing disagrees');
-- what it would catch: a record whose rate does not give its amount, or
-- whose transfers are not its legs (written in replica mode, as a broken
-- restore might)
SAVEPOINT tampered;
SET LOCAL session_replication_role = replica;
INSERT INTO payments.fx_entries
SELECT ledger, entry_id + 1000000, from_account, to_account, amount, converted + '0.01 USD',
       rate_numerator, rate_denominator, rounding, basis, rate_at, rates, quote, reverses_entry,
       refunded_before, created_at
  FROM payments.fx_entries WHERE entry_id = :e1;
SET LOCAL session_replication_role = origin;
SELECT array_agg(problem ORDER BY problem) AS tampered FROM payments.verify_ledger() \gset
-- (pgTAP counts its tests in a table: the test runs after the rollback)
ROLLBACK TO SAVEPOINT tampered;
SELECT is(:'tampered'::text[],
          ARRAY['FX entry amounts do not follow its rate', 'FX entry transfers do not match its record'],
          'verify_ledger() finds a record whose rate does not give its amount, and without its legs');

SELECT * FROM finish();
ROLLBACK;
