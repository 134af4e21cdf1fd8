'use strict';
/*
 * node-postgres adapter for the PostgreSQL extensions `monetary` (types
 * `currency` and `monetary`) and `payments` (the ledger).
 *
 * A money value is a Money: { units: BigInt (minor units), currency: 'USD',
 * scale: 2 }.  Nothing here ever holds an amount in a JavaScript number:
 * amounts are read from and written to text (or the binary wire format)
 * digit by digit, into and out of BigInt.  The rules mirror the server's
 * (src/amount.c, src/currency_code.c, src/monetary.c): what the server reads,
 * this reads to the same value, and what it refuses, this refuses with the
 * SQLSTATE the server would raise (err.code).
 */
const pg = require('pg');
const ISO4217 = require('./iso4217');

/** The largest count of minor units: 10^38 - 1 (38 digits); the range is symmetric. */
const MAX_UNITS = 10n ** 38n - 1n;
/** The largest scale (decimal places) of a currency. */
const MAX_SCALE = 18;
const CODE_MIN_LEN = 3;
const CODE_MAX_LEN = 8;

/** An invalid money value; `code` is the SQLSTATE the server gives the same mistake. */
class MonetaryError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'MonetaryError';
    this.code = code;
  }
}

const SQLSTATE = Object.freeze({
  DATA_EXCEPTION: '22000', // currency mismatch
  OUT_OF_RANGE: '22003', // numeric_value_out_of_range
  TEXT: '22P02', // invalid_text_representation
  BINARY: '22P03', // invalid_binary_representation
});

// The server's is_space(): ASCII white space only.
const isSpace = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDigit = (c) => c >= '0' && c <= '9';
const startsAmount = (c) => isDigit(c) || c === '-' || c === '+' || c === '.';
const AMOUNT_SYNTAX = /^[+-]?[0-9]+(\.[0-9]+)?$/;

/** The ISO 4217 scale of a code ('USD' -> 2), or undefined (not ISO, or ISO gives no minor unit). */
function isoScale(code) {
  const iso = typeof code === 'string' && code.length === 3 ? ISO4217[code] : undefined;
  return iso !== undefined && iso.minorUnits >= 0 ? iso.minorUnits : undefined;
}

function checkScale(scale) {
  if (!Number.isInteger(scale) || scale < 0 || scale > MAX_SCALE) {
    throw new MonetaryError(`currency scale out of range: ${String(scale)}`, SQLSTATE.OUT_OF_RANGE);
  }
}

function checkCode(code) {
  if (typeof code !== 'string' || !/^[A-Z0-9]{3,8}$/.test(code)) {
    throw new MonetaryError(`invalid currency code: ${JSON.stringify(code)}` +
      ' (3 to 8 upper-case letters and digits)', SQLSTATE.TEXT);
  }
}

/*
 * CODE or CODE/SCALE, case-insensitively, as currency_parse() reads it:
 * syntax first, then the scale's range, then the ISO table for a bare code.
 * `whole` and `type` only word the errors.
 */
