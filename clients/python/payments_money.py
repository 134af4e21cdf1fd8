"""psycopg 3 adapter for the PostgreSQL extensions ``monetary`` and ``payments``.

    import psycopg
    from decimal import Decimal
    from payments_money import Money, register

    with psycopg.connect(autocommit=True) as conn:
        register(conn)                       # looks the types up, once per connection
        price = Money(Decimal("19.99"), "EUR")
        conn.execute("SELECT payments.post_transfer(%s, %s, %s, %s)",
                     (bank, alice, price, "order-42"))
        conn.execute("SELECT payments.balance(%s)", (alice,)).fetchone()[0]
        # -> Money(Decimal('19.99'), 'EUR')

``Money`` is an immutable exact amount of one currency; ``Currency`` is a
``str`` holding a currency as the extension writes it ('USD', 'JPY',
'ETH/18', 'USD/4'). ``register()`` installs text and binary loaders and
dumpers for ``monetary``, ``currency`` and their arrays. The binary wire
format is specified in README.md next to this file.

Standard library and psycopg (3.1 or later) only.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from decimal import Decimal
from typing import Any, Callable, NamedTuple, Optional, TypeVar, Union

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo

__all__ = [
    "Money", "Currency", "MoneyTypes", "register", "register_async",
    "fetch_types", "fetch_types_async", "RETRYABLE_SQLSTATES",
    "is_retryable", "is_connection_lost", "Retrier",
]

# --------------------------------------------------------------------------
# ISO 4217, as compiled into the extension (src/iso4217.c): the codes that
# are written bare at their own scale. Every other currency is written
# CODE/SCALE. test_adapter.py checks this table against the server for all
# 17,576 three-letter codes at every scale.

_ISO_BY_SCALE = {
    0: """ADP AOK AON AOR BEF BIF BYB BYR CLP DJF ECS ESP GEK GNF GRD ISK ITL JPY
          KMF KRW LUF MGF PTE PYG ROL RWF TPE TRL UGX UYI VND VUV XAF XOF XPF""",
    2: """AED AFA AFN ALK ALL AMD ANG AOA ARA ARP ARS ATS AUD AWG AYM AZM AZN BAD
          BAM BBD BDT BGL BGN BMD BND BOB BOP BOV BRB BRC BRE BRL BRN BRR BSD BTN
          BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CSD CSK CUC CUP CVE CYP
          CZK DDM DEM DKK DOP DZD EEK EGP ERN ETB EUR FIM FJD FKP FRF GBP GEL GHC
          GHS GIP GMD GTQ GWP GYD HKD HNL HRD HRK HTG HUF IDR IEP ILS INR IRR JMD
          KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL LTL LTT LVL LVR MAD MDL MGA
          MKD MMK MNT MOP MRO MRU MTL MUR MVR MWK MXN MXP MXV MYR MZM MZN NAD NGN
          NIC NIO NLG NOK NPR NZD PAB PEI PEN PES PGK PHP PKR PLN PLZ QAR RON RSD
          RUB RUR SAR SBD SCR SDD SDG SDP SEK SGD SHP SIT SKK SLE SLL SOS SRD SRG
          SSP STD STN SUR SVC SYP SZL THB TJS TMM TMT TOP TRY TTD TWD TZS UAH UAK
          USD USN USS UYU UZS VEB VED VEF VES WST XAD XCD XCG YER YUD YUM YUN ZAR
          ZMK ZMW ZRN ZWD ZWG ZWL ZWN ZWR""",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
#: ISO code -> its scale (number of decimal places of its minor unit)
ISO_SCALES = {code: scale for scale, codes in _ISO_BY_SCALE.items()
              for code in codes.split()}
#: ISO codes known to the extension that have no minor unit: always CODE/SCALE
ISO_WITHOUT_MINOR_UNIT = frozenset("""
    ARY BEC BEL BGJ BGK BUK CHC CSJ ECV ESA ESB GHP GNE GNS GQE GWE ILP ILR
    ISJ LAJ LSM LUC LUL MLF MTP MVQ MZE PEH RHD ROK TJR UGS UGW UYN UYP VNC
    XAG XAU XBA XBB XBC XBD XDR XEU XFO XFU XPD XPT XRE XSU XTS XUA XXX YDD
    ZAL ZRZ ZWC""".split())

MAX_SCALE = 18
MAX_DIGITS = 38
#: the largest count of minor units a monetary holds: 10^38 - 1 (src/amount.h)
MAX_UNITS = 10 ** MAX_DIGITS - 1

_CURRENCY_RE = re.compile(r"([A-Za-z0-9]{3,8})(?:/([0-9]+))?\Z")
_AMOUNT_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?\Z")
_CODE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class Currency(str):
    """A currency as the extension writes it: 'USD', 'JPY', 'ETH/18', 'USD/4'.

    A ``str`` (so ``Currency('usd') == 'USD'``), always canonical: upper
    case, the scale written only where it is not the ISO 4217 one
    ('USD/2' -> 'USD', 'USD/004' -> 'USD/4'). ``.code`` and ``.scale`` give
    its parts. Invalid text raises ValueError, as the server would refuse it.
    """

    __slots__ = ()
    _cache: dict = {}

    def __new__(cls, text: str) -> "Currency":
        if type(text) is cls:
            return text  # type: ignore[return-value]
        if not isinstance(text, str):
            raise TypeError(f"a currency is a str, not {type(text).__name__}")
        hit = cls._cache.get(text)
        if hit is not None:
            return hit
        m = _CURRENCY_RE.match(text)
        if not m:
            raise ValueError(
                f"invalid currency {text!r}: a code of 3 to 8 letters and digits,"
                " optionally followed by /SCALE")
        code = m.group(1).upper()
        if m.group(2) is not None:
            scale = int(m.group(2))
            if scale > MAX_SCALE:
                raise ValueError(f"currency scale out of range: {text!r} (0 to {MAX_SCALE})")
        elif code in ISO_SCALES:
            scale = ISO_SCALES[code]
        elif code in ISO_WITHOUT_MINOR_UNIT:
            raise ValueError(f"currency code {code!r} has no minor unit: write it"
                             f" with its scale, as in '{code}/2'")
        else:
            raise ValueError(f"unknown currency code {code!r}: write any other asset"
                             f" with its number of decimal places, as in '{code}/2'")
        result = cls.of(code, scale)
        if len(cls._cache) < 4096:
            cls._cache[text] = result
        return result

    @classmethod
    def of(cls, code: str, scale: int) -> "Currency":
        """The currency with this code (3 to 8 of A-Z, 0-9) and scale (0..18)."""
        key = (code, scale)
        hit = cls._cache.get(key)
        if hit is not None:
            return hit
        if (not isinstance(code, str) or not 3 <= len(code) <= 8
                or not set(code.encode("ascii", "replace")) <= _CODE_BYTES):
            raise ValueError(f"invalid currency code {code!r}: 3 to 8 of A-Z and 0-9")
        if not isinstance(scale, int) or not 0 <= scale <= MAX_SCALE:
            raise ValueError(f"currency scale out of range: {scale!r} (0 to {MAX_SCALE})")
        text = code if ISO_SCALES.get(code) == scale else f"{code}/{scale}"
        result = str.__new__(cls, text)
        if len(cls._cache) < 4096:
            cls._cache[key] = result
        return result

    @property
    def code(self) -> str:
        return self.partition("/")[0]

    @property
    def scale(self) -> int:
        code, slash, scale = self.partition("/")
        return int(scale) if slash else ISO_SCALES[code]

    def __repr__(self) -> str:
        return f"Currency({str.__repr__(self)})"

    # binary form (currency_send_to): length byte, code, scale byte
    def _to_binary(self) -> bytes:
        code = self.code.encode("ascii")
        return bytes((len(code),)) + code + bytes((self.scale,))


def _format_units(units: int, scale: int) -> str:
    """units at scale as [-]digits[.digits], exactly as amount_format() writes it."""
    digits = str(abs(units)).rjust(scale + 1, "0")
    if scale:
        digits = f"{digits[:-scale]}.{digits[-scale:]}"
    return "-" + digits if units < 0 else digits


def _decimal_to_units(amount: Decimal, currency: Currency) -> int:
    """The exact count of minor units; never rounds (ValueError instead)."""
    sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite amount: {amount}")
    n = int("".join(map(str, digits))) if digits else 0
    if n == 0:
        return 0
    shift = exponent + currency.scale
    if shift >= 0:
        if len(digits) + shift > MAX_DIGITS:
            raise ValueError(f"amount out of range: {amount} {currency} has more than"
                             f" {MAX_DIGITS} digits of minor units")
        units = n * 10 ** shift
    else:
        if -shift > len(digits):  # fewer digits than the places to drop: a remainder
            raise ValueError(f"too many decimal places for {currency}: {amount}"
                             f" ({currency} has {currency.scale}; Money never rounds)")
        units, rest = divmod(n, 10 ** -shift)
        if rest:
            raise ValueError(f"too many decimal places for {currency}: {amount}"
                             f" ({currency} has {currency.scale}; Money never rounds)")
    if units > MAX_UNITS:
        raise ValueError(f"amount out of range: {amount} {currency} has more than"
                         f" {MAX_DIGITS} digits of minor units")
    return -units if sign else units


class Money:
    """An exact amount of one currency, as the ``monetary`` type holds it.

    ``Money(Decimal('12.3'), 'usd')`` is ``Money(Decimal('12.30'), 'USD')``:
    the amount is kept at exactly the currency's scale and the currency is
    canonical (a ``Currency``). Input never rounds: too many decimal places,
    more than 38 digits of minor units, NaN, infinities and floats are
    refused (ValueError / TypeError). Amounts may be Decimal, int, or str
    written as the server reads them ('12.34', '-0.5'). Immutable and
    hashable; equal when currency and amount are.
    """

    __slots__ = ("amount", "currency", "minor_units")
    amount: Decimal          # exactly currency.scale decimal places
    currency: Currency       # canonical: 'USD', 'ETH/18', 'USD/4'
    minor_units: int         # the exact count of minor units (1234 for 12.34 USD)

    def __init__(self, amount: Union[Decimal, int, str], currency: str):
        cur = Currency(currency)
        if isinstance(amount, bool) or not isinstance(amount, (Decimal, int, str)):
            raise TypeError(f"an amount is a Decimal, int or str, not"
                            f" {type(amount).__name__} (floats are not exact)")
        if isinstance(amount, str):
            if not _AMOUNT_RE.match(amount):
                raise ValueError(f"invalid amount {amount!r}: write [-]digits[.digits]")
            amount = Decimal(amount)
        self._set(_decimal_to_units(Decimal(amount), cur), cur)

    def _set(self, units: int, cur: Currency) -> None:
        object.__setattr__(self, "currency", cur)
        object.__setattr__(self, "minor_units", units)
        object.__setattr__(self, "amount", Decimal(_format_units(units, cur.scale)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Money is immutable")

    __delattr__ = __setattr__

    def __reduce__(self) -> Any:
        return (Money.from_minor_units, (self.minor_units, str(self.currency)))

    @classmethod
    def from_minor_units(cls, units: int, currency: str) -> "Money":
        """Money of an integer count of minor units (cents for USD)."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise TypeError("minor units are an int")
        if not -MAX_UNITS <= units <= MAX_UNITS:
            raise ValueError(f"amount out of range: {units} minor units has more than"
                             f" {MAX_DIGITS} digits")
        self = object.__new__(cls)
        self._set(units, Currency(currency))
        return self

    @classmethod
    def parse(cls, text: str) -> "Money":
        """Reads '12.34 USD' or 'USD 12.34', as the server's text input does."""
        parts = text.split()
        if len(parts) != 2:
            raise ValueError(f"invalid money {text!r}: write an amount and its"
                             " currency, as in '12.34 USD'")
        a, b = parts
        if _AMOUNT_RE.match(a):
            return cls(a, b)
        if _AMOUNT_RE.match(b):
            return cls(b, a)
        raise ValueError(f"invalid money {text!r}: write an amount and its currency,"
                         " as in '12.34 USD'")

    def __str__(self) -> str:
        """'12.34 USD': the extension's text form."""
        return f"{_format_units(self.minor_units, self.currency.scale)} {self.currency}"

    def __repr__(self) -> str:
        return f"Money({self.amount!r}, {str(self.currency)!r})"

    def json(self) -> dict:
        """The JSON form, {"amount": "12.34", "currency": "USD"}: the amount a
        string, so that json.dumps(m.json()) loses nothing and the server's
        monetary input (and payments.transfer_requests()) reads it back."""
        return {"amount": _format_units(self.minor_units, self.currency.scale),
                "currency": str(self.currency)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.minor_units == other.minor_units

    def __hash__(self) -> int:
        return hash((self.currency, self.minor_units))

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money.from_minor_units(self.minor_units + other.minor_units, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money.from_minor_units(self.minor_units - other.minor_units, self.currency)

    def __neg__(self) -> "Money":
        return Money.from_minor_units(-self.minor_units, self.currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls.from_minor_units(0, currency)

    # binary form (monetary_send): 16-byte big-endian two's complement, currency
    def _to_binary(self) -> bytes:
        return self.minor_units.to_bytes(16, "big", signed=True) + self.currency._to_binary()


# --------------------------------------------------------------------------
# Wire formats

def _bad(what: str, data: Any) -> psycopg.DataError:
    return psycopg.DataError(f"invalid binary {what} value: {bytes(data)!r}")


def _currency_from_binary(data: Any, start: int, what: str) -> "tuple[Currency, int]":
    """Reads a currency_send_to() field at start; returns it and the next offset."""
    if len(data) < start + 1:
        raise _bad(what, data)
    n = data[start]
    end = start + 1 + n
    if not 3 <= n <= 8 or len(data) < end + 1:
        raise _bad(what, data)
    code = bytes(data[start + 1:end])
    if not set(code) <= _CODE_BYTES or data[end] > MAX_SCALE:
        raise _bad(what, data)
    return Currency.of(code.decode("ascii"), data[end]), end + 1


def money_from_binary(data: Any) -> Money:
    """Decodes what monetary_send writes (see README.md)."""
    units = int.from_bytes(bytes(data[:16]), "big", signed=True)
    cur, end = _currency_from_binary(data, 16, "monetary")
    if end != len(data) or len(data) < 16 or not -MAX_UNITS <= units <= MAX_UNITS:
        raise _bad("monetary", data)
    return Money.from_minor_units(units, cur)


def currency_from_binary(data: Any) -> Currency:
    """Decodes what currency_send writes (see README.md)."""
    cur, end = _currency_from_binary(data, 0, "currency")
    if end != len(data):
        raise _bad("currency", data)
    return cur


def money_from_text(text: str) -> Money:
    """Decodes monetary_out's text, '<amount> <CURRENCY>'."""
    amount, sep, cur = text.rpartition(" ")
    if not sep:
        raise psycopg.DataError(f"invalid monetary text {text!r}")
    try:
        currency = Currency(cur)
    except ValueError:
        # a bare ISO code newer than this module's table: the server prints
        # exactly the currency's decimals, so the scale is read from them
        if not (_CURRENCY_RE.match(cur) and "/" not in cur and _AMOUNT_RE.match(amount)):
            raise psycopg.DataError(f"invalid monetary text {text!r}") from None
        currency = Currency.of(cur.upper(), len(amount.partition(".")[2]))
    try:
        return Money(amount, currency)
    except ValueError as exc:
        raise psycopg.DataError(f"invalid monetary text {text!r}: {exc}") from None


class _MoneyDumper(Dumper):
    format = Format.TEXT
    _literal_cast = b"::monetary"

    def dump(self, obj: Money) -> bytes:
        return str(obj).encode("ascii")

    def quote(self, obj: Money) -> bytes:
        # client-side binding (ClientCursor): a typed literal; never holds quotes
        return b"'" + self.dump(obj) + b"'" + self._literal_cast


class _MoneyBinaryDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Money) -> bytes:
        return obj._to_binary()


class _CurrencyDumper(Dumper):
    format = Format.TEXT
    _literal_cast = b"::currency"

    def dump(self, obj: Currency) -> bytes:
        return str.__str__(obj).encode("ascii")

    def quote(self, obj: Currency) -> bytes:
        return b"'" + self.dump(obj) + b"'" + self._literal_cast


class _CurrencyBinaryDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Currency) -> bytes:
        return obj._to_binary()


class _MoneyLoader(Loader):
    format = Format.TEXT

    def load(self, data: Any) -> Money:
        return money_from_text(bytes(data).decode("ascii"))


class _MoneyBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data: Any) -> Money:
        return money_from_binary(data)


