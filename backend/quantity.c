/* quantity.c: Kubernetes resource quantities parsed to exact milli-unit integers.
 *
 * A quantity is  sign * D * 10^-nf * B * 10^e  where D is the digit string
 * (integer and fraction digits run together), nf the number of fraction
 * digits, B a power of two (binary suffix) and e a power of ten (decimal
 * suffix or exponent). In milli-units that is  sign * D * B * 10^p  with
 * p = 3 + e - nf (after moving D's trailing zeros into p). When p >= 0 the
 * result is a plain product; when p < 0 the digits split into an integer
 * part H and a fraction part L, and  L * B / 10^q  is computed by exact
 * long division over L's digits, remembering whether anything was lost so
 * the result can be rounded toward +infinity. Every loop is bounded by the
 * input length, never by the exponent's value. */
#include "backend/quantity.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Exponents are clamped to this magnitude while parsing: anything beyond it
 * is already far outside what a 128-bit value or a 100000-digit fraction can
 * reach, and the clamp keeps the int64 arithmetic on p free of overflow. */
#define QTY_EXP_CLAMP 1000000000000000LL

/* Above this many integer digits a nonzero value is certainly too large:
 * 10^23 > (2^63-1)*1000 ~= 9.2e21, and 10^24 still fits in __int128. */
#define QTY_MAX_INT_DIGITS 24

/* (2^63-1)*1000: the largest accepted magnitude in milli-units. */
#define QTY_MAX_MILLI ((__int128)INT64_MAX * 1000)

#define QTY_SUFFIX_HELP                                                                            \
	"use one of m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like e6"

struct qty_suffix {
	const char *name;
	int exp10; /* power of ten */
	int exp2;  /* power of two */
};

static const struct qty_suffix qty_suffixes[] = {
    {"", 0, 0},	   {"n", -9, 0},  {"u", -6, 0},	 {"m", -3, 0},	{"k", 3, 0},   {"M", 6, 0},
    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},	 {"E", 18, 0},	{"Ki", 0, 10}, {"Mi", 0, 20},
    {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

/* Digits of the number with the '.' squeezed out. */
struct qty_digits {
	const char *ip; /* integer digits */
	size_t ni;
	const char *fp; /* fraction digits */
	size_t nf;
};

static int qty_digit(const struct qty_digits *d, size_t k)
{
	return k < d->ni ? d->ip[k] - '0' : d->fp[k - d->ni] - '0';
}

static bool qty_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

__attribute__((format(printf, 3, 4))) static void qty_err(char *err, size_t errlen, const char *fmt,
							  ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Render S (LEN bytes) for an error message: non-printable bytes and quotes
 * escaped, long strings cut short with "...". */
static const char *qty_quote(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= 40) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return dst;
}

/* Parse an exponent "e6", "E-3", "e+12" (starting at the e) into *exp,
 * clamped to +-QTY_EXP_CLAMP. Returns false if it is not one. */
static bool qty_parse_exponent(const char *s, int64_t *exp)
{
	bool neg = false;
	int64_t v = 0;

	if (*s != 'e' && *s != 'E')
		return false;
	s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!qty_isdigit(*s))
		return false;
	for (; qty_isdigit(*s); s++) {
		if (v < QTY_EXP_CLAMP)
			v = v * 10 + (*s - '0');
	}
	if (*s)
		return false;
	if (v > QTY_EXP_CLAMP)
		v = QTY_EXP_CLAMP;
	*exp = neg ? -v : v;
	return true;
}

