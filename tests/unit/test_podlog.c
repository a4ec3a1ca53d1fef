/* test_podlog.c: unit tests for backend/podlog.c: CRI log lines (as
 * conmon writes them) to plain text, partial (P) lines joined, lines cut
 * across reads, garbage skipped, and the tail used for termination
 * messages. */
#include "backend/podlog.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];

static void append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0) {
			/* the checks below notice */
		}
		close(fd);
	}
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t n = 0;
	if (util_read_file(path, 1 << 20, &buf, &n) < 0)
		return xstrdup("(unreadable)");
	return buf;
}

static void fresh(struct plainlog *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	l->wd = -1;
	l->cri_path = xasprintf("%s/%s.log", dir, name);
	l->plain_path = xasprintf("%s/%s.plain", dir, name);
	unlink(l->cri_path);
	unlink(l->plain_path);
}

#define TS "2026-11-28T18:00:00.000000000Z"

TEST(full_and_partial_lines)
{
	struct plainlog l;
	fresh(&l, "a");
	append(l.cri_path, TS " stdout F hello\n" TS " stderr P par\n" TS " stdout P ti\n");
	CHECK(podlog_pump(&l));
	char *got = slurp(l.plain_path);
	/* P lines carry no newline: the text goes on */
	CHECK_STREQ(got, "hello\nparti");
	free(got);
	append(l.cri_path, TS " stdout F al\n" TS " stdout F \n");
	CHECK(podlog_pump(&l));
	got = slurp(l.plain_path);
	CHECK_STREQ(got, "hello\npartial\n\n");
	free(got);
	CHECK(!podlog_pump(&l)); /* nothing new */
	CHECK(l.plain_size == strlen("hello\npartial\n\n"));
	podlog_reset(&l);
	CHECK(l.cri_path == NULL && l.wd == -1);
}

TEST(a_line_cut_between_reads)
{
	struct plainlog l;
	fresh(&l, "b");
	append(l.cri_path, TS " stdout F first\n" TS " std");
	CHECK(podlog_pump(&l));
	append(l.cri_path, "out F second\n");
	CHECK(podlog_pump(&l));
	char *got = slurp(l.plain_path);
	CHECK_STREQ(got, "first\nsecond\n");
	free(got);
	podlog_reset(&l);
}

TEST(garbage_is_skipped)
{
	struct plainlog l;
	fresh(&l, "c");
	append(l.cri_path,
	       "no fields\n" TS " stdout X what\n" TS " stdout\n" TS " stdout F kept\n");
	podlog_pump(&l);
	char *got = slurp(l.plain_path);
	CHECK_STREQ(got, "kept\n");
	free(got);
	podlog_reset(&l);
}

TEST(tail)
{
	struct plainlog l;
	fresh(&l, "d");
	struct strbuf sb;
	sb_init(&sb);
	for (int i = 1; i <= 100; i++)
		sb_printf(&sb, TS " stdout F line %d\n", i);
	append(l.cri_path, sb.buf);
	sb_free(&sb);
	podlog_pump(&l);
	char *t = podlog_tail(&l, 2, 4096);
	CHECK_STREQ(t, "line 99\nline 100\n");
	free(t);
	t = podlog_tail(&l, 80, 12); /* the byte cap keeps the end */
	CHECK_STREQ(t, "99\nline 100\n");
	free(t);
	podlog_reset(&l);
	struct plainlog e;
	fresh(&e, "e");
	CHECK(podlog_tail(&e, 80, 2048) == NULL);
	podlog_reset(&e);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/podfs-podlog.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(full_and_partial_lines);
	RUN(a_line_cut_between_reads);
	RUN(garbage_is_skipped);
	RUN(tail);
	const char *names[] = {"a", "b", "c", "d", "e"};
	for (size_t i = 0; i < 5; i++) {
		char *p = xasprintf("%s/%s.log", dir, names[i]);
		unlink(p);
		free(p);
		p = xasprintf("%s/%s.plain", dir, names[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	return th_report();
}
