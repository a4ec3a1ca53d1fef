/* podlog.c: see podlog.h. */
#include "backend/podlog.h"
#include "backend/util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

void podlog_reset(struct plainlog *l)
{
	free(l->cri_path);
	free(l->plain_path);
	free(l->partial);
	memset(l, 0, sizeof(*l));
	l->wd = -1;
}

/* Convert what conmon appended to the CRI log since last time: drop the
 * timestamp, stream and P/F tag; join partial (P) lines. Returns true if
 * the plain log grew. */
bool podlog_pump(struct plainlog *l)
{
	if (!l->cri_path)
		return false;
	int fd = open(l->cri_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct strbuf out;
	sb_init(&out);
	char buf[65536];
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), l->cri_off);
		if (n <= 0)
			break;
		l->cri_off += n;
		size_t start = 0;
		for (size_t i = 0; i < (size_t)n; i++) {
			if (buf[i] != '\n')
				continue;
			/* a full CRI line: partial head + buf[start..i) */
			size_t len = l->partial_len + (i - start);
			char *line = xmalloc(len + 1);
			memcpy(line, l->partial ? l->partial : "", l->partial_len);
			memcpy(line + l->partial_len, buf + start, i - start);
			line[len] = '\0';
			free(l->partial);
			l->partial = NULL;
			l->partial_len = 0;
			start = i + 1;
			/* TIMESTAMP STREAM TAG CONTENT */
			char *s1 = strchr(line, ' ');
			char *s2 = s1 ? strchr(s1 + 1, ' ') : NULL;
			char *tag = s2 ? s2 + 1 : NULL;
			if (tag && (tag[0] == 'P' || tag[0] == 'F') && (tag[1] == ' ' || !tag[1])) {
				const char *content = tag[1] ? tag + 2 : "";
				sb_puts(&out, content);
				if (tag[0] == 'F')
					sb_putc(&out, '\n');
			}
			free(line);
		}
		if (start < (size_t)n) {
			l->partial = xrealloc(l->partial, l->partial_len + (n - start));
			memcpy(l->partial + l->partial_len, buf + start, n - start);
			l->partial_len += n - start;
		}
	}
	close(fd);
	bool grew = false;
	if (out.len) {
		int pfd = open(l->plain_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (pfd >= 0) {
			size_t done = 0;
			while (done < out.len) {
				ssize_t w = write(pfd, out.buf + done, out.len - done);
				if (w <= 0)
					break;
				done += (size_t)w;
			}
			close(pfd);
			l->plain_size += done;
			clock_gettime(CLOCK_REALTIME, &l->mtime);
			grew = true;
		}
	}
	sb_free(&out);
	return grew;
}

char *podlog_dir(struct backend *b, struct pod *p, struct container *c)
{
	return xasprintf("%s/pods/%s/logs/%s", b->state_dir, p->name, c->name);
}

/* Point LOG at instance ATTEMPT's files, converting anything already there
 * (after a podfs restart the plain file is rebuilt from the CRI log). */
void podlog_open(struct backend *b, struct pod *p, struct container *c, struct plainlog *l,
		 int attempt)
{
	podlog_reset(l);
	char *dir = podlog_dir(b, p, c);
	util_mkdir_p(dir, 0755);
	l->cri_path = xasprintf("%s/%d.log", dir, attempt);
	l->plain_path = xasprintf("%s/%d.plain", dir, attempt);
	free(dir);
	int fd = open(l->plain_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	clock_gettime(CLOCK_REALTIME, &l->mtime);
	podlog_pump(l);
}

void podlog_watch(struct backend *b, struct plainlog *l)
{
	if (l->wd >= 0 || !l->cri_path)
		return;
	/* conmon creates the file; create it first so the watch can exist */
	int fd = open(l->cri_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd >= 0)
		close(fd);
	l->wd = inotify_add_watch(b->ino_fd, l->cri_path, IN_MODIFY);
}

void podlog_unwatch(struct backend *b, struct plainlog *l)
{
	if (l->wd >= 0)
		inotify_rm_watch(b->ino_fd, l->wd);
	l->wd = -1;
}

/* The last LINES lines of a plain log, at most MAX bytes (the tail wins). */
char *podlog_tail(const struct plainlog *l, int lines, size_t max)
{
	if (!l->plain_path || !l->plain_size)
		return NULL;
	int fd = open(l->plain_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t want = l->plain_size < 65536 ? l->plain_size : 65536;
	char *buf = xmalloc(want + 1);
	ssize_t n = pread(fd, buf, want, (off_t)(l->plain_size - want));
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	size_t len = (size_t)n;
	size_t start = len;
	int seen = 0;
	if (start && buf[start - 1] == '\n')
		start--;
	while (start > 0 && seen < lines) {
		start--;
		if (buf[start] == '\n' && ++seen == lines) {
			start++;
			break;
		}
	}
	if (len - start > max)
		start = len - max;
	char *out = xstrdup(buf + start);
	free(buf);
	return out;
}
