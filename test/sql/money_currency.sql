-- currency: its text form, the built-in ISO 4217 scales, every
-- input error, the binary form, comparison, and its use in sorting,
-- grouping, joins, indexes and hash partitions.

--
-- ISO 4217 codes at their own scale are written plain.  Input is
-- case-insensitive; output is upper case.
--
SELECT input, input::currency AS currency, scale(input::currency)
FROM (VALUES ('USD'), ('usd'), ('Usd'), ('EUR'), ('GBP'), ('CHF'),
             ('JPY'), ('KRW'), ('ISK'), ('CLP'), ('VND'), ('XAF'),
             ('BHD'), ('KWD'), ('JOD'), ('OMR'), ('TND'), ('IQD'), ('lyd'),
             ('CLF'), ('UYW'), ('XCG'), ('ZWG'), ('XAD')) AS t(input);

-- Any other asset, or an ISO code at another scale, is CODE/SCALE; an ISO
-- code at its own scale is still written plain ('USD/2' is 'USD').
SELECT input, input::currency AS currency, scale(input::currency)
FROM (VALUES ('USD/2'), ('usd/2'), ('USD/4'), ('usd/4'), ('USD/0'),
             ('USD/18'), ('JPY/0'), ('JPY/2'), ('BHD/3'), ('BHD/2'),
             ('ETH/18'), ('eth/18'), ('BTC/8'), ('USDC/6'), ('PTS/0'),
             ('ABCDEFGH/18'), ('abcdefgh/0'), ('1INCH/18'), ('123/0'),
             ('A1B2C3D4/5'), ('USD/04'), ('USD/00'), ('XAU/2'), ('XAU/0'),
             ('XDR/6'), ('XXX/0')) AS t(input);

-- A scale is read as a number: leading zeros are accepted and dropped
-- ('USD/002' is 'USD', written 'USD'), however many there are.
SELECT input, input::currency AS currency, scale(input::currency)
FROM (VALUES ('USD/002'), ('USD/0004'), ('ETH/018'), ('JPY/000'),
             ('USD/0000000000000000000000000000000000000002')) AS t(input);

SELECT 'USD/2'::currency = 'USD'::currency AS "USD/2 = USD",
       'usd'::currency = 'USD'::currency AS "usd = USD",
       'USD/4'::currency = 'USD'::currency AS "USD/4 = USD";

-- Withdrawn codes keep their scale, so old data keeps its meaning.
SELECT input, input::currency AS currency, scale(input::currency)
FROM (VALUES ('HRK'), ('LTL'), ('VEF'), ('DEM'), ('FRF'), ('ESP'), ('ITL'),
             ('GRD'), ('BEF'), ('ANG'), ('BGN'), ('ZWL')) AS t(input);