function parseCurrencyParts(s, whole = s, type = 'currency') {
  let i = 0;
  let code = '';
  while (i < s.length && s[i] !== '/') {
    const c = s[i];
    if (i >= CODE_MAX_LEN || !(isDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
      throw syntaxError(type, whole);
    }
    code += c.toUpperCase();
    i++;
  }
  if (code.length < CODE_MIN_LEN) throw syntaxError(type, whole);
  if (i < s.length) {
    const digits = s.slice(i + 1);
    if (!/^[0-9]+$/.test(digits)) throw syntaxError(type, whole);
    // a number: leading zeros are dropped ('USD/002' is USD), however many
    const significant = digits.replace(/^0+(?=.)/, '');
    const scale = significant.length > 2 ? MAX_SCALE + 1 : Number(significant);
    if (scale > MAX_SCALE) {
      throw new MonetaryError(`currency scale out of range: "${whole}"`, SQLSTATE.OUT_OF_RANGE);
    }
    return { code, scale };
  }
  const iso = code.length === 3 ? ISO4217[code] : undefined;
  if (iso === undefined) {
    throw new MonetaryError(`unknown currency code: "${code}" (write any other asset with` +
      ` its number of decimal places, as in "${code}/2" or "ETH/18")`, SQLSTATE.TEXT);
  }
  if (iso.minorUnits < 0) {
    throw new MonetaryError(`currency code "${code}" has no minor unit (write it with its` +
      ` number of decimal places, as in "${code}/0" or "${code}/2")`, SQLSTATE.TEXT);
  }
  return { code, scale: iso.minorUnits };
}

function syntaxError(type, whole) {
  return new MonetaryError(`invalid input syntax for type ${type}: "${whole}"`, SQLSTATE.TEXT);
}

/** Writes CODE, or CODE/SCALE where the scale is not the code's ISO scale (as currency_out). */
function formatCurrency(code, scale) {
  if (code instanceof Currency) ({ code, scale } = code);
  checkCode(code);
  checkScale(scale);
  return isoScale(code) === scale ? code : `${code}/${scale}`;
}

/**
 * Decimal text [+-]digits[.digits] -> BigInt count of minor units at `scale`,
 * exactly as amount_parse() with rounding 'unnecessary': digits past the
 * scale must be zeros; at most 38 significant digits.
 */
function parseAmount(text, scale, whole = text, currencyText = undefined) {
  checkScale(scale);
  if (typeof text !== 'string' || !AMOUNT_SYNTAX.test(text)) {
    throw new MonetaryError(`invalid input syntax for an amount: "${whole}"`, SQLSTATE.TEXT);
  }
  const negative = text[0] === '-';
  const unsigned = text[0] === '-' || text[0] === '+' ? text.slice(1) : text;
  const [intPart, fracPart = ''] = unsigned.split('.');
  const kept = fracPart.slice(0, scale).padEnd(scale, '0');
  const dropped = fracPart.slice(scale);
  const digits = (intPart + kept).replace(/^0+/, '');
  if (digits.length > 38) {
    throw new MonetaryError(`value "${whole}" is out of range for type monetary` +
      ' (an amount holds at most 38 digits of minor units)', SQLSTATE.OUT_OF_RANGE);
  }
  if (/[1-9]/.test(dropped)) {
    const cur = currencyText === undefined ? `scale ${scale}` : currencyText;
    throw new MonetaryError(`too many decimal places for ${cur}: "${whole}"` +
      ` (${scale} decimal places, and input never rounds)`, SQLSTATE.TEXT);
  }
  const units = BigInt(digits === '' ? '0' : digits);
  return negative ? -units : units;
}

/** BigInt minor units at `scale` -> [-]digits[.digits], exactly `scale` decimals (amount_format). */
function formatUnits(units, scale) {
  if (typeof units !== 'bigint') throw new TypeError('units must be a BigInt');
  checkScale(scale);
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  if (digits.length <= scale) digits = digits.padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** A currency: a code and its scale. `new Currency('USD')`, `new Currency('ETH', 18)`. */
class Currency {
  constructor(code, scale) {
    if (typeof code === 'string') code = code.toUpperCase();
    checkCode(code);
    if (scale === undefined) {
      scale = isoScale(code);
      if (scale === undefined) {
        throw new MonetaryError(`currency ${code} has no ISO 4217 scale: give one, as in` +
          ` new Currency('${code}', 2)`, SQLSTATE.TEXT);
      }
    }
    checkScale(scale);
    this.code = code;
    this.scale = scale;
    Object.freeze(this);
  }

  /** 'USD', 'USD/4', 'ETH/18', as the server writes it. */
  static parse(text) {
    if (typeof text !== 'string') throw new TypeError('Currency.parse() takes a string');
    const { code, scale } = parseCurrencyParts(text);
    return new Currency(code, scale);
  }

  equals(other) {
    return other instanceof Currency && other.code === this.code && other.scale === this.scale;
  }

  toString() {
    return formatCurrency(this.code, this.scale);
  }

  /** node-postgres calls this to send the value as a parameter: the text form. */
  toPostgres() {
    return this.toString();
  }

  toJSON() {
    return this.toString();
  }
}

function toCurrency(currency, scale) {
  if (currency instanceof Currency) {
    if (scale !== undefined && scale !== currency.scale) {
      throw new MonetaryError(`scale ${scale} given with currency ${currency}`, SQLSTATE.DATA_EXCEPTION);
    }
    return currency;
  }
  if (typeof currency === 'string' && scale === undefined && currency.includes('/')) {
    return Currency.parse(currency); // 'ETH/18'
  }
  return new Currency(currency, scale);
}

function checkUnits(units) {
  if (typeof units !== 'bigint') {
    throw new TypeError('units must be a BigInt count of minor units (never a Number)');
  }
  if (units > MAX_UNITS || units < -MAX_UNITS) {
    throw new MonetaryError('monetary value out of range (an amount holds at most 38 digits' +
      ' of minor units)', SQLSTATE.OUT_OF_RANGE);
  }
}

/**
 * An exact amount of one currency: `units` minor units (BigInt) of `currency`
 * (its code) at `scale`.  new Money(1234n, 'USD') is 12.34 USD;
 * new Money(15n * 10n ** 17n, 'ETH', 18) is 1.500000000000000000 ETH/18.
 */
class Money {
  constructor(units, currency, scale) {
    checkUnits(units);
    const cur = toCurrency(currency, scale);
    this.units = units;
    this.currency = cur.code;
    this.scale = cur.scale;
    Object.freeze(this);
  }

  /** From the amount in major units, as decimal text or a BigInt: Money.of('12.34', 'USD'). */
  static of(amount, currency, scale) {
    const cur = toCurrency(currency, scale);
    let units;
    if (typeof amount === 'bigint') {
      units = amount * 10n ** BigInt(cur.scale);
    } else if (typeof amount === 'string') {
      units = parseAmount(amount, cur.scale, amount, cur.toString());
    } else {
      throw new TypeError('Money.of() takes the amount as a decimal string or a BigInt, never a Number');
    }
    return new Money(units, cur);
  }

  /** The server's text form: '12.34 USD', 'USD 12.34', '1.5 ETH/18', or its JSON form. */
  static parse(text) {
    return parseMonetary(text);
  }

  static zero(currency, scale) {
    return new Money(0n, currency, scale);
  }

  get currencyObject() {
    return new Currency(this.currency, this.scale);
  }

  /** The currency as the server writes it: 'USD', 'USD/4', 'ETH/18'. */
  get currencyText() {
    return formatCurrency(this.currency, this.scale);
  }

  /** The amount in major units, as exact decimal text with `scale` decimals: '12.34'. */
  get amount() {
    return formatUnits(this.units, this.scale);
  }

  sameCurrency(other) {
    return other instanceof Money && other.currency === this.currency && other.scale === this.scale;
  }

  checkSameCurrency(other) {
    if (!(other instanceof Money)) throw new TypeError('not a Money');
    if (!this.sameCurrency(other)) {
      throw new MonetaryError(`currency mismatch: ${this.currencyText} and ${other.currencyText}`,
        SQLSTATE.DATA_EXCEPTION);
    }
  }

  equals(other) {
    return this.sameCurrency(other) && other.units === this.units;
  }

  /** -1, 0, 1; refuses two currencies, as the server's < and > do. */
  compare(other) {
    this.checkSameCurrency(other);
    return this.units < other.units ? -1 : this.units > other.units ? 1 : 0;
  }

  add(other) {
    this.checkSameCurrency(other);
    return new Money(this.units + other.units, this.currency, this.scale);
  }

  subtract(other) {
    this.checkSameCurrency(other);
    return new Money(this.units - other.units, this.currency, this.scale);
  }

  negate() {
    return new Money(-this.units, this.currency, this.scale);
  }

  isZero() {
    return this.units === 0n;
  }

  isNegative() {
    return this.units < 0n;
  }

  /** '12.34 USD': the extension's text form (monetary_out). */
  toString() {
    return `${this.amount} ${this.currencyText}`;
  }

  /** node-postgres calls this to send the value as a parameter: the text form. */
  toPostgres() {
    return this.toString();
  }

  /** The extension's JSON form, amount as a string: {"amount": "12.34", "currency": "USD"}. */
  toJSON() {
    return { amount: this.amount, currency: this.currencyText };
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `Money<${this.toString()}>`;
  }
}

/**
 * Reads the server's text form, as monetary_in() does: '12.34 USD',
 * 'USD 12.34', '-0.50 eur', '1.5 ETH/18', any ASCII white space around and
 * between, and the JSON form '{"amount": "12.34", "currency": "USD"}'.
 * Never rounds: '12.345 USD' is an error (code 22P02).
 */
function parseMonetary(text) {
  if (typeof text !== 'string') throw new TypeError('parseMonetary() takes a string');
  let s = text;
  let p = 0;
  while (p < s.length && isSpace(s[p])) p++;
  if (s[p] === '{') {
    s = jsonToText(text);
    p = 0;
  }
  const words = [];
  while (p < s.length) {
    const start = p;
    while (p < s.length && !isSpace(s[p])) p++;
    words.push(s.slice(start, p));
    while (p < s.length && isSpace(s[p])) p++;
  }
  if (words.length !== 2) throw syntaxError('monetary', text);
  let amount;
  let code;
  if (startsAmount(words[0][0])) [amount, code] = words;
  else if (startsAmount(words[1][0])) [code, amount] = words;
  else throw syntaxError('monetary', text);
  if (!AMOUNT_SYNTAX.test(amount)) throw syntaxError('monetary', text);
  const cur = parseCurrencyParts(code, text, 'monetary');
  const units = parseAmount(amount, cur.scale, text, formatCurrency(cur.code, cur.scale));
  return new Money(units, cur.code, cur.scale);
}

// The JSON form: an object of exactly the string members "amount" and "currency".
function jsonToText(text) {
  let obj;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new MonetaryError(`invalid input syntax for type json: "${text}"`, SQLSTATE.TEXT);
  }
  const bad = (detail) => new MonetaryError(`invalid input syntax for type monetary: "${text}" (${detail})`,
    SQLSTATE.TEXT);
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || Object.keys(obj).length !== 2) {
    throw bad('the JSON form is an object of two members, "amount" and "currency"');
  }
  for (const key of ['amount', 'currency']) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) throw bad(`the object has no "${key}"`);
    if (typeof obj[key] !== 'string') throw bad(`"${key}" must be a JSON string`);
  }
  const { amount, currency } = obj;
  if (/[ \t\n\r\f\v]/.test(amount) || /[ \t\n\r\f\v]/.test(currency) || !startsAmount(amount[0]) ||
      currency === '') {
    throw syntaxError('monetary', text);
  }
  return `${amount} ${currency}`;
}

