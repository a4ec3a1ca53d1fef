/* test_quantity.c: unit tests for backend/quantity.c. */
#include "backend/quantity.h"
#include "tests/unit/testhelp.h"

#include <stdlib.h>
#include <time.h>

/* Sentinel returned by milli() when parsing fails. */
#define BAD ((__int128)-424242424242LL)

static char errbuf[512];

static __int128 milli(const char *s)
{
	__int128 v = 0;

	errbuf[0] = '\0';
	if (qty_parse(s, &v, errbuf, sizeof(errbuf)) != 0)
		return BAD;
	return v;
}

/* Parse S and return its error message ("" if it parsed). */
static const char *perr(const char *s)
{
	__int128 v = 0;

	errbuf[0] = '\0';
	if (qty_parse(s, &v, errbuf, sizeof(errbuf)) == 0)
		return "";
	return errbuf;
}

/* Parse S as memory: whole bytes, -1 on any failure. */
static int64_t bytes(const char *s)
{
	__int128 v;
	int64_t b;

	if (qty_parse(s, &v, NULL, 0) != 0 || qty_to_units(v, &b) != 0)
		return -1;
	return b;
}

TEST(cpu_values)
{
	CHECK(milli("0.1") == 100);
	CHECK(milli("100m") == 100);
	CHECK(milli("0.1") == milli("100m"));
	CHECK(milli("1") == 1000);
	CHECK(milli("0.5") == 500);
	CHECK(milli("1.5") == 1500);
	CHECK(milli("2500m") == 2500);
	CHECK(milli("0") == 0);
	CHECK(milli("0m") == 0);
	CHECK(milli("+2") == 2000);
	CHECK(milli("-1") == -1000);
	CHECK(milli("-1.5") == -1500);
	CHECK(milli(".5") == 500);
	CHECK(milli("5.") == 5000);
	CHECK(milli("000000000001") == 1000);
	CHECK(milli("1.000000000000000000000000000000") == 1000);
}

TEST(rounding_up)
{
	CHECK(milli("0.0001") == 1);
	CHECK(milli("0.1m") == 1);
	CHECK(milli("0.0000000001") == 1);
	CHECK(milli("1.0001") == 1001);
	CHECK(milli("1n") == 1);
	CHECK(milli("1u") == 1);
	CHECK(milli("1500u") == 2);
	CHECK(milli("1e-3") == 1);
	CHECK(milli("1e-4") == 1);
	CHECK(milli("1e-999999999") == 1);
	CHECK(milli("0e999999999") == 0);
	/* toward +infinity: negatives round toward zero */
	CHECK(milli("-0.0001") == 0);
	CHECK(milli("-1.0001") == -1000);
	/* exact, then rounded: 1.23456789 * 2^30 * 1000 = 1325607178060.43... */
	CHECK(milli("1.23456789Gi") == (__int128)1325607178061LL);
	CHECK(milli("-1.23456789Gi") == -(__int128)1325607178060LL);
	CHECK(milli("0.5Ki") == 512000);
	CHECK(milli("1.5Ki") == 1536000);
	CHECK(milli("0.001Ki") == 1024);
	CHECK(milli("0.0001Ki") == 103); /* 102.4 */
}

TEST(memory_values)
{
	CHECK(bytes("200M") == 200000000);
	CHECK(bytes("1G") == 1000000000);
	CHECK(bytes("1Gi") == 1073741824);
	CHECK(bytes("129e6") == 129000000);
	CHECK(bytes("129E6") == 129000000);
	CHECK(bytes("1.29e+8") == 129000000);
	CHECK(bytes("128974848") == 128974848);
	CHECK(bytes("123Mi") == 128974848);
	CHECK(bytes("400m") == 1);
	CHECK(bytes("1k") == 1000);
	CHECK(bytes("1Ki") == 1024);
	CHECK(bytes("1E") == 1000000000000000000LL);
	CHECK(bytes("1E3") == 1000);
	CHECK(bytes("1e3") == 1000);
	CHECK(bytes("1T") == 1000000000000LL);
	CHECK(bytes("1Pi") == 1125899906842624LL);
	CHECK(bytes("7Ei") == 8070450532247928832LL);
	CHECK(bytes("9223372036854775807") == INT64_MAX);
	CHECK(bytes("9223372036854775807000m") == INT64_MAX);
}