--
-- Every active ISO 4217 code (List One, 2026) has its ISO scale: the rows
-- that disagree (none), then how many were checked.
--
CREATE TEMP TABLE iso_list_one (code text, minor_units int);
INSERT INTO iso_list_one VALUES
    ('AED',2),('AFN',2),('ALL',2),('AMD',2),('AOA',2),('ARS',2),('AUD',2),
    ('AWG',2),('AZN',2),('BAM',2),('BBD',2),('BDT',2),('BHD',3),('BIF',0),
    ('BMD',2),('BND',2),('BOB',2),('BOV',2),('BRL',2),('BSD',2),('BTN',2),
    ('BWP',2),('BYN',2),('BZD',2),('CAD',2),('CDF',2),('CHE',2),('CHF',2),
    ('CHW',2),('CLF',4),('CLP',0),('CNY',2),('COP',2),('COU',2),('CRC',2),
    ('CUP',2),('CVE',2),('CZK',2),('DJF',0),('DKK',2),('DOP',2),('DZD',2),
    ('EGP',2),('ERN',2),('ETB',2),('EUR',2),('FJD',2),('FKP',2),('GBP',2),
    ('GEL',2),('GHS',2),('GIP',2),('GMD',2),('GNF',0),('GTQ',2),('GYD',2),
    ('HKD',2),('HNL',2),('HTG',2),('HUF',2),('IDR',2),('ILS',2),('INR',2),
    ('IQD',3),('IRR',2),('ISK',0),('JMD',2),('JOD',3),('JPY',0),('KES',2),
    ('KGS',2),('KHR',2),('KMF',0),('KPW',2),('KRW',0),('KWD',3),('KYD',2),
    ('KZT',2),('LAK',2),('LBP',2),('LKR',2),('LRD',2),('LSL',2),('LYD',3),
    ('MAD',2),('MDL',2),('MGA',2),('MKD',2),('MMK',2),('MNT',2),('MOP',2),
    ('MRU',2),('MUR',2),('MVR',2),('MWK',2),('MXN',2),('MXV',2),('MYR',2),
    ('MZN',2),('NAD',2),('NGN',2),('NIO',2),('NOK',2),('NPR',2),('NZD',2),
    ('OMR',3),('PAB',2),('PEN',2),('PGK',2),('PHP',2),('PKR',2),('PLN',2),
    ('PYG',0),('QAR',2),('RON',2),('RSD',2),('RUB',2),('RWF',0),('SAR',2),
    ('SBD',2),('SCR',2),('SDG',2),('SEK',2),('SGD',2),('SHP',2),('SLE',2),
    ('SOS',2),('SRD',2),('SSP',2),('STN',2),('SVC',2),('SYP',2),('SZL',2),
    ('THB',2),('TJS',2),('TMT',2),('TND',3),('TOP',2),('TRY',2),('TTD',2),
    ('TWD',2),('TZS',2),('UAH',2),('UGX',0),('USD',2),('USN',2),('UYI',0),
    ('UYU',2),('UYW',4),('UZS',2),('VED',2),('VES',2),('VND',0),('VUV',0),
    ('WST',2),('XAD',2),('XAF',0),('XCD',2),('XCG',2),('XOF',0),('XPF',0),
    ('YER',2),('ZAR',2),('ZMW',2),('ZWG',2);
SELECT code, minor_units AS iso, try_sql(format('SELECT scale(%L::currency)', code)) AS ours
FROM iso_list_one
WHERE try_sql(format('SELECT scale(%L::currency)', code)) IS DISTINCT FROM minor_units::text;
SELECT count(*) AS active_codes_checked FROM iso_list_one;

--
-- Every withdrawn code of ISO 4217 List Three is known: it reads at the
-- minor unit ISO listed while it was in force, or, for the 44 that ISO never
-- gave one (40 currencies, and the units of account XEU, XFO, XFU and XRE),
-- it is refused as having none (it is never "unknown"), and is written with
-- its scale.
--
CREATE TEMP TABLE iso_list_three (code text);
INSERT INTO iso_list_three VALUES
    ('ADP'),('AFA'),('ALK'),('ANG'),('AOK'),('AON'),('AOR'),('ARA'),('ARP'),
    ('ARY'),('ATS'),('AYM'),('AZM'),('BAD'),('BEC'),('BEF'),('BEL'),('BGJ'),
    ('BGK'),('BGL'),('BGN'),('BOP'),('BRB'),('BRC'),('BRE'),('BRN'),('BRR'),
    ('BUK'),('BYB'),('BYR'),('CHC'),('CSD'),('CSJ'),('CSK'),('CUC'),('CYP'),
    ('DDM'),('DEM'),('ECS'),('ECV'),('EEK'),('ESA'),('ESB'),('ESP'),('FIM'),
    ('FRF'),('GEK'),('GHC'),('GHP'),('GNE'),('GNS'),('GQE'),('GRD'),('GWE'),
    ('GWP'),('HRD'),('HRK'),('IEP'),('ILP'),('ILR'),('ISJ'),('ITL'),('LAJ'),
    ('LSM'),('LTL'),('LTT'),('LUC'),('LUF'),('LUL'),('LVL'),('LVR'),('MGF'),
    ('MLF'),('MRO'),('MTL'),('MTP'),('MVQ'),('MXP'),('MZE'),('MZM'),('NIC'),
    ('NLG'),('PEH'),('PEI'),('PES'),('PLZ'),('PTE'),('RHD'),('ROK'),('ROL'),
    ('RUR'),('SDD'),('SDP'),('SIT'),('SKK'),('SLL'),('SRG'),('STD'),('SUR'),
    ('TJR'),('TMM'),('TPE'),('TRL'),('UAK'),('UGS'),('UGW'),('USS'),('UYN'),
    ('UYP'),('VEB'),('VEF'),('VNC'),('XEU'),('XFO'),('XFU'),('XRE'),('YDD'),
    ('YUD'),('YUM'),('YUN'),('ZAL'),('ZMK'),('ZRN'),('ZRZ'),('ZWC'),('ZWD'),
    ('ZWL'),('ZWN'),('ZWR');