/** The server's text form of a Money: '12.34 USD', '-1.000000000000000000 ETH/18'. */
function formatMonetary(m) {
  if (!(m instanceof Money)) throw new TypeError('formatMonetary() takes a Money');
  return m.toString();
}

function parseCurrency(text) {
  return Currency.parse(text);
}

/**
 * A query parameter for a monetary (or currency) argument: the canonical text
 * form.  Takes a Money, a Currency, or text the server would read (checked
 * here, so a typo fails before the query is sent).  node-postgres sends every
 * parameter untyped (type 0) as text; write the cast in SQL: $1::monetary.
 */
function asParam(value) {
  if (value === null || value === undefined) return null;
  if (value instanceof Money || value instanceof Currency) return value.toString();
  if (typeof value === 'string') return parseMonetary(value).toString();
  throw new TypeError('asParam() takes a Money, a Currency or monetary text');
}

/* Binary wire format (monetary_send / monetary_recv, currency_send_to / currency_recv_from). */

function binaryError(message) {
  return new MonetaryError(message, SQLSTATE.BINARY);
}

function asBuffer(bytes) {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError('expected a Buffer or Uint8Array');
}

/**
 * A currency's binary form: 1 byte code length N (3..8), N bytes of the code
 * in ASCII [A-Z0-9], 1 byte scale (0..18).
 */