TEST(too_large)
{
	__int128 v;
	int64_t out = 0;

	CHECK(bytes("9223372036854775808") == -1);
	CHECK_CONTAINS(perr("9223372036854775808"), "is too large");
	CHECK_CONTAINS(perr("9223372036854775807.0001"), "is too large");
	CHECK_CONTAINS(perr("9223372036854775807000.1m"), "is too large");
	CHECK_CONTAINS(perr("-9223372036854775808"), "is too large");
	CHECK(milli("-9223372036854775807") == -(__int128)INT64_MAX * 1000);
	CHECK_CONTAINS(perr("8Ei"), "is too large");
	CHECK_STREQ(perr("1e100"), "quantity \"1e100\" is too large");
	CHECK_CONTAINS(perr("99999999999999999999999Ei"), "is too large");
	CHECK_CONTAINS(perr("1e999999999"), "is too large");
	CHECK_CONTAINS(perr("1e99999999999999999999999999999"), "is too large");
	CHECK_CONTAINS(perr("-1e999999999"), "is too large");
	CHECK(milli("1e-99999999999999999999999999999") == 1);

	/* qty_to_units: 8Ei = 2^63 bytes does not fit int64, 7Ei does. */
	v = (__int128)1 << 63;
	CHECK(qty_to_units(v * 1000, &out) == -1);
	CHECK(qty_to_units(v * 1000 - 1000, &out) == 0 && out == INT64_MAX);
	CHECK(qty_to_units(v * 1000 - 1, &out) == -1); /* rounds up to 2^63 */
	CHECK(qty_to_units(milli("7Ei"), &out) == 0 && out == 7 * ((int64_t)1 << 60));
	CHECK(qty_to_units(-v * 1000, &out) == 0 && out == INT64_MIN);
	CHECK(qty_to_units(1, &out) == 0 && out == 1);
	CHECK(qty_to_units(-1, &out) == 0 && out == 0);
	CHECK(qty_to_units(-1001, &out) == 0 && out == -1);

	/* qty_to_milli */
	CHECK(qty_to_milli(milli("9223372036854775807m"), &out) == 0 && out == INT64_MAX);
	CHECK(qty_to_milli(milli("9223372036854775808m"), &out) == -1);
	CHECK(qty_to_milli(milli("-9223372036854775808m"), &out) == 0 && out == INT64_MIN);
	CHECK(qty_to_milli(milli("2"), &out) == 0 && out == 2000);
}

TEST(invalid)
{
	static const char *const bad[] = {
	    "",	   "1.5.3", "1KB", "1 Gi",  "Mi",  "1e",   "--1", "0x10", "1ki",
	    " 1",  "1 ",    "+",   "-",	    ".",   "1e+",  "1e-", "e3",	  "1Gi3",
	    "1mi", "1K",    "1iB", "1.e",   "1M1", "1e3k", "1,5", "1\n",  "1Eii",
	    "inf", "NaN",   "+-1", "1e3.5", "1..", "1E+",  "1g",
	};
	size_t i;
	__int128 v = 7;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (milli(bad[i]) != BAD) {
			fprintf(stderr, "  accepted invalid quantity \"%s\"\n", bad[i]);
			CHECK(!"invalid quantity accepted");
		}
		CHECK(errbuf[0] != '\0');
	}
	/* *milli untouched on error, NULL err is fine */
	CHECK(qty_parse("1KB", &v, NULL, 0) == -1 && v == 7);
	CHECK(qty_parse(NULL, &v, NULL, 0) == -1);
}

TEST(error_messages)
{
	char small[16];
	__int128 v;

	CHECK_STREQ(perr("1KB"),
		    "invalid quantity \"1KB\": unknown suffix \"KB\"; use one of m, k, "
		    "M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent like e6");
	CHECK_CONTAINS(perr(""), "empty");
	CHECK_CONTAINS(perr("1.5.3"), "invalid quantity \"1.5.3\"");
	CHECK_CONTAINS(perr("1.5.3"), "decimal point");
	CHECK_CONTAINS(perr("1 Gi"), "whitespace");
	CHECK_CONTAINS(perr("Mi"), "expected a number");
	CHECK_CONTAINS(perr("--1"), "expected a number");
	CHECK_CONTAINS(perr("1e"), "exponent");
	CHECK_CONTAINS(perr("0x10"), "unknown suffix \"x10\"");
	CHECK_CONTAINS(perr("1ki"), "did you mean \"Ki\"");
	CHECK_CONTAINS(perr("1K"), "did you mean \"k\"");
	CHECK_CONTAINS(perr("1\x01"), "\\x01");
	CHECK_CONTAINS(perr("1\"x"), "\\\"x");
	/* truncated, NUL-terminated */
	memset(small, 'Z', sizeof(small));
	CHECK(qty_parse("1KB", &v, small, sizeof(small)) == -1);
	CHECK(strlen(small) == sizeof(small) - 1);
}

