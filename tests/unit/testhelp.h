/* testhelp.h: a tiny unit-test runner (in the spirit of redis' testhelp.h).
 *
 * TEST(name) { CHECK(cond); CHECK_STREQ(a, b); }   then in main():
 *   RUN(name); ... return th_report();
 * Prints "ok N - name" / "not ok N - name" per test and a final
 * "N passed, N failed" line; exit status is 1 if anything failed.
 * th_parse_pod(yaml) parses a manifest for the tests that need a pod. */
#ifndef PODFS_TESTHELP_H
#define PODFS_TESTHELP_H

#include "backend/diag.h"
#include "backend/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int th_passed, th_failed, th_n, th_cur_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                                \
			th_cur_failed = 1;                                       \
		}                                                                \
	} while (0)

#define CHECK_STREQ(a, b)                                                            \
	do {                                                                         \
		const char *th_a_ = (a), *th_b_ = (b);                               \
		if (!th_a_ || !th_b_ || strcmp(th_a_, th_b_) != 0) {                 \
			fprintf(stderr, "  %s:%d: %s == %s: got \"%s\", want \"%s\"\n", \
				__FILE__, __LINE__, #a, #b, th_a_ ? th_a_ : "(null)",   \
				th_b_ ? th_b_ : "(null)");                           \
			th_cur_failed = 1;                                           \
		}                                                                    \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                  \
	do {                                                                         \
		const char *th_h_ = (hay), *th_n_ = (needle);                        \
		if (!th_h_ || !strstr(th_h_, th_n_)) {                               \
			fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n",    \
				__FILE__, __LINE__, th_h_ ? th_h_ : "(null)", th_n_);   \
			th_cur_failed = 1;                                           \
		}                                                                    \
	} while (0)

#define RUN(name) th_run(#name, name)

static inline void th_run(const char *name, void (*fn)(void))
{
	th_cur_failed = 0;
	fn();
	th_n++;
	if (th_cur_failed) {
		th_failed++;
		printf("not ok %d - %s\n", th_n, name);
	} else {
		th_passed++;
		printf("ok %d - %s\n", th_n, name);
	}
	fflush(stdout);
}

/* The pod of manifest YAML, or NULL (the errors printed, the test failed). */
static inline struct spec_pod *th_parse_pod(const char *yaml)
{
	struct spec_pod *pod = NULL;
	struct diag_list errs = {0};
	if (spec_parse(yaml, strlen(yaml), &pod, &errs) < 0) {
		char *s = diag_format_all(&errs, "test.yaml");
		fprintf(stderr, "  spec_parse failed:\n%s", s);
		free(s);
		th_cur_failed = 1;
	}
	diag_list_free(&errs);
	return pod;
}

static inline int th_report(void)
{
	printf("%d passed, %d failed\n", th_passed, th_failed);
	return th_failed ? 1 : 0;
}

#endif
