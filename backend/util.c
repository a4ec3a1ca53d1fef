/* util.c: see util.h. */
#include "backend/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static void oom(size_t n)
{
	fprintf(stderr, "podfs: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		oom(strlen(fmt));
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

static void sb_grow(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void sb_add(struct strbuf *sb, const char *s, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_putc(struct strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	sb_puts(sb, s);
	free(s);
}

char *sb_steal(struct strbuf *sb)
{
	char *s = sb->buf ? sb->buf : xstrdup("");
	sb_init(sb);
	return s;
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

void strv_push(struct strv *sv, const char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

size_t util_edit_distance(const char *a, const char *b, size_t cap)
{
	/* Optimal string alignment distance, case-insensitive: a swap of two
	 * neighbours ("valueForm" for "valueFrom") costs one edit. */
	size_t la = strlen(a), lb = strlen(b);
	if (la > 128 || lb > 128)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	size_t rows[3][129];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		int ca = tolower((unsigned char)a[i - 1]);
		for (size_t j = 1; j <= lb; j++) {
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ca == cb ? 0 : 1);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *util_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t wl = strlen(word);
	/* Allow about one edit per three characters, at least 1, at most 4. */
	size_t cap = wl / 3;
	if (cap < 1)
		cap = 1;
	if (cap > 4)
		cap = 4;
	for (size_t i = 0; candidates[i]; i++) {
		size_t d = util_edit_distance(word, candidates[i], cap);
		if (d <= cap && d < best_d) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}

int util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	struct strbuf sb;
	sb_init(&sb);
	char chunk[65536];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			sb_free(&sb);
			return -e;
		}
		if (r == 0)
			break;
		if (sb.len + (size_t)r > max) {
			sb_free(&sb);
			return -EFBIG;
		}
		sb_add(&sb, chunk, (size_t)r);
	}
	*len = sb.len;
	*out = sb_steal(&sb);
	return 0;
}

int util_mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			return -e;
		}
		*s = '/';
	}
	int r = (mkdir(p, mode) < 0 && errno != EEXIST) ? -errno : 0;
	free(p);
	return r;
}

static int write_atomic(const char *path, const void *buf, size_t len, mode_t mode, bool durable);

int util_write_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	return write_atomic(path, buf, len, mode, true);
}

int util_write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	return write_atomic(path, buf, len, mode, false);
}

static int write_atomic(const char *path, const void *buf, size_t len, mode_t mode, bool durable)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int r = 0;
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	const char *p = buf;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	if (!r && durable && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		goto out;
	}
	if (!durable)
		goto out;
	/* make the rename itself durable */
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(dir);
out:
	free(tmp);
	return r;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV; /* a mount point: never descend */
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int rr = rm_rf_at(fd, de->d_name, dev);
		if (rr < 0 && !r)
			r = rr;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

int util_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

void util_random_hex(char *buf)
{
	unsigned char raw[16];
	size_t got = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, raw, sizeof(raw));
		got = r > 0 ? (size_t)r : 0;
		close(fd);
	}
	for (size_t i = got; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(rand() ^ (int)i);
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(buf + 2 * i, "%02x", raw[i]);
}

int64_t util_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int util_fail(char **err, int rc, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		free(*err);
		*err = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return rc;
}

void util_human_bytes(int64_t n, char *buf, size_t len)
{
	if (n < 1000)
		snprintf(buf, len, "%lld B", (long long)n);
	else if (n < 1000 * 1000)
		snprintf(buf, len, "%.1f kB", (double)n / 1e3);
	else if (n < 1000LL * 1000 * 1000)
		snprintf(buf, len, "%.1f MB", (double)n / 1e6);
	else
		snprintf(buf, len, "%.2f GB", (double)n / 1e9);
}

extern char **environ;