function encodeCurrency(currency, scale) {
  const cur = toCurrency(currency, scale);
  const buf = Buffer.alloc(cur.code.length + 2);
  buf[0] = cur.code.length;
  buf.write(cur.code, 1, 'latin1');
  buf[cur.code.length + 1] = cur.scale;
  return buf;
}

// Reads a currency at offset, as strictly as currency_recv_from(); returns it and the next offset.
function readCurrency(buf, offset) {
  if (offset >= buf.length) throw binaryError('insufficient data left in message: no currency');
  const len = buf[offset];
  if (len < CODE_MIN_LEN || len > CODE_MAX_LEN) {
    throw binaryError(`invalid currency code length in external currency value: ${len}`);
  }
  if (offset + 1 + len + 1 > buf.length) throw binaryError('insufficient data left in message');
  let code = '';
  for (let i = 0; i < len; i++) {
    const b = buf[offset + 1 + i];
    if (!((b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39))) {
      throw binaryError('invalid character in external currency value');
    }
    code += String.fromCharCode(b);
  }
  const scale = buf[offset + 1 + len];
  if (scale > MAX_SCALE) throw binaryError(`invalid scale in external currency value: ${scale}`);
  return { currency: new Currency(code, scale), offset: offset + len + 2 };
}

function decodeCurrency(bytes) {
  const buf = asBuffer(bytes);
  const { currency, offset } = readCurrency(buf, 0);
  if (offset !== buf.length) throw binaryError('incorrect binary data format: trailing bytes');
  return currency;
}