class _CurrencyLoader(Loader):
    format = Format.TEXT

    def load(self, data: Any) -> Currency:
        text = bytes(data).decode("ascii")
        try:
            return Currency(text)
        except ValueError:
            raise psycopg.DataError(
                f"cannot read currency {text!r}: a code this module's ISO 4217"
                " table does not know; update payments_money.py, or read the value"
                " in binary (cursor(binary=True)), which carries the scale") from None


class _CurrencyBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data: Any) -> Currency:
        return currency_from_binary(data)


# --------------------------------------------------------------------------
# Registration

class MoneyTypes(NamedTuple):
    """Where the types of extension ``monetary`` are, in one database."""
    schema: str
    monetary: TypeInfo
    currency: TypeInfo


_TYPES_QUERY = """\
SELECT n.nspname, t.typname, t.oid, t.typarray, t.oid::regtype::text, t.typdelim
  FROM pg_catalog.pg_extension e
  JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
  JOIN pg_catalog.pg_type t ON t.typnamespace = e.extnamespace
 WHERE e.extname = 'monetary' AND t.typname IN ('monetary', 'currency')
"""


def _types_from_rows(rows: list) -> MoneyTypes:
    infos = {}
    schema = None
    for nspname, typname, oid, array_oid, regtype, delim in rows:
        schema = nspname
        infos[typname] = TypeInfo(typname, oid, array_oid, regtype=regtype,
                                  delimiter=delim)
    if set(infos) != {"monetary", "currency"}:
        raise psycopg.ProgrammingError(
            "extension monetary is not installed in this database"
            " (CREATE EXTENSION monetary, or CREATE EXTENSION payments CASCADE)")
    return MoneyTypes(schema, infos["monetary"], infos["currency"])