int util_spawn(char *const *argv, char *const *envp, const int fds[3], int keep_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		else
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null",
							 i ? O_WRONLY : O_RDONLY, 0);
	}
	if (keep_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, keep_fd, keep_fd); /* clears CLOEXEC */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	int r = posix_spawn(pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

/* ROOTFD/DONE[0]/.../DONE[N-1], each a directory opened without following
 * a symlink: an O_PATH fd or -errno. */
static int open_dirs(int rootfd, char *const *done, size_t n)
{
	int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; cur >= 0 && i < n; i++) {
		int next = openat(cur, done[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		close(cur);
		cur = next;
		errno = saved;
	}
	return cur < 0 ? -errno : cur;
}

int util_walk_at(int rootfd, const char *path, unsigned how, int flags)
{
	const bool beneath = how & UTIL_WALK_BENEATH, create = how & UTIL_WALK_MKDIR;
	if (beneath && path[0] == '/')
		return -EXDEV;
	struct strv done = {0}; /* the components resolved so far, each a directory */
	char *todo = xstrdup(path);
	int links = 0, r;
	for (;;) {
		char *p = todo;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *e = strchrnul(p, '/');
		cleanup_free char *comp = xstrndup(p, (size_t)(e - p));
		char *rest = xstrdup(e);
		free(todo);
		todo = rest;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (done.n == 0) {
				if (!beneath)
					continue;
				r = -EXDEV;
				goto out;
			}
			free(done.v[--done.n]);
			done.v[done.n] = NULL;
			continue;
		}
		cleanup_close int dfd = open_dirs(rootfd, done.v, done.n);
		if (dfd < 0) {
			r = dfd;
			goto out;
		}
		struct stat st;
		if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT || !create) {
				r = -errno;
				goto out;
			}
			if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST) {
				r = -errno;
				goto out;
			}
			strv_push(&done, comp);
			continue;
		}
		if (!S_ISLNK(st.st_mode)) {
			strv_push(&done, comp);
			continue;
		}
		char target[4096];
		ssize_t n = readlinkat(dfd, comp, target, sizeof(target) - 1);
		if (n < 0 || ++links > 40) {
			r = n < 0 ? -errno : -ELOOP;
			goto out;
		}
		target[n] = '\0';
		if (target[0] == '/') {
			if (beneath) {
				r = -EXDEV;
				goto out;
			}
			strv_free(&done);
		}
		char *next = xasprintf("%s%s", target, todo);
		free(todo);
		todo = next;
	}
	if (done.n == 0) {
		if (beneath) {
			r = openat(rootfd, ".", flags);
			r = r < 0 ? -errno : r;
		} else {
			r = -EISDIR;
		}
		goto out;
	}
	int dfd = open_dirs(rootfd, done.v, done.n - 1);
	if (dfd < 0) {
		r = dfd;
		goto out;
	}
	r = openat(dfd, done.v[done.n - 1], flags | O_NOFOLLOW);
	if (r < 0)
		r = -errno;
	close(dfd);
out:
	free(todo);
	strv_free(&done);
	return r;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int util_run(char *const *argv, char *const *envp, const char *in, int timeout_ms, size_t max,
	     int *status, char **out, char **err)
{
	if (out)
		*out = NULL;
	if (err)
		*err = NULL;
	/* stdin is a socket so that a child that exits without reading it
	 * costs an EPIPE, not a SIGPIPE to podfs (send with MSG_NOSIGNAL) */
	int si[2] = {-1, -1}, so[2] = {-1, -1}, se[2] = {-1, -1};
	if ((in && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, si) < 0) ||
	    pipe2(so, O_CLOEXEC) < 0 || (err && pipe2(se, O_CLOEXEC) < 0)) {
		int r = -errno;
		close_fds(si, 2);
		close_fds(so, 2);
		close_fds(se, 2);
		return r;
	}
	pid_t pid;
	int r = util_spawn(argv, envp, (int[3]){si[1], so[1], err ? se[1] : so[1]}, -1, &pid);
	int fds[3] = {si[0], so[0], se[0]};
	int theirs[3] = {si[1], so[1], se[1]};
	close_fds(theirs, 3);
	if (r < 0) {
		close_fds(fds, 3);
		return r;
	}
	struct strbuf sb[2];
	sb_init(&sb[0]);
	sb_init(&sb[1]);
	size_t len = in ? strlen(in) : 0, off = 0;
	int64_t deadline = timeout_ms > 0 ? util_now_ms() + timeout_ms : 0;
	bool timed_out = false;
	if (fds[0] >= 0 && len == 0) {
		shutdown(fds[0], SHUT_WR);
		close_fds(fds, 1);
	}
	while (fds[1] >= 0 || fds[2] >= 0) {
		int wait = -1;
		if (deadline) {
			int64_t left = deadline - util_now_ms();
			if (left <= 0) {
				timed_out = true;
				break;
			}
			wait = (int)left;
		}
		struct pollfd pf[3] = {{.fd = fds[0], .events = POLLOUT},
				       {.fd = fds[1], .events = POLLIN},
				       {.fd = fds[2], .events = POLLIN}};
		int k = poll(pf, 3, wait);
		if (k < 0 && errno != EINTR)
			break;
		if (k <= 0)
			continue;
		if (fds[0] >= 0 && pf[0].revents) {
			ssize_t w = send(fds[0], in + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
				shutdown(fds[0], SHUT_WR);
				close_fds(fds, 1);
			}
		}
		for (int i = 1; i < 3; i++) {
			if (fds[i] < 0 || !pf[i].revents)
				continue;
			char buf[8192];
			ssize_t got = read(fds[i], buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close_fds(&fds[i], 1);
				continue;
			}
			struct strbuf *b = &sb[i - 1];
			size_t keep = b->len < max ? max - b->len : 0;
			sb_add(b, buf, (size_t)got < keep ? (size_t)got : keep);
		}
	}
	close_fds(fds, 3);
	if (timed_out)
		kill(pid, SIGKILL);
	int st = 0;
	pid_t w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (status)
		*status = w < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (out)
		*out = sb_steal(&sb[0]);
	if (err)
		*err = sb_steal(&sb[1]);
	sb_free(&sb[0]);
	sb_free(&sb[1]);
	return timed_out ? -ETIMEDOUT : 0;
}
