/*
 * iso4217.c
 *	  The ISO 4217 currency codes and their minor units.
 *
 * The table holds every code of ISO 4217 List One (current as of the
 * 2026-01-01 list, which includes the 2024 and 2025 additions ZWG, XCG and
 * XAD), and every withdrawn code of List Three, which old data may still
 * hold.
 * Withdrawn codes stay so that stored amounts keep their meaning: a row
 * written in DEM or HRK must still read back with the right number of
 * decimal places.  They are flagged so that callers can refuse them for new
 * data.
 *
 * For withdrawn codes, minor_units is what ISO listed while the code was in
 * force (List Three itself does not give minor units).  Values that could not
 * be checked against an ISO table are marked in a comment.
 *
 * Every code of List Three is here.  For 40 of them ISO never published a
 * minor unit (ARY, BEC, BEL, BGJ, BGK, BUK, CHC, CSJ, ECV, ESA, ESB, GHP,
 * GNE, GNS, GQE, GWE, ILP, ILR, ISJ, LAJ, LSM, LUC, LUL, MLF, MTP, MVQ, MZE,
 * PEH, RHD, ROK, TJR, UGS, UGW, UYN, UYP, VNC, YDD, ZAL, ZRZ, ZWC): they are
 * known codes with minor_units -1, like XAU and the withdrawn units of
 * account XEU, XFO, XFU and XRE, rather than carrying a guess.
 * A built-in scale decides what '1 BEC' means and how every stored BEC amount
 * is printed, so it could never be corrected later, and the obvious guess
 * (2) is wrong for several of them (BEC, BEL, ESA, ESB, LUC and LUL belonged
 * to francs and pesetas that ISO gave 0).  Such a code is written with its
 * scale ('BEC/0'), as any other asset.
 *
 * Where ISO gives "N.A." (precious metals, bond market units, SDR, the
 * testing and no-currency codes, and a few units of account) minor_units is
 * -1.
 *
 * Where a code was withdrawn and later re-used (PEN, RON, SDG, TRY, ...),
 * the table holds only its current meaning.
 *
 * The table must stay sorted by code: iso4217_lookup() does a binary search.
 * iso4217_table_is_sorted() lets a test check that.
 */
#include "iso4217.h"

#include <string.h>