const U64 = (1n << 64n) - 1n;

/**
 * A monetary's binary form (monetary_send): the 128-bit two's-complement
 * count of minor units as two big-endian 64-bit words, high word first
 * (bytes 0..7 high, 8..15 low), then the currency's binary form.
 * 21 to 26 bytes.
 */
function encodeMonetary(m) {
  if (!(m instanceof Money)) throw new TypeError('encodeMonetary() takes a Money');
  checkUnits(m.units);
  const bits = BigInt.asUintN(128, m.units);
  const cur = encodeCurrency(m.currency, m.scale);
  const buf = Buffer.alloc(16 + cur.length);
  buf.writeBigUInt64BE(bits >> 64n, 0);
  buf.writeBigUInt64BE(bits & U64, 8);
  cur.copy(buf, 16);
  return buf;
}

/** Reads what monetary_send writes, as strictly as monetary_recv: range, code, scale, length. */
function decodeMonetary(bytes) {
  const buf = asBuffer(bytes);
  if (buf.length < 16) throw binaryError('insufficient data left in message: no 128-bit count');
  const hi = buf.readBigInt64BE(0); // signed: carries the sign of the 128-bit count
  const lo = buf.readBigUInt64BE(8);
  const units = (hi << 64n) + lo;
  const { currency, offset } = readCurrency(buf, 16); // checked first, as monetary_recv does
  if (units > MAX_UNITS || units < -MAX_UNITS) {
    throw new MonetaryError('external monetary value out of range', SQLSTATE.OUT_OF_RANGE);
  }
  if (offset !== buf.length) throw binaryError('incorrect binary data format: trailing bytes');
  return new Money(units, currency);
}

/**
 * PostgreSQL's binary array form (array_send): int32 number of dimensions,
 * int32 has-nulls flag, uint32 element type OID, per dimension int32 length
 * and int32 lower bound, then each element as int32 byte length (-1: NULL)
 * and its bytes.  Returns nested JS arrays (lower bounds are dropped, as
 * node-postgres's text array parser drops them).
 */