CREATE TEMP TABLE iso_list_three_read AS
SELECT code, try_sql(format('SELECT scale(%L::currency)', code)) AS plain,
       try_sql(format('SELECT %L::currency', code || '/0')) AS with_scale
FROM iso_list_three;
-- the codes that are neither read nor refused as having no minor unit (none)
SELECT code, plain FROM iso_list_three_read
WHERE plain !~ '^[0-9]+$' AND plain NOT LIKE 'ERROR 22P02: currency code "___" has no minor unit%';
SELECT count(*) AS list_three_codes,
       count(*) FILTER (WHERE plain ~ '^[0-9]+$') AS with_minor_unit,
       count(*) FILTER (WHERE plain LIKE 'ERROR 22P02: currency code "___" has no minor unit%') AS without_minor_unit,
       count(*) FILTER (WHERE with_scale = code || '/0' OR (plain = '0' AND with_scale = code)) AS read_with_scale
FROM iso_list_three_read;
-- the 44 without a minor unit
SELECT string_agg(code, ' ' ORDER BY code) AS without_minor_unit
FROM iso_list_three_read WHERE plain LIKE 'ERROR%';
SELECT input, try_sql(format('SELECT %L::currency', input)) AS result
FROM (VALUES ('ARY'), ('bec'), ('ZWC')) AS t(input);
SELECT 'BEC/0'::currency AS bec, '1.5 ARY/2'::monetary AS ary, 'ZWC/2 -3'::monetary AS zwc;

--
-- Errors.  ISO codes without a minor unit (precious metals, SDR, test and
-- no-currency codes, the withdrawn ones above) need an explicit scale, as
-- does anything not ISO.
--
SELECT input, try_sql(format('SELECT %L::currency', input)) AS result
FROM (VALUES ('XAU'), ('xag'), ('XPT'), ('XPD'), ('XDR'), ('XTS'), ('XXX'),
             ('XBA'), ('XSU'), ('XUA')) AS t(input);

-- Unknown codes: the hint shows how to write them.
SELECT input, try_sql(format('SELECT %L::currency', input)) AS result
FROM (VALUES ('ABC'), ('eth'), ('USDC'), ('abcdefgh'), ('123')) AS t(input);

-- Malformed: too short or long, bad characters, spaces, bad scales.
SELECT input, try_sql(format('SELECT %L::currency', input)) AS result
FROM (VALUES (''), ('U'), ('US'), ('ABCDEFGHI'), ('ABCDEFGHI/2'), ('US$'),
             ('US D'), (' USD'), ('USD '), ('U-S'), ('ÜSD'),
             ('USD/'), ('USD/19'), ('USD/99'), ('USD/123'), ('USD/-1'),
             ('USD/+2'), ('USD/1x'), ('USD//2'), ('USD/2/'), ('/2'),
             ('US/2'), ('USD/ 2'), ('USD /2')) AS t(input);