def _connection_of(context: Any) -> Any:
    if isinstance(context, (psycopg.Connection, psycopg.AsyncConnection)):
        return context
    conn = getattr(context, "connection", None)
    if conn is None:
        raise TypeError("pass a connection or a cursor, or types=fetch_types(conn)")
    return conn


def fetch_types(conn: psycopg.Connection) -> MoneyTypes:
    """Looks the types up (one query; leaves the transaction state as it was)."""
    with conn.transaction():
        with conn.cursor(binary=False) as cur:
            cur.execute(_TYPES_QUERY)
            return _types_from_rows(cur.fetchall())


async def fetch_types_async(conn: psycopg.AsyncConnection) -> MoneyTypes:
    async with conn.transaction():
        async with conn.cursor(binary=False) as cur:
            await cur.execute(_TYPES_QUERY)
            return _types_from_rows(await cur.fetchall())


def register(context: Any, types: Optional[MoneyTypes] = None) -> MoneyTypes:
    """Adapts ``monetary``, ``currency`` and their arrays on ``context``.

    ``context`` is a connection or a cursor (or None, for psycopg's global
    adapters, with ``types`` given). The OIDs are looked up in the schema
    extension ``monetary`` was created in, unless ``types`` (from
    ``fetch_types()``) is given. Afterwards ``Money`` and ``Currency``
    parameters are sent typed (in binary, or in text with ``%t``), results
    of both types and of their arrays are read as ``Money`` / ``Currency`` /
    lists, and ``Copy.set_types(["monetary", "currency[]", ...])`` works.
    Run it again after the extension was dropped and re-created.
    """
    if types is None:
        types = fetch_types(_connection_of(context))
    _install(context, types)
    return types