function decodeArrayBinary(bytes, decodeElement) {
  const buf = asBuffer(bytes);
  let pos = 0;
  const int32 = () => {
    if (pos + 4 > buf.length) throw binaryError('insufficient data left in array');
    const v = buf.readInt32BE(pos);
    pos += 4;
    return v;
  };
  const ndim = int32();
  int32(); // has nulls
  int32(); // element type
  if (ndim < 0 || ndim > 6) throw binaryError(`invalid number of dimensions: ${ndim}`);
  if (ndim === 0) return [];
  const dims = [];
  for (let d = 0; d < ndim; d++) {
    dims.push(int32());
    int32(); // lower bound
  }
  const build = (d) => {
    const out = [];
    for (let i = 0; i < dims[d]; i++) {
      if (d + 1 < ndim) {
        out.push(build(d + 1));
      } else {
        const len = int32();
        if (len === -1) {
          out.push(null);
        } else {
          if (len < 0 || pos + len > buf.length) throw binaryError('insufficient data left in array');
          out.push(decodeElement(buf.subarray(pos, pos + len)));
          pos += len;
        }
      }
    }
    return out;
  };
  const result = build(0);
  if (pos !== buf.length) throw binaryError('incorrect binary data format: trailing bytes in array');
  return result;
}

/* Registering the types with node-postgres. */

const TYPES_QUERY = `
SELECT t.typname::text AS name, t.oid::text AS oid, t.typarray::text AS array_oid,
       n.nspname::text AS schema
  FROM pg_catalog.pg_extension e
  JOIN pg_catalog.pg_type t ON t.typnamespace = e.extnamespace
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
 WHERE e.extname = $1 AND t.typname IN ('monetary', 'currency')`;

/*
 * Whether this node-postgres hands binary result columns over intact.  pg
 * 8.x (8.23.1 included) decodes every DataRow field as UTF-8 text and turns
 * it back into a Buffer for binary columns, which replaces every byte
 * sequence that is not UTF-8 (brianc/node-postgres#3495): 12.34 USD comes
 * back with its count's byte 0xD2 turned into EF BF BD.  One round trip with
 * bytes that UTF-8 cannot carry tells.
 */
async function binaryResultsIntact(clientOrPool) {
  // per-query parsers (pg's query config `types`): the raw value, whatever the application registered
  const raw = { getTypeParser: () => (value) => value };
  const { rows } = await clientOrPool.query({
    text: "SELECT '\\x00e8ff80'::bytea AS probe", binary: true, types: raw,
  });
  const v = rows[0].probe;
  return Buffer.isBuffer(v) && v.equals(Buffer.from([0x00, 0xe8, 0xff, 0x80]));
}

function refuseBinary(type) {
  return () => {
    const err = new Error(`binary results of type ${type} cannot be read with this node-postgres:` +
      ' it decodes binary columns as UTF-8 and corrupts their bytes (brianc/node-postgres#3495);' +
      ' query in text format (the default), or select monetary_send(x) as bytea and use decodeMonetary()');
    err.code = 'ERR_PG_BINARY_RESULTS';
    throw err;
  };
}

// node-postgres's global registry, if clientOrPool comes from the adapter's own copy of pg.
function defaultTypes(clientOrPool) {
  if (clientOrPool instanceof pg.Pool || clientOrPool instanceof pg.Client) return pg.types;
  throw new TypeError('register(): this Client or Pool does not come from the copy of pg the adapter' +
    " loads, so the adapter cannot reach its type registry; pass it: register(pool, { types: require('pg').types })");
}

/**
 * Looks up the OIDs of `monetary`, `currency` and their array types in the
 * schema the extension `monetary` was created in, and sets node-postgres
 * type parsers for them, so that query results come back as Money and
 * Currency values (arrays as arrays of them, NULL as null).
 *
 * By default the parsers go to node-postgres's global registry (pg.types),
 * which every Client and Pool uses; pass { types } (a pg.TypeOverrides given
 * to your Pool or Client as `types`, or the pg.types of your application's
 * own copy of pg) to set them there instead.
 *
 * Binary results (query config `binary: true`): when this node-postgres is
 * found to keep binary columns intact, the binary parsers decode the wire
 * format; otherwise they throw (code ERR_PG_BINARY_RESULTS) rather than
 * return a corrupted amount.  { binaryResults: false } skips the probe and
 * refuses; { binaryResults: true } skips it and decodes (only for a
 * node-postgres known to keep the bytes).
 *
 * Resolves to { schema, monetary, currency, monetaryArray, currencyArray,
 * binaryResults }.
 */