-- Syntax is judged before the scale's range, and only a value past 18 is
-- out of range, however it is written.
SELECT input, try_sql(format('SELECT %L::currency', input)) AS result
FROM (VALUES ('USD/123x'), ('USD/99999999999999999999999x'), ('USD/19 '),
             ('USD/019'), ('USD/0000000000000000000000000019'),
             ('USD/99999999999999999999999999999999999999')) AS t(input);

-- NULL in, NULL out (the functions are strict).
SELECT NULL::currency IS NULL AS null_currency, scale(NULL::currency) IS NULL AS null_scale;

--
-- The binary form: the code as counted text, then the scale.
--
SELECT c::currency, currency_send(c::currency)
FROM (VALUES ('USD'), ('USD/4'), ('ETH/18'), ('ABCDEFGH/0'), ('1INCH/18')) AS t(c);

-- A binary COPY out and back in gives the same values.
CREATE TEMP TABLE cur_out (id int, c currency);
INSERT INTO cur_out
SELECT row_number() OVER (), c::currency
FROM (VALUES ('USD'), ('USD/0'), ('USD/4'), ('USD/18'), ('JPY'), ('BHD'),
             ('ETH/18'), ('PTS/0'), ('ABCDEFGH/18'), ('0000/0'), ('ZZZZZZZZ/18'),
             ('XAU/2'), ('HRK'), ('UYW')) AS t(c);
INSERT INTO cur_out VALUES (15, NULL);
\copy cur_out TO 'results/money_currency.bin' (FORMAT binary)
CREATE TEMP TABLE cur_in (LIKE cur_out);
\copy cur_in FROM 'results/money_currency.bin' (FORMAT binary)
SELECT count(*) AS rows_in,
       count(*) FILTER (WHERE o.c IS NOT DISTINCT FROM i.c
                          AND o.c::text IS NOT DISTINCT FROM i.c::text) AS same
FROM cur_out o FULL JOIN cur_in i USING (id);

-- Binary input is checked as strictly as text input.  Each case is a bytea
-- written to a file with binary COPY, then read back by the server as a
-- currency, so that currency_recv sees exactly those bytes.
\getenv abs_builddir PG_ABS_BUILDDIR
CREATE TEMP TABLE raw (id int, bytes bytea, what text);
INSERT INTO raw VALUES
    (1, '\x0355534402', 'USD/2: fine'),
    (2, '\x02555302', 'a 2-character code'),
    (3, '\x0941424344454647484902', 'a 9-character code'),
    (4, '\x0375736402', 'lower case'),
    (5, '\x03555344FF', 'scale 255'),
    (6, '\x0355532D02', 'a hyphen'),
    (7, '\x03555344', 'no scale byte'),
    (8, '\x035553440200', 'a byte too many');
\copy (SELECT bytes FROM raw WHERE id = 1) TO 'results/money_currency_raw1.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 2) TO 'results/money_currency_raw2.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 3) TO 'results/money_currency_raw3.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 4) TO 'results/money_currency_raw4.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 5) TO 'results/money_currency_raw5.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 6) TO 'results/money_currency_raw6.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 7) TO 'results/money_currency_raw7.bin' (FORMAT binary)
\copy (SELECT bytes FROM raw WHERE id = 8) TO 'results/money_currency_raw8.bin' (FORMAT binary)
CREATE TEMP TABLE cur_recv (c currency);
SELECT id, what, try_sql(format(
           'COPY cur_recv FROM %L (FORMAT binary)',
           :'abs_builddir' || '/results/money_currency_raw' || id || '.bin')) AS result
FROM raw ORDER BY id;
SELECT c FROM cur_recv;

--
-- Comparison: by code (digits before letters, shorter first), then scale.
--
SELECT 'USD'::currency < 'USD/4'::currency AS "USD < USD/4",
       'USD/4'::currency < 'USDC/6'::currency AS "USD/4 < USDC/6",
       'EUR'::currency < 'USD'::currency AS "EUR < USD",
       'USD'::currency <= 'USD/2'::currency AS "USD <= USD/2",
       'USD'::currency > 'JPY'::currency AS "USD > JPY",
       'USD'::currency >= 'USD/3'::currency AS "USD >= USD/3",
       'USD'::currency <> 'USD/4'::currency AS "USD <> USD/4",
       'USD'::currency <> 'USD/2'::currency AS "USD <> USD/2";