async def register_async(context: Any, types: Optional[MoneyTypes] = None) -> MoneyTypes:
    """register() for an AsyncConnection or AsyncCursor."""
    if types is None:
        types = await fetch_types_async(_connection_of(context))
    _install(context, types)
    return types


def _quote_ident(name: str) -> bytes:
    return ('"' + name.replace('"', '""') + '"').encode()


def _install(context: Any, types: MoneyTypes) -> None:
    adapters = context.adapters if context is not None else psycopg.adapters
    for info in (types.monetary, types.currency):
        info.register(context)  # the names for set_types(), and the arrays
    qualified = b"::" + _quote_ident(types.schema) + b"."
    for pycls, info, text_d, bin_d, text_l, bin_l in (
        (Money, types.monetary, _MoneyDumper, _MoneyBinaryDumper,
         _MoneyLoader, _MoneyBinaryLoader),
        (Currency, types.currency, _CurrencyDumper, _CurrencyBinaryDumper,
         _CurrencyLoader, _CurrencyBinaryLoader),
    ):
        cast = qualified + _quote_ident(info.name)
        # text first, binary last: a %s placeholder then sends binary
        adapters.register_dumper(pycls, type(text_d.__name__, (text_d,),
                                             {"oid": info.oid, "_literal_cast": cast}))
        adapters.register_dumper(pycls, type(bin_d.__name__, (bin_d,), {"oid": info.oid}))
        adapters.register_loader(info.oid, text_l)
        adapters.register_loader(info.oid, bin_l)


