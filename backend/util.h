/* util.h: allocation that aborts on failure, cleanup attributes, a growable
 * string buffer and small string helpers shared by every backend module. */
#ifndef PODFS_UTIL_H
#define PODFS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* Allocation failure is not recoverable here: print and abort, so callers
 * never check for NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

static inline void util_freep(void *p)
{
	free(*(void **)p);
}
static inline void util_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define cleanup_free  __attribute__((cleanup(util_freep)))
#define cleanup_close __attribute__((cleanup(util_closep)))

/* Hand ownership out of a cleanup variable. */
#define steal_pointer(pp)                                                                          \
	({                                                                                         \
		__typeof__(*(pp)) steal_tmp_ = *(pp);                                              \
		*(pp) = NULL;                                                                      \
		steal_tmp_;                                                                        \
	})

/* Growable NUL-terminated buffer. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
void sb_init(struct strbuf *sb);
void sb_add(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Return the buffer (never NULL) and reset SB; the caller frees it. */
char *sb_steal(struct strbuf *sb);
void sb_free(struct strbuf *sb);

/* A growable array of owned strings, NULL-terminated for execv. */
struct strv {
	char **v;
	size_t n, cap;
};
void strv_push(struct strv *sv, const char *s);
void strv_free(struct strv *sv);

/* Levenshtein distance, capped: returns at most CAP+1. */
size_t util_edit_distance(const char *a, const char *b, size_t cap);
/* Of the NULL-terminated CANDIDATES, the one closest to WORD if it is close
 * enough to be a plausible typo (case-insensitive match or a small edit
 * distance relative to length), else NULL. */
const char *util_suggest(const char *word, const char *const *candidates);

/* Read a whole file, refusing files larger than MAX bytes (-EFBIG).
 * Returns 0 or -errno; *out is NUL-terminated, *len excludes the NUL. */
int util_read_file(const char *path, size_t max, char **out, size_t *len);



/* Helpers for files and directories (util.c). */
/* Write BUF to PATH durably: a temporary file, fsync, rename, fsync of the
 * directory. 0 or -errno. */
int util_write_atomic(const char *path, const void *buf, size_t len, mode_t mode);
/* The same without the fsyncs: for files that need not survive a crash
 * (they are rebuilt, or live on tmpfs). */
int util_write_file(const char *path, const void *buf, size_t len, mode_t mode);
/* mkdir -p */
int util_mkdir_p(const char *path, mode_t mode);
/* rm -rf that never follows symlinks and stays on one file system. */
int util_rm_rf(const char *path);
/* 32 lowercase hex characters from the kernel's random pool into BUF[33]. */
void util_random_hex(char *buf);

/* Small helpers more than one module needs (util.c). */
/* The monotonic clock in milliseconds: for deadlines and durations. */
int64_t util_now_ms(void);
/* Replace *ERR (if ERR is not NULL) with the message and return RC, so a
 * failure is one step: return util_fail(err, -EINVAL, "bad %s", x); */
int util_fail(char **err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* N bytes for people, in decimal units: "512 B", "1.5 kB", "16.8 MB",
 * "1.20 GB" (docker's and the kubelet's pull messages). */
void util_human_bytes(int64_t n, char *buf, size_t len);
/* Start ARGV (argv[0] a path) with ENVP (NULL: podfs's environment) and a
 * fresh signal state (podfs's threads block or ignore signals; a child
 * must not inherit that). FDS[0], FDS[1], FDS[2] become its stdin, stdout
 * and stderr (-1: /dev/null); KEEP_FD (if >= 0) stays open in it, every
 * other close-on-exec fd is closed. 0 with *PID, or -errno. */
int util_spawn(char *const *argv, char *const *envp, const int fds[3], int keep_fd, pid_t *pid);
/* Run ARGV (with ENVP as util_spawn) to its end: IN (NULL: /dev/null) on
 * its stdin, the first MAX bytes of its stdout in *OUT and of its stderr
 * in *ERR (OUT NULL: dropped; ERR NULL: stderr goes with stdout), killed
 * with SIGKILL at TIMEOUT_MS (0: never). 0 with *STATUS (its exit code,
 * 128+signal if killed), -ETIMEDOUT (killed at the timeout; *OUT and *ERR
 * hold what came before) or -errno. */
int util_run(char *const *argv, char *const *envp, const char *in, int timeout_ms, size_t max,
	     int *status, char **out, char **err);

/* Open PATH below the directory ROOTFD as openat2's RESOLVE_IN_ROOT or
 * RESOLVE_BENEATH would, by hand, for kernels (and valgrind) without
 * openat2. Every component is opened O_NOFOLLOW from its parent's fd, so a
 * symlink swapped in meanwhile fails the open rather than escapes; at most
 * 40 symlinks (-ELOOP). The last component is opened with FLAGS |
 * O_NOFOLLOW. Returns an fd or -errno.
 *   0: RESOLVE_IN_ROOT: ".." stops at the root, an absolute symlink starts
 *      again from it; an empty PATH (the root itself) is -EISDIR.
 *   UTIL_WALK_BENEATH: RESOLVE_BENEATH: an absolute PATH or symlink, or a
 *      ".." above the root, is -EXDEV; an empty PATH opens the root.
 *   UTIL_WALK_MKDIR: missing components are made, as directories (0755). */
#define UTIL_WALK_BENEATH 1u
#define UTIL_WALK_MKDIR	  2u
int util_walk_at(int rootfd, const char *path, unsigned how, int flags);

#endif