static void qty_suffix_error(const char *s, const char *suffix, char *err, size_t errlen)
{
	char qs[200], qsuf[200];
	const char *c;
	size_t i;

	qty_quote(qs, sizeof(qs), s, strlen(s));
	qty_quote(qsuf, sizeof(qsuf), suffix, strlen(suffix));
	for (c = s; *c; c++) {
		if (isspace((unsigned char)*c)) {
			qty_err(err, errlen, "invalid quantity \"%s\": whitespace is not allowed",
				qs);
			return;
		}
	}
	if (strchr(suffix, '.')) {
		qty_err(err, errlen, "invalid quantity \"%s\": misplaced decimal point", qs);
		return;
	}
	if (suffix[0] == 'e' || (suffix[0] == 'E' && suffix[1])) {
		c = suffix + 1;
		if (*c == '+' || *c == '-')
			c++;
		if (!*c) {
			qty_err(err, errlen,
				"invalid quantity \"%s\": exponent \"%s\" has no digits, e.g. e6",
				qs, qsuf);
			return;
		}
	}
	for (i = 1; i < sizeof(qty_suffixes) / sizeof(qty_suffixes[0]); i++) {
		if (strcasecmp(suffix, qty_suffixes[i].name) == 0) {
			qty_err(err, errlen,
				"invalid quantity \"%s\": unknown suffix \"%s\" (suffixes are "
				"case-sensitive; did you mean \"%s\"?); " QTY_SUFFIX_HELP,
				qs, qsuf, qty_suffixes[i].name);
			return;
		}
	}
	qty_err(err, errlen, "invalid quantity \"%s\": unknown suffix \"%s\"; " QTY_SUFFIX_HELP, qs,
		qsuf);
}

static void qty_too_large(const char *s, char *err, size_t errlen)
{
	char qs[200];

	qty_err(err, errlen, "quantity \"%s\" is too large",
		qty_quote(qs, sizeof(qs), s, strlen(s)));
}

int qty_parse(const char *s, __int128 *milli, char *err, size_t errlen)
{
	struct qty_digits d = {0};
	const char *p = s, *suffix;
	bool neg = false, sticky = false;
	int64_t exp10 = 0, pw, q, nhi;
	int exp2 = 0;
	size_t total, first, last, n, i;
	__int128 hi = 0, f, b, acc;
	char qs[200];

	if (!s || !*s) {
		qty_err(err, errlen, "invalid quantity \"\": empty string");
		return -1;
	}

	/* [+-] digits [. digits] */
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	d.ip = p;
	while (qty_isdigit(*p))
		p++;
	d.ni = (size_t)(p - d.ip);
	if (*p == '.') {
		d.fp = ++p;
		while (qty_isdigit(*p))
			p++;
		d.nf = (size_t)(p - d.fp);
	}
	if (d.ni + d.nf == 0) {
		qty_quote(qs, sizeof(qs), s, strlen(s));
		qty_err(err, errlen,
			"invalid quantity \"%s\": expected a number like 100m, 1.5 or 2Gi", qs);
		return -1;
	}

	/* suffix */
	suffix = p;
	for (i = 0; i < sizeof(qty_suffixes) / sizeof(qty_suffixes[0]); i++) {
		if (strcmp(suffix, qty_suffixes[i].name) == 0) {
			exp10 = qty_suffixes[i].exp10;
			exp2 = qty_suffixes[i].exp2;
			break;
		}
	}
	if (i == sizeof(qty_suffixes) / sizeof(qty_suffixes[0]) &&
	    !qty_parse_exponent(suffix, &exp10)) {
		qty_suffix_error(s, suffix, err, errlen);
		return -1;
	}

	/* Strip leading and trailing zeros of the digit string. */
	total = d.ni + d.nf;
	for (first = 0; first < total && qty_digit(&d, first) == 0; first++)
		;
	if (first == total) {
		*milli = 0;
		return 0;
	}
	for (last = total - 1; qty_digit(&d, last) == 0; last--)
		;
	n = last - first + 1;
	/* milli = D * 2^exp2 * 10^pw, D = digits[first..last] (n digits). The
	 * lengths are bounded by the address space, so int64 cannot overflow. */
	pw = 3 + exp10 - (int64_t)d.nf + (int64_t)(total - 1 - last);

	if ((int64_t)n + pw > QTY_MAX_INT_DIGITS) {
		qty_too_large(s, err, errlen);
		return -1;
	}

	/* Integer part: the first nhi digits of D, times 10^pw if pw > 0. */
	q = pw < 0 ? -pw : 0;
	nhi = (int64_t)n - q;
	for (i = 0; (int64_t)i < nhi; i++)
		hi = hi * 10 + qty_digit(&d, first + i);
	for (i = 0; (int64_t)i < pw; i++)
		hi *= 10;

	b = (__int128)1 << exp2;
	if (__builtin_mul_overflow(hi, b, &f)) {
		qty_too_large(s, err, errlen);
		return -1;
	}

	/* Fraction part: the last q digits of D (padded with leading zeros if
	 * q > n), value L * b / 10^q < b. Long division from the least
	 * significant digit: acc stays < b, sticky notes any remainder. */
	if (q > (int64_t)n + 20) {
		/* L * b / 10^q < 10^n * 2^60 / 10^(n+21) < 1, and L != 0. */
		sticky = true;
	} else if (q > 0) {
		acc = 0;
		for (i = 0; (int64_t)i < q; i++) {
			/* i-th digit from the right of the q-digit fraction */
			int dig = (int64_t)i < (int64_t)n ? qty_digit(&d, last - i) : 0;
			__int128 t = dig * b + acc;

			if (t % 10)
				sticky = true;
			acc = t / 10;
		}
		/* f is a multiple of b below 2^127 (itself a multiple of b), so
		 * f <= 2^127 - b and f + acc (acc < b) cannot overflow. */
		f += acc;
	}

	if (f > QTY_MAX_MILLI || (f == QTY_MAX_MILLI && sticky)) {
		qty_too_large(s, err, errlen);
		return -1;
	}
	/* Round toward +infinity. */
	*milli = neg ? -f : f + sticky;
	return 0;
}