# --------------------------------------------------------------------------
# Retrying safely

#: serialization failure, deadlock, lock_timeout, statement_timeout/cancel
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})
# the server ended the session: admin shutdown, crash shutdown, cannot connect now
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})


def is_connection_lost(exc: BaseException, conn: Any = None) -> bool:
    """Whether exc means the session is gone (a new connection is needed)."""
    if conn is not None and (conn.closed or conn.broken):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    # Not every class 08 error: a truncated binary parameter is 08P01 on a
    # connection that is fine, and sending it again fails again.
    return exc.sqlstate is None or exc.sqlstate in _SESSION_ENDED


def is_retryable(exc: BaseException, conn: Any = None) -> bool:
    """Whether the whole transaction should be run again (same keys, same metadata)."""
    if isinstance(exc, psycopg.Error) and exc.sqlstate in RETRYABLE_SQLSTATES:
        return True
    return is_connection_lost(exc, conn)


T = TypeVar("T")


class Retrier:
    """Runs a transaction until it commits, or fails for a reason not to retry.

        retrier = Retrier(lambda: connect_and_register())
        tid = retrier.run(lambda conn: conn.execute(
            "SELECT payments.post_transfer(%s, %s, %s, %s)",
            (src, dst, Money("10.00", "USD"), key)).fetchone()[0])

    ``work(conn)`` runs inside ``with conn.transaction()``; on a retryable
    SQLSTATE (``RETRYABLE_SQLSTATES``) the transaction is rolled back and run
    again after a jittered exponential backoff; on a lost connection (no
    SQLSTATE: the commit may or may not have happened) a new connection is
    made with ``connect()`` and ``work`` runs again. ``work`` must therefore
    be repeatable: give every ledger call an idempotency key and the same
    arguments (metadata included) on every attempt, so that a call that did
    commit is replayed, not posted twice. Other errors (23L01 insufficient
    funds, ...) are raised at once. ``stats`` counts retries by SQLSTATE
    ('lost' for lost connections).
    """

    def __init__(self, connect: Callable[[], psycopg.Connection], *,
                 attempts: int = 30, base_delay: float = 0.005,
                 max_delay: float = 0.5) -> None:
        self._connect = connect
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.conn: Optional[psycopg.Connection] = None
        self.stats: Counter = Counter()

    def connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed or self.conn.broken:
            if self.conn is not None:
                self.conn.close()
            self.conn = self._connect()
        return self.conn

    def run(self, work: Callable[[psycopg.Connection], T]) -> T:
        for attempt in range(1, self.attempts + 1):
            conn = None
            try:
                conn = self.connection()
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    # a savepoint would not do: 40001 and 40P01 need a new transaction
                    raise psycopg.ProgrammingError(
                        "Retrier.run() needs a connection outside any transaction")
                with conn.transaction():
                    return work(conn)
            except psycopg.Error as exc:
                if attempt == self.attempts or not is_retryable(exc, conn):
                    raise
                if is_connection_lost(exc, conn):
                    self.stats["lost"] += 1
                    if conn is not None:
                        conn.close()
                    self.conn = None
                else:
                    self.stats[exc.sqlstate] += 1
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                time.sleep(random.uniform(0, delay))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