const Iso4217Currency iso4217_table[] = {
	{"ADP", 0, true},
	{"AED", 2, false},
	{"AFA", 2, true},
	{"AFN", 2, false},
	{"ALK", 2, true},			/* ISO's List Three gives no minor unit; 2 assumed */
	{"ALL", 2, false},
	{"AMD", 2, false},
	{"ANG", 2, true},			/* replaced by XCG in 2025 */
	{"AOA", 2, false},
	{"AOK", 0, true},			/* 0 as recalled from ISO's historical tables */
	{"AON", 0, true},			/* 0 as recalled from ISO's historical tables */
	{"AOR", 0, true},			/* 0 as recalled from ISO's historical tables */
	{"ARA", 2, true},
	{"ARP", 2, true},
	{"ARS", 2, false},
	{"ARY", -1, true},			/* List Three, no minor unit */
	{"ATS", 2, true},
	{"AUD", 2, false},
	{"AWG", 2, false},
	{"AYM", 2, true},			/* short-lived (2005); 2 assumed */
	{"AZM", 2, true},
	{"AZN", 2, false},
	{"BAD", 2, true},
	{"BAM", 2, false},
	{"BBD", 2, false},
	{"BDT", 2, false},
	{"BEC", -1, true},			/* List Three, no minor unit */
	{"BEF", 0, true},			/* ISO gave 0, not 2 */
	{"BEL", -1, true},			/* List Three, no minor unit */
	{"BGJ", -1, true},			/* List Three, no minor unit */
	{"BGK", -1, true},			/* List Three, no minor unit */
	{"BGL", 2, true},
	{"BGN", 2, true},			/* replaced by EUR on 2026-01-01 */
	{"BHD", 3, false},
	{"BIF", 0, false},
	{"BMD", 2, false},
	{"BND", 2, false},
	{"BOB", 2, false},
	{"BOP", 2, true},
	{"BOV", 2, false},
	{"BRB", 2, true},
	{"BRC", 2, true},
	{"BRE", 2, true},
	{"BRL", 2, false},
	{"BRN", 2, true},
	{"BRR", 2, true},
	{"BSD", 2, false},
	{"BTN", 2, false},
	{"BUK", -1, true},			/* List Three, no minor unit */
	{"BWP", 2, false},
	{"BYB", 0, true},			/* ISO gave 0 */
	{"BYN", 2, false},
	{"BYR", 0, true},
	{"BZD", 2, false},
	{"CAD", 2, false},
	{"CDF", 2, false},
	{"CHC", -1, true},			/* List Three, no minor unit */
	{"CHE", 2, false},
	{"CHF", 2, false},
	{"CHW", 2, false},
	{"CLF", 4, false},
	{"CLP", 0, false},
	{"CNY", 2, false},
	{"COP", 2, false},
	{"COU", 2, false},
	{"CRC", 2, false},
	{"CSD", 2, true},
	{"CSJ", -1, true},			/* List Three, no minor unit */
	{"CSK", 2, true},
	{"CUC", 2, true},
	{"CUP", 2, false},
	{"CVE", 2, false},
	{"CYP", 2, true},
	{"CZK", 2, false},
	{"DDM", 2, true},
	{"DEM", 2, true},
	{"DJF", 0, false},
	{"DKK", 2, false},
	{"DOP", 2, false},
	{"DZD", 2, false},
	{"ECS", 0, true},			/* 0 as recalled from ISO's historical tables */
	{"ECV", -1, true},			/* List Three, no minor unit */
	{"EEK", 2, true},
	{"EGP", 2, false},
	{"ERN", 2, false},
	{"ESA", -1, true},			/* List Three, no minor unit */
	{"ESB", -1, true},			/* List Three, no minor unit */
	{"ESP", 0, true},
	{"ETB", 2, false},
	{"EUR", 2, false},
	{"FIM", 2, true},
	{"FJD", 2, false},
	{"FKP", 2, false},
	{"FRF", 2, true},
	{"GBP", 2, false},
	{"GEK", 0, true},			/* 0 as recalled from ISO's historical tables */
	{"GEL", 2, false},
	{"GHC", 2, true},
	{"GHP", -1, true},			/* List Three, no minor unit */
	{"GHS", 2, false},
	{"GIP", 2, false},
	{"GMD", 2, false},
	{"GNE", -1, true},			/* List Three, no minor unit */
	{"GNF", 0, false},
	{"GNS", -1, true},			/* List Three, no minor unit */
	{"GQE", -1, true},			/* List Three, no minor unit */
	{"GRD", 0, true},			/* ISO gave 0, not 2 */
	{"GTQ", 2, false},
	{"GWE", -1, true},			/* List Three, no minor unit */
	{"GWP", 2, true},
	{"GYD", 2, false},
	{"HKD", 2, false},
	{"HNL", 2, false},
	{"HRD", 2, true},			/* unsure; 2 assumed */
	{"HRK", 2, true},
	{"HTG", 2, false},
	{"HUF", 2, false},
	{"IDR", 2, false},
	{"IEP", 2, true},
	{"ILP", -1, true},			/* List Three, no minor unit */
	{"ILR", -1, true},			/* List Three, no minor unit */
	{"ILS", 2, false},
	{"INR", 2, false},
	{"IQD", 3, false},
	{"IRR", 2, false},
	{"ISJ", -1, true},			/* List Three, no minor unit */
	{"ISK", 0, false},
	{"ITL", 0, true},
	{"JMD", 2, false},
	{"JOD", 3, false},
	{"JPY", 0, false},
	{"KES", 2, false},
	{"KGS", 2, false},
	{"KHR", 2, false},
	{"KMF", 0, false},
	{"KPW", 2, false},
	{"KRW", 0, false},
	{"KWD", 3, false},
	{"KYD", 2, false},
	{"KZT", 2, false},
	{"LAJ", -1, true},			/* List Three, no minor unit */
	{"LAK", 2, false},
	{"LBP", 2, false},
	{"LKR", 2, false},
	{"LRD", 2, false},
	{"LSL", 2, false},
	{"LSM", -1, true},			/* List Three, no minor unit */
	{"LTL", 2, true},
	{"LTT", 2, true},
	{"LUC", -1, true},			/* List Three, no minor unit */
	{"LUF", 0, true},			/* ISO gave 0, not 2 */
	{"LUL", -1, true},			/* List Three, no minor unit */
	{"LVL", 2, true},
	{"LVR", 2, true},
	{"LYD", 3, false},
	{"MAD", 2, false},
	{"MDL", 2, false},
	{"MGA", 2, false},			/* ISO lists 2, though an ariary is 5 iraimbilanja */
	{"MGF", 0, true},			/* ISO gave 0 */
	{"MKD", 2, false},
	{"MLF", -1, true},			/* List Three, no minor unit */
	{"MMK", 2, false},
	{"MNT", 2, false},
	{"MOP", 2, false},
	{"MRO", 2, true},			/* ISO listed 2, though an ouguiya was 5 khoums */
	{"MRU", 2, false},			/* ISO lists 2, though an ouguiya is 5 khoums */
	{"MTL", 2, true},
	{"MTP", -1, true},			/* List Three, no minor unit */
	{"MUR", 2, false},
	{"MVQ", -1, true},			/* List Three, no minor unit */
	{"MVR", 2, false},
	{"MWK", 2, false},
	{"MXN", 2, false},
	{"MXP", 2, true},
	{"MXV", 2, false},
	{"MYR", 2, false},
	{"MZE", -1, true},			/* List Three, no minor unit */
	{"MZM", 2, true},
	{"MZN", 2, false},
	{"NAD", 2, false},
	{"NGN", 2, false},
	{"NIC", 2, true},
	{"NIO", 2, false},
	{"NLG", 2, true},
	{"NOK", 2, false},
	{"NPR", 2, false},
	{"NZD", 2, false},
	{"OMR", 3, false},
	{"PAB", 2, false},
	{"PEH", -1, true},			/* List Three, no minor unit */
	{"PEI", 2, true},
	{"PEN", 2, false},
	{"PES", 2, true},
	{"PGK", 2, false},
	{"PHP", 2, false},
	{"PKR", 2, false},
	{"PLN", 2, false},
	{"PLZ", 2, true},
	{"PTE", 0, true},			/* ISO gave 0, not 2 */
	{"PYG", 0, false},
	{"QAR", 2, false},
	{"RHD", -1, true},			/* List Three, no minor unit */
	{"ROK", -1, true},			/* List Three, no minor unit */
	{"ROL", 0, true},			/* 0 as in the JDK's ISO-derived data; unsure */
	{"RON", 2, false},
	{"RSD", 2, false},
	{"RUB", 2, false},
	{"RUR", 2, true},
	{"RWF", 0, false},
	{"SAR", 2, false},
	{"SBD", 2, false},
	{"SCR", 2, false},
	{"SDD", 2, true},
	{"SDG", 2, false},
	{"SDP", 2, true},
	{"SEK", 2, false},
	{"SGD", 2, false},
	{"SHP", 2, false},
	{"SIT", 2, true},
	{"SKK", 2, true},
	{"SLE", 2, false},
	{"SLL", 2, true},
	{"SOS", 2, false},
	{"SRD", 2, false},
	{"SRG", 2, true},
	{"SSP", 2, false},
	{"STD", 2, true},
	{"STN", 2, false},
	{"SUR", 2, true},
	{"SVC", 2, false},
	{"SYP", 2, false},
	{"SZL", 2, false},
	{"THB", 2, false},
	{"TJR", -1, true},			/* List Three, no minor unit */
	{"TJS", 2, false},
	{"TMM", 2, true},
	{"TMT", 2, false},
	{"TND", 3, false},
	{"TOP", 2, false},
	{"TPE", 0, true},
	{"TRL", 0, true},
	{"TRY", 2, false},
	{"TTD", 2, false},
	{"TWD", 2, false},
	{"TZS", 2, false},
	{"UAH", 2, false},
	{"UAK", 2, true},			/* unsure; 2 assumed */
	{"UGS", -1, true},			/* List Three, no minor unit */
	{"UGW", -1, true},			/* List Three, no minor unit */
	{"UGX", 0, false},
	{"USD", 2, false},
	{"USN", 2, false},
	{"USS", 2, true},
	{"UYI", 0, false},
	{"UYN", -1, true},			/* List Three, no minor unit */
	{"UYP", -1, true},			/* List Three, no minor unit */
	{"UYU", 2, false},
	{"UYW", 4, false},
	{"UZS", 2, false},
	{"VEB", 2, true},
	{"VED", 2, false},
	{"VEF", 2, true},
	{"VES", 2, false},
	{"VNC", -1, true},			/* List Three, no minor unit */
	{"VND", 0, false},
	{"VUV", 0, false},
	{"WST", 2, false},
	{"XAD", 2, false},			/* Arab Accounting Dinar, added 2025 */
	{"XAF", 0, false},
	{"XAG", -1, false},
	{"XAU", -1, false},
	{"XBA", -1, false},
	{"XBB", -1, false},
	{"XBC", -1, false},
	{"XBD", -1, false},
	{"XCD", 2, false},
	{"XCG", 2, false},			/* Caribbean guilder, added 2025, replaces ANG */
	{"XDR", -1, false},
	{"XEU", -1, true},			/* unsure whether ISO gave 2 or N.A.; N.A. assumed */
	{"XFO", -1, true},
	{"XFU", -1, true},
	{"XOF", 0, false},
	{"XPD", -1, false},
	{"XPF", 0, false},
	{"XPT", -1, false},
	{"XRE", -1, true},
	{"XSU", -1, false},			/* N.A. in ISO */
	{"XTS", -1, false},
	{"XUA", -1, false},			/* N.A. in ISO */
	{"XXX", -1, false},
	{"YDD", -1, true},			/* List Three, no minor unit */
	{"YER", 2, false},
	{"YUD", 2, true},
	{"YUM", 2, true},
	{"YUN", 2, true},
	{"ZAL", -1, true},			/* List Three, no minor unit */
	{"ZAR", 2, false},
	{"ZMK", 2, true},
	{"ZMW", 2, false},
	{"ZRN", 2, true},
	{"ZRZ", -1, true},			/* List Three, no minor unit */
	{"ZWC", -1, true},			/* List Three, no minor unit */
	{"ZWD", 2, true},
	{"ZWG", 2, false},			/* Zimbabwe Gold, added 2024, replaces ZWL */
	{"ZWL", 2, true},
	{"ZWN", 2, true},
	{"ZWR", 2, true},
};

const int	iso4217_count = (int) (sizeof(iso4217_table) / sizeof(iso4217_table[0]));

/*
 * Finds a code in the table.  The code must be exactly three upper-case
 * ASCII letters; anything else (lower case, other lengths, embedded NULs)
 * is not an ISO code and gives NULL.  The check does not use <ctype.h>, so
 * that it does not depend on the locale.
 */
const Iso4217Currency *
iso4217_lookup(const char *code, int len)
{
	int			lo;
	int			hi;
	int			i;

	if (code == NULL || len != 3)
		return NULL;
	for (i = 0; i < 3; i++)
	{
		if (code[i] < 'A' || code[i] > 'Z')
			return NULL;
	}

	lo = 0;
	hi = iso4217_count - 1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			cmp = memcmp(code, iso4217_table[mid].code, 3);

		if (cmp == 0)
			return &iso4217_table[mid];
		if (cmp < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return NULL;
}

bool
iso4217_table_is_sorted(void)
{
	int			i;

	for (i = 1; i < iso4217_count; i++)
	{
		if (strcmp(iso4217_table[i - 1].code, iso4217_table[i].code) >= 0)
			return false;
	}
	return true;
}