int qty_to_milli(__int128 milli, int64_t *out)
{
	if (milli > INT64_MAX || milli < INT64_MIN)
		return -1;
	*out = (int64_t)milli;
	return 0;
}

int qty_to_units(__int128 milli, int64_t *out)
{
	/* C division truncates toward zero, which is the ceiling for negatives. */
	__int128 u = milli / 1000 + (milli > 0 && milli % 1000 != 0);

	if (u > INT64_MAX || u < INT64_MIN)
		return -1;
	*out = (int64_t)u;
	return 0;
}

char *qty_format_milli(int64_t milli, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	if (milli % 1000 == 0)
		snprintf(buf, len, "%" PRId64, milli / 1000);
	else
		snprintf(buf, len, "%" PRId64 "m", milli);
	return buf;
}

char *qty_format_bytes(int64_t bytes, char *buf, size_t len)
{
	static const char *const bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	static const char *const dec[] = {"k", "M", "G", "T", "P", "E"};
	int64_t unit, bq = 0, dq = 0;
	int k, bk = 0, dk = 0;

	if (!buf || len == 0)
		return buf;
	if (bytes != 0) {
		for (k = 6; k >= 1 && !bk; k--) {
			unit = (int64_t)1 << (10 * k);
			if (bytes % unit == 0) {
				bk = k;
				bq = bytes / unit;
			}
		}
		for (k = 6, unit = 1000000000000000000LL; k >= 1 && !dk; k--, unit /= 1000) {
			if (bytes % unit == 0) {
				dk = k;
				dq = bytes / unit;
			}
		}
	}
	/* Both fit: take the smaller mantissa, so 10^12 is "1T", not "976562500Ki". */
	if (bk && dk && llabs(dq) < llabs(bq))
		bk = 0;
	if (bk)
		snprintf(buf, len, "%" PRId64 "%s", bq, bin[bk - 1]);
	else if (dk)
		snprintf(buf, len, "%" PRId64 "%s", dq, dec[dk - 1]);
	else
		snprintf(buf, len, "%" PRId64, bytes);
	return buf;
}