CREATE TEMP TABLE cur (id int, c currency);
INSERT INTO cur
SELECT row_number() OVER (), c::currency
FROM (VALUES ('USD'), ('usd/4'), ('EUR'), ('USDC/6'), ('USD/2'), ('JPY'),
             ('ETH/18'), ('1INCH/18'), ('ETH/8'), ('EUR'), ('USD/0'),
             ('ABCDEFGH/2'), ('AB1/2'), ('ABC/2'), ('ABCD/2'), ('USD')) AS t(c);
ANALYZE cur;

SELECT c, currency_cmp(c, 'USD') AS cmp_usd FROM cur ORDER BY c, id;
SELECT c FROM cur ORDER BY c DESC, id;

-- GROUP BY and DISTINCT agree whether they sort or hash.
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT c, count(*) FROM cur GROUP BY c;
SELECT c, count(*) FROM cur GROUP BY c;
SELECT DISTINCT c FROM cur;
RESET enable_hashagg;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT c, count(*) FROM cur GROUP BY c;
SELECT c, count(*) FROM cur GROUP BY c ORDER BY c;
SELECT DISTINCT c FROM cur ORDER BY c;
RESET enable_sort;

-- Hash and merge joins find the same pairs.
CREATE TEMP TABLE cur2 AS SELECT id, c FROM cur WHERE id % 2 = 0;
ANALYZE cur2;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT cur.id, cur2.id FROM cur JOIN cur2 USING (c);
SELECT cur.id, cur2.id, c FROM cur JOIN cur2 USING (c) ORDER BY 1, 2;
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT cur.id, cur2.id FROM cur JOIN cur2 USING (c);
SELECT cur.id, cur2.id, c FROM cur JOIN cur2 USING (c) ORDER BY 1, 2;
RESET enable_hashjoin;
RESET enable_nestloop;

-- btree and hash indexes answer like a sequential scan.
CREATE INDEX cur_btree ON cur (c);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM cur WHERE c = 'usd';
SELECT id FROM cur WHERE c = 'usd' ORDER BY id;
EXPLAIN (COSTS OFF) SELECT c FROM cur WHERE c > 'USD' ORDER BY c;
SELECT c FROM cur WHERE c > 'USD' ORDER BY c;
DROP INDEX cur_btree;
CREATE INDEX cur_hash ON cur USING hash (c);
EXPLAIN (COSTS OFF) SELECT id FROM cur WHERE c = 'usd';
SELECT id FROM cur WHERE c = 'usd' ORDER BY id;
DROP INDEX cur_hash;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- UNIQUE refuses a duplicate written differently.
CREATE TEMP TABLE cur_unique (c currency UNIQUE);
INSERT INTO cur_unique VALUES ('USD'), ('USD/4'), ('EUR');
SELECT try_sql($$INSERT INTO cur_unique VALUES ('usd/2')$$);

-- Hash partitioning needs hash support function 2.
CREATE TEMP TABLE cur_parts (c currency, n int) PARTITION BY HASH (c);
CREATE TEMP TABLE cur_parts_0 PARTITION OF cur_parts FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TEMP TABLE cur_parts_1 PARTITION OF cur_parts FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TEMP TABLE cur_parts_2 PARTITION OF cur_parts FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO cur_parts SELECT c, id FROM cur;
SELECT count(*) AS rows, count(DISTINCT tableoid) > 1 AS spread FROM cur_parts;
-- every value of one currency lands in one partition, and a look-up by
-- value finds its rows however the value is written
SELECT c, count(DISTINCT tableoid) AS partitions FROM cur_parts GROUP BY c ORDER BY c;
SELECT count(*) AS usd_rows FROM cur_parts WHERE c = 'USD/2';