TEST(huge_inputs)
{
	size_t n = 100000, i;
	char *s = malloc(n + 8);
	clock_t t0 = clock();

	CHECK(s != NULL);
	if (!s)
		return;
	/* 100000 digits: too large */
	memset(s, '9', n);
	s[n] = '\0';
	CHECK_CONTAINS(perr(s), "is too large");
	CHECK(strlen(errbuf) < 200); /* input is abbreviated */
	/* 0.000...0001 with 100000 fraction digits: rounds up to 1m */
	s[0] = '0';
	s[1] = '.';
	for (i = 2; i < n - 1; i++)
		s[i] = '0';
	s[n - 1] = '1';
	CHECK(milli(s) == 1);
	/* 1.000...000 with many zeros is exactly 1 */
	s[0] = '1';
	s[n - 1] = '0';
	CHECK(milli(s) == 1000);
	/* 0.999...9 (many nines) rounds up to exactly 1 */
	s[0] = '0';
	memset(s + 2, '9', n - 2);
	CHECK(milli(s) == 1000);
	/* with a binary suffix: 0.999...9Ki -> 1024 - tiny, rounds up to 1024000m */
	memcpy(s + n, "Ki", 3);
	CHECK(milli(s) == 1024000);
	/* many leading zeros */
	memset(s, '0', n);
	memcpy(s + n, "1Gi", 4);
	CHECK(milli(s) == (__int128)1073741824 * 1000);
	free(s);
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

TEST(formats)
{
	char buf[32];

	CHECK_STREQ(qty_format_milli(100, buf, sizeof(buf)), "100m");
	CHECK_STREQ(qty_format_milli(1000, buf, sizeof(buf)), "1");
	CHECK_STREQ(qty_format_milli(2500, buf, sizeof(buf)), "2500m");
	CHECK_STREQ(qty_format_milli(0, buf, sizeof(buf)), "0");
	CHECK_STREQ(qty_format_milli(-500, buf, sizeof(buf)), "-500m");
	CHECK_STREQ(qty_format_milli(-3000, buf, sizeof(buf)), "-3");
	CHECK_STREQ(qty_format_milli(INT64_MIN, buf, sizeof(buf)), "-9223372036854775808m");

	CHECK_STREQ(qty_format_bytes(1073741824, buf, sizeof(buf)), "1Gi");
	CHECK_STREQ(qty_format_bytes(200000000, buf, sizeof(buf)), "200M");
	CHECK_STREQ(qty_format_bytes(1000, buf, sizeof(buf)), "1k");
	CHECK_STREQ(qty_format_bytes(1500, buf, sizeof(buf)), "1500");
	CHECK_STREQ(qty_format_bytes(128974848, buf, sizeof(buf)), "123Mi");
	CHECK_STREQ(qty_format_bytes(1024000, buf, sizeof(buf)), "1000Ki");
	CHECK_STREQ(qty_format_bytes(1000000000000000000LL, buf, sizeof(buf)), "1E");
	CHECK_STREQ(qty_format_bytes(1000000000000LL, buf, sizeof(buf)), "1T");
	CHECK_STREQ(qty_format_bytes(1000000000LL, buf, sizeof(buf)), "1G");
	CHECK_STREQ(qty_format_bytes(1073741824000LL, buf, sizeof(buf)), "1000Gi");
	CHECK_STREQ(qty_format_bytes(0, buf, sizeof(buf)), "0");
	CHECK_STREQ(qty_format_bytes(1, buf, sizeof(buf)), "1");
	CHECK_STREQ(qty_format_bytes(-2048, buf, sizeof(buf)), "-2Ki");
	CHECK_STREQ(qty_format_bytes(INT64_MAX, buf, sizeof(buf)), "9223372036854775807");
	CHECK_STREQ(qty_format_bytes(INT64_MIN, buf, sizeof(buf)), "-8Ei");
	/* truncation keeps the buffer terminated */
	CHECK_STREQ(qty_format_bytes(1073741824, buf, 2), "1");
	CHECK(qty_format_bytes(1, NULL, 0) == NULL);
}

TEST(round_trip)
{
	static const char *const q[] = {"100m", "1",	"2500m", "1Gi", "200M",
					"1k",	"1500", "123Mi", "7Ei", "1E"};
	char buf[32];
	int64_t v;
	size_t i;

	for (i = 0; i < 3; i++) {
		CHECK(qty_to_milli(milli(q[i]), &v) == 0);
		CHECK_STREQ(qty_format_milli(v, buf, sizeof(buf)), q[i]);
	}
	for (; i < sizeof(q) / sizeof(q[0]); i++) {
		CHECK(qty_to_units(milli(q[i]), &v) == 0);
		CHECK_STREQ(qty_format_bytes(v, buf, sizeof(buf)), q[i]);
	}
}

int main(void)
{
	RUN(cpu_values);
	RUN(rounding_up);
	RUN(memory_values);
	RUN(too_large);
	RUN(invalid);
	RUN(error_messages);
	RUN(huge_inputs);
	RUN(formats);
	RUN(round_trip);
	return th_report();
}
