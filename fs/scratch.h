/* scratch.h: editors' scratch files. vim's swap file and backup, its
 * "4913" probe, sed -i's temporary, anything a tool makes next to
 * spec.yaml to save it: plain files kept in memory per pod directory, never
 * persisted, never a pod. Bounded (files per directory, bytes per file,
 * bytes and files in all): beyond that, -ENOSPC. Thread-safe; files are
 * reference counted so an open file outlives its unlink, as on any file
 * system. Errors are -errno. */
#ifndef PODFS_SCRATCH_H
#define PODFS_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct scratch;
struct scratch_file;

struct scratch_limits {
	size_t files_per_dir;
	size_t file_bytes;
	size_t total_files;
	size_t total_bytes;
};

struct scratch *scratch_new(const struct scratch_limits *lim);
/* Frees every file; no reference may be held any more. NULL is fine. */
void scratch_free(struct scratch *s);

/* The file NAME in directory DIR, with a reference the caller drops with
 * scratch_put; NULL if none. */
struct scratch_file *scratch_get(struct scratch *s, const char *dir, const char *name);
/* The file with ID, also while unlinked but still open; NULL if gone. */
struct scratch_file *scratch_get_id(struct scratch *s, uint64_t id);
void scratch_put(struct scratch *s, struct scratch_file *f);

/* Create an empty file (O_EXCL semantics): -EEXIST, -ENOSPC. *OUT holds
 * a reference. */
int scratch_create(struct scratch *s, const char *dir, const char *name, mode_t mode, uid_t uid,
		   gid_t gid, struct scratch_file **out);
/* Create or replace NAME with a copy of BUF. -ENOSPC. */
int scratch_store(struct scratch *s, const char *dir, const char *name, const char *buf, size_t len,
		  mode_t mode, uid_t uid, gid_t gid);

/* Bytes read (0 at or past the end). */
size_t scratch_read(struct scratch *s, struct scratch_file *f, char *buf, size_t size, off_t off);
/* Bytes written or -ENOSPC (the file would pass its limit or the total). */
ssize_t scratch_write(struct scratch *s, struct scratch_file *f, const char *buf, size_t size,
		      off_t off);
/* Append at the current end, atomically: bytes written or -ENOSPC. */
ssize_t scratch_append(struct scratch *s, struct scratch_file *f, const char *buf, size_t size);
int scratch_truncate(struct scratch *s, struct scratch_file *f, off_t size);
/* A copy of the whole content (NUL-terminated; *LEN without the NUL). */
char *scratch_contents(struct scratch *s, struct scratch_file *f, size_t *len);

/* Attributes. setattr takes the FUSE_SET_ATTR_* style mask of the fields
 * of ST to change (mode, uid, gid, atime, mtime); TO_NOW_* set them now. */
enum {
	SCRATCH_SET_MODE = 1,
	SCRATCH_SET_UID = 2,
	SCRATCH_SET_GID = 4,
	SCRATCH_SET_ATIME = 8,
	SCRATCH_SET_MTIME = 16,
	SCRATCH_SET_ATIME_NOW = 32,
	SCRATCH_SET_MTIME_NOW = 64,
};
void scratch_stat(struct scratch *s, struct scratch_file *f, struct stat *st);
void scratch_setattr(struct scratch *s, struct scratch_file *f, const struct stat *st, int what);
uint64_t scratch_id(const struct scratch_file *f);

/* Remove NAME from DIR (open references keep the content). -ENOENT. */
int scratch_unlink(struct scratch *s, const char *dir, const char *name);
/* Rename within DIR. NOREPLACE: -EEXIST if TO exists; EXCHANGE: swap
 * (-ENOENT unless both exist); otherwise a TO is replaced. -ENOENT. */
int scratch_rename(struct scratch *s, const char *dir, const char *from, const char *to,
		   bool noreplace, bool exchange);
/* Forget every file of DIR (its pod is gone). */
void scratch_drop_dir(struct scratch *s, const char *dir);

/* Names in DIR, sorted, NULL-terminated (never NULL); free with
 * scratch_free_names. *IDS (if not NULL) gets their ids, same order. */
char **scratch_names(struct scratch *s, const char *dir, uint64_t **ids);
void scratch_free_names(char **names);
/* When a name last appeared in or left DIR; false if it never changed. */
bool scratch_dir_mtime(struct scratch *s, const char *dir, struct timespec *ts);
/* Bytes and files in use, for statfs. */
void scratch_usage(struct scratch *s, size_t *files, size_t *bytes);

#endif