async function register(clientOrPool, options = {}) {
  if (!clientOrPool || typeof clientOrPool.query !== 'function') {
    throw new TypeError('register() takes a pg Client or Pool');
  }
  const types = options.types || defaultTypes(clientOrPool);
  const extension = options.extension || 'monetary';
  const { rows } = await clientOrPool.query({ text: TYPES_QUERY, values: [extension] });
  const found = Object.fromEntries(rows.map((r) => [r.name, r]));
  if (!found.monetary || !found.currency) {
    throw new Error(`extension "${extension}" is not installed in this database` +
      ' (CREATE EXTENSION monetary, or CREATE EXTENSION payments CASCADE)');
  }
  const binaryResults = typeof options.binaryResults === 'boolean' ? options.binaryResults
    : await binaryResultsIntact(clientOrPool);
  const parseArray = (elementParser) => (text) => pg.types.arrayParser.create(text, elementParser).parse();
  const binaryArray = (elementDecoder) => (bytes) => decodeArrayBinary(bytes, elementDecoder);
  const oids = {
    schema: found.monetary.schema,
    monetary: Number(found.monetary.oid),
    currency: Number(found.currency.oid),
    monetaryArray: Number(found.monetary.array_oid),
    currencyArray: Number(found.currency.array_oid),
    binaryResults,
  };
  types.setTypeParser(oids.monetary, 'text', parseMonetary);
  types.setTypeParser(oids.currency, 'text', parseCurrency);
  types.setTypeParser(oids.monetaryArray, 'text', parseArray(parseMonetary));
  types.setTypeParser(oids.currencyArray, 'text', parseArray(parseCurrency));
  types.setTypeParser(oids.monetary, 'binary',
    binaryResults ? decodeMonetary : refuseBinary('monetary'));
  types.setTypeParser(oids.currency, 'binary',
    binaryResults ? decodeCurrency : refuseBinary('currency'));
  types.setTypeParser(oids.monetaryArray, 'binary',
    binaryResults ? binaryArray(decodeMonetary) : refuseBinary('monetary[]'));
  types.setTypeParser(oids.currencyArray, 'binary',
    binaryResults ? binaryArray(decodeCurrency) : refuseBinary('currency[]'));
  return Object.freeze(oids);
}

/* Retrying safely. */

/** SQLSTATEs after which the whole transaction (or call) is retried, with backoff. */
const RETRYABLE_SQLSTATES = Object.freeze(['40001', '40P01', '55P03', '57014']);
// The session is gone: admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now.
const SESSION_LOST_SQLSTATES = Object.freeze(['57P01', '57P02', '57P03']);
const NETWORK_ERRNOS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ECONNABORTED']);
const CONNECTION_MESSAGES = /Connection terminated|connection error|Client was closed|not queryable|timeout exceeded when trying to connect|Query read timeout/i;

/**
 * Whether the connection was lost: the server ended the session (57P01...,
 * class 08), the socket failed, or node-postgres reports the connection
 * gone (those errors have no SQLSTATE).  Whether the call committed is then
 * unknown: retry it with the same idempotency key.
 */
function isConnectionLoss(err) {
  if (!err || typeof err !== 'object') return false;
  const code = typeof err.code === 'string' ? err.code : '';
  if (SESSION_LOST_SQLSTATES.includes(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  if (NETWORK_ERRNOS.has(code)) return true;
  if (code === 'ENOENT' && err.syscall === 'connect') return true; // a Unix socket gone in a restart
  if (typeof err.severity === 'string' || /^[0-9A-Z]{5}$/.test(code)) return false; // the server answered
  return CONNECTION_MESSAGES.test(String(err.message));
}

/** Whether retrying the same call (same idempotency key, same arguments) is right. */
function isRetryable(err) {
  return Boolean(err) && (RETRYABLE_SQLSTATES.includes(err.code) || isConnectionLoss(err));
}

const ISOLATION_LEVELS = new Set(['READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE']);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs fn(client, attempt) on a client of `pool` and retries it, on a fresh
 * client, after a retryable error (RETRYABLE_SQLSTATES, or a lost
 * connection), with exponential backoff and full jitter.  With
 * { isolation: 'REPEATABLE READ' } (or 'READ COMMITTED', 'SERIALIZABLE') fn
 * runs inside BEGIN ... COMMIT, and the whole transaction is retried.  fn
 * must do the same thing on every attempt: the same idempotency keys, the
 * same amounts, the same metadata.  Other errors (23L01 insufficient funds,
 * ...) are thrown at once.  onRetry(err, attempt, delayMs) is called (and
 * awaited) before each retry.
 */
async function withRetry(pool, fn, options = {}) {
  const {
    attempts = 10, baseDelayMs = 10, maxDelayMs = 1000, isolation = null, onRetry = null,
  } = options;
  if (isolation !== null && !ISOLATION_LEVELS.has(isolation)) {
    throw new TypeError(`isolation must be one of ${[...ISOLATION_LEVELS].join(', ')}`);
  }
  for (let attempt = 1; ; attempt++) {
    let failure = null;
    let client = null;
    let broken = false;
    const onClientError = () => { broken = true; };
    try {
      client = await pool.connect();
      client.on('error', onClientError);
      if (isolation) await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await fn(client, attempt);
      if (isolation) await client.query('COMMIT');
      return result;
    } catch (err) {
      failure = err;
      if (isConnectionLoss(err)) broken = true;
      if (client && !broken) {
        // leave no transaction open on a client that goes back to the pool
        try { await client.query('ROLLBACK'); } catch (e) { broken = true; }
      }
    } finally {
      if (client) {
        client.removeListener('error', onClientError);
        client.release(broken ? failure || true : undefined);
      }
    }
    if (!isRetryable(failure) || attempt >= attempts) throw failure;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const delay = Math.floor(Math.random() * ceiling) + 1;
    if (onRetry) await onRetry(failure, attempt, delay);
    await sleep(delay);
  }
}

/* The ledger's calls, with the casts that node-postgres's untyped parameters need. */

const json = (v) => (v === null || v === undefined ? null : JSON.stringify(v));
const bigintParam = (v) => (v === null || v === undefined ? null : BigInt(v).toString());

/** payments.create_account(); resolves to the account's id (BigInt). */
async function createAccount(client, { name, currency, normalBalance = 'credit', allowNegative = false,
  metadata = null, ledger = 'default' }) {
  const { rows } = await client.query(
    'SELECT payments.create_account($1::text, $2::currency, $3::text, $4::boolean, $5::jsonb, $6::text)::text AS id',
    [name, toCurrency(currency).toString(), normalBalance, allowNegative, json(metadata), ledger]);
  return BigInt(rows[0].id);
}

/**
 * payments.post_transfer(from, to, amount, idempotency_key, metadata);
 * resolves to the transfer's id (BigInt).  A replay with the same key and
 * request returns the same id and posts nothing.
 */
async function postTransfer(client, { from, to, amount, idempotencyKey = null, metadata = null }) {
  const { rows } = await client.query(
    'SELECT payments.post_transfer($1::bigint, $2::bigint, $3::monetary, $4::text, $5::jsonb)::text AS id',
    [bigintParam(from), bigintParam(to), asParam(amount), idempotencyKey, json(metadata)]);
  return BigInt(rows[0].id);
}

/** payments.balance(account, at): a Money (parsed here, registered or not). */
async function balance(client, account, at = null) {
  const { rows } = await client.query(
    'SELECT payments.balance($1::bigint, $2::timestamptz)::text AS balance', [bigintParam(account), at]);
  return parseMonetary(rows[0].balance);
}

module.exports = {
  Money,
  Currency,
  MonetaryError,
  MAX_UNITS,
  MAX_SCALE,
  ISO4217,
  isoScale,
  parseMonetary,
  formatMonetary,
  parseCurrency,
  formatCurrency,
  parseAmount,
  formatUnits,
  asParam,
  encodeMonetary,
  decodeMonetary,
  encodeCurrency,
  decodeCurrency,
  decodeArrayBinary,
  register,
  RETRYABLE_SQLSTATES,
  isRetryable,
  isConnectionLoss,
  withRetry,
  createAccount,
  postTransfer,
  balance,
};
