/* unpack.c: layer unpacking: libarchive reads the (decompressed) tar
 * stream, each entry is created below the layer root by fd, never through a
 * symlink, with its owner, mode, xattrs and times; whiteouts and opaque
 * dirs become overlayfs's; the uncompressed stream is hashed for the
 * diff_id and its size and entry count are capped. */
#include "backend/unpack.h"
#include "backend/imagefile.h"
#include "backend/sha256.h"
#include "backend/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

#define MAX_ENTRY_PATH	4096
#define MAX_ENTRY_DEPTH 256 /* bounds imagefile_rm_rf_at's recursion and fds */
#define IOBUF		(128 * 1024)
#define OPAQUE_XATTR	"trusted.overlay.opaque"

/* fail(err, rc, fmt, ...): util_fail, by the short name this file uses */
#define fail(...) util_fail(__VA_ARGS__)

enum unpack_comp unpack_compression(const char *mt)
{
	static const struct {
		const char *mt;
		enum unpack_comp c;
	} tab[] = {
	    {"application/vnd.oci.image.layer.v1.tar", UNPACK_COMP_NONE},
	    {"application/vnd.oci.image.layer.v1.tar+gzip", UNPACK_COMP_GZIP},
	    {"application/vnd.oci.image.layer.v1.tar+zstd", UNPACK_COMP_ZSTD},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar", UNPACK_COMP_NONE},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", UNPACK_COMP_GZIP},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", UNPACK_COMP_ZSTD},
	    {"application/vnd.docker.image.rootfs.diff.tar", UNPACK_COMP_NONE},
	    {"application/vnd.docker.image.rootfs.diff.tar.gzip", UNPACK_COMP_GZIP},
	    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", UNPACK_COMP_GZIP},
	};
	for (size_t i = 0; mt && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(mt, tab[i].mt) == 0)
			return tab[i].c;
	return UNPACK_COMP_BAD;
}

int unpack_clean_path(const char *raw, char **out)
{
	if (strlen(raw) > MAX_ENTRY_PATH)
		return -ENAMETOOLONG;
	struct strbuf sb;
	size_t depth = 0;
	sb_init(&sb);
	for (const char *p = raw; *p;) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			sb_free(&sb);
			return -EINVAL;
		}
		if (++depth > MAX_ENTRY_DEPTH) {
			sb_free(&sb);
			return -ENAMETOOLONG;
		}
		if (sb.len)
			sb_putc(&sb, '/');
		sb_add(&sb, s, n);
	}
	*out = sb_steal(&sb);
	return 0;
}

/* Open directory PATH ("" is the root) below ROOTFD without following any
 * symlink, creating missing components (0755, root) if CREATE. Returns an
 * owned fd, or -errno with a message about ENTRY. */
static int open_dir_below(int rootfd, const char *path, bool create, const char *entry, char **err)
{
	int cur = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return fail(err, -errno, "open layer root: %s", strerror(errno));
	cleanup_free char *copy = xstrdup(path);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int fd = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, c, 0755) == 0 || errno == EEXIST)
				fd =
				    openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			int e = errno, rc;
			struct stat s;
			cleanup_free char *prefix = xstrndup(path, (size_t)(c - copy) + strlen(c));
			bool is_link =
			    fstatat(cur, c, &s, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(s.st_mode);
			if (is_link)
				rc = fail(err, -ELOOP,
					  "entry \"%s\": parent \"%s\" is a symlink; refusing to "
					  "write through it",
					  entry, prefix);
			else if (e == ENOTDIR || e == ELOOP)
				rc = fail(err, -ENOTDIR,
					  "entry \"%s\": parent \"%s\" is not a directory", entry,
					  prefix);
			else if (e == ENOENT)
				rc = fail(err, -ENOENT,
					  "entry \"%s\": \"%s\" does not exist in the layer", entry,
					  prefix);
			else
				rc = fail(err, -e, "entry \"%s\": open \"%s\": %s", entry, prefix,
					  strerror(e));
			close(cur);
			return rc;
		}
		close(cur);
		cur = fd;
	}
	return cur;
}

struct dirtime {
	char *path;
	struct timespec ts[2];
};

struct unpack {
	struct archive *outer; /* decompressor, format "raw" */
	int rootfd;
	char *buf;
	struct sha256 sha; /* of the uncompressed stream: the diff_id */
	uint64_t bytes, logical, entries;
	uint64_t max_bytes, max_entries;
	bool too_big, read_failed;
	char *ioerr;
	char *cache_path; /* the parent dir of the previous entry */
	int cache_fd;
	struct dirtime *dirs;
	size_t ndirs, capdirs;
	char **err;
};

static void cache_drop(struct unpack *u)
{
	if (u->cache_fd >= 0)
		close(u->cache_fd);
	u->cache_fd = -1;
	free(u->cache_path);
	u->cache_path = NULL;
}

/* The parent dir PARENT of an entry, created if needed; a borrowed fd. Only
 * removal of an existing path can change what a cached path resolves to,
 * so that drops the cache. */
static int unpack_parent(struct unpack *u, const char *parent, const char *entry)
{
	if (u->cache_fd >= 0 && strcmp(u->cache_path, parent) == 0)
		return u->cache_fd;
	cache_drop(u);
	int fd = open_dir_below(u->rootfd, parent, true, entry, u->err);
	if (fd < 0)
		return fd;
	u->cache_fd = fd;
	u->cache_path = xstrdup(parent);
	return fd;
}

static la_ssize_t inner_read(struct archive *a, void *arg, const void **out)
{
	struct unpack *u = arg;
	la_ssize_t n = archive_read_data(u->outer, u->buf, IOBUF);
	if (n < 0) {
		free(u->ioerr);
		u->ioerr = xstrdup(archive_error_string(u->outer) ? archive_error_string(u->outer)
								  : "decompression failed");
		archive_set_error(a, EIO, "%s", u->ioerr);
		return -1;
	}
	sha256_update(&u->sha, u->buf, (size_t)n);
	u->bytes += (uint64_t)n;
	if (u->bytes > u->max_bytes) {
		u->too_big = true;
		archive_set_error(a, EFBIG, "layer too large");
		return -1;
	}
	*out = u->buf;
	return n;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime_is_set(e) ? archive_entry_mtime(e) : 0;
	ts[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
	if (ts[1].tv_nsec < 0 || ts[1].tv_nsec > 999999999)
		ts[1].tv_nsec = 0;
	ts[0] = ts[1];
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
		if (ts[0].tv_nsec < 0 || ts[0].tv_nsec > 999999999)
			ts[0].tv_nsec = 0;
	}
}

static int entry_ids(struct unpack *u, struct archive_entry *e, const char *name, uid_t *uid,
		     gid_t *gid)
{
	la_int64_t a = archive_entry_uid(e), b = archive_entry_gid(e);
	if (a < 0 || a >= (la_int64_t)UINT32_MAX || b < 0 || b >= (la_int64_t)UINT32_MAX)
		return fail(u->err, -EINVAL, "entry \"%s\": uid or gid out of range", name);
	*uid = (uid_t)a;
	*gid = (gid_t)b;
	return 0;
}

/* Extended attributes worth keeping: user.* and file capabilities. Never
 * trusted.* (overlayfs reads trusted.overlay.* from lower dirs) or
 * security.selinux. */
static void apply_xattrs(int fd, struct archive_entry *e)
{
	const char *name;
	const void *val;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0)
			(void)fsetxattr(fd, name, val, size, 0);
	}
}

/* Owner, mode, xattrs and times of an open file or dir. chown before
 * chmod (chown clears set-id bits) and before xattrs (it clears caps). */
static int meta_fd(struct unpack *u, int fd, struct archive_entry *e, const char *name)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int rc = entry_ids(u, e, name, &uid, &gid);
	if (rc < 0)
		return rc;
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return fail(u->err, -errno, "entry \"%s\": set owner or mode: %s", name,
			    strerror(errno));
	apply_xattrs(fd, e);
	struct timespec ts[2];
	entry_times(e, ts);
	if (futimens(fd, ts) < 0)
		return fail(u->err, -errno, "entry \"%s\": set times: %s", name, strerror(errno));
	return 0;
}

/* The same for a node we just created at DFD/BASE and cannot open
 * (symlinks, devices, fifos). */
static int meta_at(struct unpack *u, int dfd, const char *base, struct archive_entry *e,
		   const char *name, bool is_link)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int rc = entry_ids(u, e, name, &uid, &gid);
	if (rc < 0)
		return rc;
	if (fchownat(dfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(u->err, -errno, "entry \"%s\": set owner: %s", name, strerror(errno));
	if (!is_link && fchmodat(dfd, base, archive_entry_perm(e) & 07777, 0) < 0)
		return fail(u->err, -errno, "entry \"%s\": set mode: %s", name, strerror(errno));
	struct timespec ts[2];
	entry_times(e, ts);
	if (utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(u->err, -errno, "entry \"%s\": set times: %s", name, strerror(errno));
	return 0;
}

static void dirtime_add(struct unpack *u, const char *path, struct archive_entry *e)
{
	if (u->ndirs == u->capdirs) {
		u->capdirs = u->capdirs ? u->capdirs * 2 : 64;
		u->dirs = xrealloc(u->dirs, u->capdirs * sizeof(*u->dirs));
	}
	u->dirs[u->ndirs].path = xstrdup(path);
	entry_times(e, u->dirs[u->ndirs].ts);
	u->ndirs++;
}

/* Directory mtimes last: creating children changed them. A dir replaced
 * since (by a symlink, say) is skipped: nothing is followed. */
static void dirtimes_apply(struct unpack *u)
{
	for (size_t i = 0; i < u->ndirs; i++) {
		int fd = open_dir_below(u->rootfd, u->dirs[i].path, false, u->dirs[i].path, NULL);
		if (fd < 0)
			continue;
		(void)futimens(fd, u->dirs[i].ts);
		close(fd);
	}
}

static int write_file_data(struct unpack *u, struct archive *in, int fd, struct archive_entry *e,
			   const char *name)
{
	const void *p;
	size_t n;
	la_int64_t off;
	off_t kicked = 0; /* written back up to here */
	for (;;) {
		int r = archive_read_data_block(in, &p, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			u->read_failed = true; /* reported by the caller */
			return -EIO;
		}
		if (off < 0 || (uint64_t)off + n > u->max_bytes) {
			u->too_big = true;
			return -EFBIG;
		}
		int rc = imagefile_pwrite_all(fd, p, n, (off_t)off);
		if (rc < 0)
			return fail(u->err, rc, "entry \"%s\": write: %s", name, strerror(-rc));
		/* start writeback as we go, so the commit's syncfs waits for less */
		if ((off_t)off + (off_t)n - kicked >= (8 << 20)) {
			sync_file_range(fd, kicked, (off_t)off + (off_t)n - kicked,
					SYNC_FILE_RANGE_WRITE);
			kicked = (off_t)off + (off_t)n;
		}
	}
	/* A sparse file may end in a hole. */
	if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
		return fail(u->err, -errno, "entry \"%s\": truncate: %s", name, strerror(errno));
	/* Start writing big files back now: the commit's syncfs then waits
	 * for less. */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) >= (1 << 20))
		sync_file_range(fd, kicked, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

static int unpack_whiteout(struct unpack *u, const char *parent, const char *base, const char *name)
{
	int dfd = unpack_parent(u, parent, name);
	if (dfd < 0)
		return dfd;
	if (strcmp(base, ".wh..wh..opq") == 0) {
		if (fsetxattr(dfd, OPAQUE_XATTR, "y", 1, 0) < 0)
			return fail(u->err, -errno, "entry \"%s\": set %s: %s", name, OPAQUE_XATTR,
				    strerror(errno));
		return 0;
	}
	if (strncmp(base, ".wh..wh.", 8) == 0)
		return 0; /* aufs bookkeeping (.wh..wh.plnk and the like) */
	const char *victim = base + 4;
	if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
		return fail(u->err, -EINVAL, "entry \"%s\": invalid whiteout", name);
	/* A whiteout hides lower layers only; if this layer has the name
	 * itself, that entry already hides the lower one. */
	struct stat s;
	if (fstatat(dfd, victim, &s, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(dfd, victim, S_IFCHR | 0600, makedev(0, 0)) < 0 ||
	    fchownat(dfd, victim, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(u->err, -errno, "entry \"%s\": create whiteout: %s", name,
			    strerror(errno));
	return 0;
}

static int unpack_hardlink(struct unpack *u, int dfd, const char *base, const char *name,
			   const char *target_raw)
{
	cleanup_free char *target = NULL;
	int rc = unpack_clean_path(target_raw, &target);
	if (rc == -EINVAL)
		return fail(u->err, -EINVAL,
			    "entry \"%s\": hardlink to \"%s\" points outside the layer", name,
			    target_raw);
	if (rc < 0 || !*target)
		return fail(u->err, -EINVAL, "entry \"%s\": invalid hardlink target \"%s\"", name,
			    target_raw);
	char *slash = strrchr(target, '/');
	const char *tbase = slash ? slash + 1 : target;
	if (slash)
		*slash = '\0';
	int tfd = open_dir_below(u->rootfd, slash ? target : "", false, name, u->err);
	if (tfd < 0)
		return tfd;
	struct stat s;
	if (fstatat(tfd, tbase, &s, AT_SYMLINK_NOFOLLOW) < 0) {
		close(tfd);
		return fail(u->err, -ENOENT,
			    "entry \"%s\": hardlink target \"%s\" does not exist in "
			    "the layer",
			    name, target_raw);
	}
	if (S_ISDIR(s.st_mode)) {
		close(tfd);
		return fail(u->err, -EPERM, "entry \"%s\": hardlink target \"%s\" is a directory",
			    name, target_raw);
	}
	/* No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink. */
	rc = linkat(tfd, tbase, dfd, base, 0) < 0 ? -errno : 0;
	close(tfd);
	if (rc < 0)
		return fail(u->err, rc, "entry \"%s\": hardlink to \"%s\": %s", name, target_raw,
			    strerror(-rc));
	return 0;
}

static int unpack_entry(struct unpack *u, struct archive *in, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	if (!name)
		return fail(u->err, -EINVAL, "entry with an unreadable name");
	cleanup_free char *path = NULL;
	int rc = unpack_clean_path(name, &path);
	if (rc == -EINVAL)
		return fail(u->err, rc, "entry \"%s\": path escapes the layer (\"..\")", name);
	if (rc < 0)
		return fail(u->err, rc, "entry \"%s\": path too long or too deep", name);
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);

	if (!*path) {
		/* "./": the layer root's own attributes. */
		if (type != AE_IFDIR || hardlink)
			return 0;
		rc = meta_fd(u, u->rootfd, e, name);
		if (rc == 0)
			dirtime_add(u, "", e);
		return rc;
	}

	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash)
		*slash = '\0';
	const char *parent = slash ? path : "";
	if (strstr(parent, ".wh..wh.") == parent || strstr(parent, "/.wh..wh."))
		return 0; /* inside aufs bookkeeping dirs */
	if (strncmp(base, ".wh.", 4) == 0)
		return unpack_whiteout(u, parent, base, name);

	int dfd = unpack_parent(u, parent, name);
	if (dfd < 0)
		return dfd;

	struct stat s;
	if (fstatat(dfd, base, &s, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(s.st_mode) && type == AE_IFDIR && !hardlink) {
			int fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return fail(u->err, -errno, "entry \"%s\": %s", name,
					    strerror(errno));
			rc = meta_fd(u, fd, e, name);
			close(fd);
			if (rc == 0) {
				if (slash)
					*slash = '/';
				dirtime_add(u, path, e);
			}
			return rc;
		}
		/* Otherwise the old node goes. The cache (its parent) stays
		 * valid: only paths below BASE change. */
		if ((rc = imagefile_rm_rf_at(dfd, base)) < 0)
			return fail(u->err, rc, "entry \"%s\": replace existing: %s", name,
				    strerror(-rc));
	}

	if (hardlink)
		return unpack_hardlink(u, dfd, base, name, hardlink);

	switch (type) {
	case AE_IFREG: {
		u->logical += archive_entry_size_is_set(e) && archive_entry_size(e) > 0
				  ? (uint64_t)archive_entry_size(e)
				  : 0;
		if (u->logical > u->max_bytes) {
			u->too_big = true;
			return -EFBIG;
		}
		int fd =
		    openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return fail(u->err, -errno, "entry \"%s\": create: %s", name,
				    strerror(errno));
		rc = write_file_data(u, in, fd, e, name);
		if (rc == 0)
			rc = meta_fd(u, fd, e, name);
		close(fd);
		return rc;
	}
	case AE_IFDIR: {
		if (mkdirat(dfd, base, 0700) < 0)
			return fail(u->err, -errno, "entry \"%s\": mkdir: %s", name,
				    strerror(errno));
		int fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return fail(u->err, -errno, "entry \"%s\": %s", name, strerror(errno));
		rc = meta_fd(u, fd, e, name);
		close(fd);
		if (rc == 0) {
			if (slash)
				*slash = '/';
			dirtime_add(u, path, e);
		}
		return rc;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target || !*target)
			return fail(u->err, -EINVAL, "entry \"%s\": symlink without a target",
				    name);
		if (symlinkat(target, dfd, base) < 0)
			return fail(u->err, -errno, "entry \"%s\": symlink: %s", name,
				    strerror(errno));
		return meta_at(u, dfd, base, e, name, true);
	}
	case AE_IFIFO:
		if (mkfifoat(dfd, base, 0600) < 0)
			return fail(u->err, -errno, "entry \"%s\": mkfifo: %s", name,
				    strerror(errno));
		return meta_at(u, dfd, base, e, name, false);
	case AE_IFCHR:
	case AE_IFBLK:
		if (mknodat(dfd, base, (type == AE_IFCHR ? S_IFCHR : S_IFBLK) | 0600,
			    makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))) < 0)
			return fail(u->err, -errno, "entry \"%s\": mknod: %s", name,
				    strerror(errno));
		return meta_at(u, dfd, base, e, name, false);
	default:
		return 0; /* sockets and unknown types are not layer content */
	}
}

static int too_big(char **err, uint64_t max)
{
	return fail(err, -EFBIG,
		    "unpacks to more than %llu bytes (the limit, PODFS_MAX_LAYER_BYTES; a "
		    "decompression bomb?)",
		    (unsigned long long)max);
}

int unpack_layer(const char *blob, int fd, const char *mt, const char *dest, const char *diff_id,
		 const struct unpack_limits *lim, char **err)
{
	struct unpack u = {
	    .rootfd = -1,
	    .cache_fd = -1,
	    .max_bytes = lim->max_bytes,
	    .max_entries = lim->max_entries,
	    .err = err,
	};
	struct archive *in = NULL;
	struct archive_entry *e;
	int rc = 0, r;

	if (mkdir(dest, 0700) < 0)
		return fail(err, -errno, "mkdir \"%s\": %s", dest, strerror(errno));
	u.rootfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u.rootfd < 0 || fchmod(u.rootfd, 0755) < 0) {
		rc = fail(err, -errno, "open \"%s\": %s", dest, strerror(errno));
		goto out;
	}
	u.buf = xmalloc(IOBUF);
	sha256_init(&u.sha);

	u.outer = archive_read_new();
	archive_read_support_format_raw(u.outer);
	switch (unpack_compression(mt)) {
	case UNPACK_COMP_GZIP:
		archive_read_support_filter_gzip(u.outer);
		break;
	case UNPACK_COMP_ZSTD:
		archive_read_support_filter_zstd(u.outer);
		break;
	default:
		break;
	}
	if ((blob ? archive_read_open_filename(u.outer, blob, IOBUF)
		  : archive_read_open_fd(u.outer, fd, IOBUF)) != ARCHIVE_OK ||
	    archive_read_next_header(u.outer, &e) != ARCHIVE_OK) {
		rc = fail(err, -EIO, "cannot decompress: %s",
			  archive_error_string(u.outer) ? archive_error_string(u.outer) : "empty");
		goto out;
	}

	in = archive_read_new();
	archive_read_support_format_tar(in);
	r = archive_read_open(in, &u, NULL, inner_read, NULL);
	while (r == ARCHIVE_OK) {
		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			break;
		if (++u.entries > u.max_entries) {
			rc = fail(err, -EFBIG,
				  "more than %llu entries (the limit, PODFS_MAX_LAYER_ENTRIES)",
				  (unsigned long long)u.max_entries);
			goto out;
		}
		rc = unpack_entry(&u, in, e);
		if (rc < 0 && !u.too_big && !u.read_failed)
			goto out;
		if (rc < 0)
			r = ARCHIVE_FATAL;
		else
			r = ARCHIVE_OK;
	}
	if (u.too_big) {
		rc = too_big(err, u.max_bytes);
		goto out;
	}
	if (r != ARCHIVE_EOF) {
		const char *why = u.ioerr ? u.ioerr : archive_error_string(in);
		rc = fail(err, -EIO, "not a valid tar stream: %s", why ? why : "read error");
		goto out;
	}
	/* The diff_id covers the whole stream, padding after the end marker
	 * included. */
	for (;;) {
		la_ssize_t n = archive_read_data(u.outer, u.buf, IOBUF);
		if (n < 0) {
			rc = fail(err, -EIO, "cannot decompress: %s",
				  archive_error_string(u.outer) ? archive_error_string(u.outer)
								: "read error");
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(&u.sha, u.buf, (size_t)n);
		u.bytes += (uint64_t)n;
		if (u.bytes > u.max_bytes) {
			rc = too_big(err, u.max_bytes);
			goto out;
		}
	}
	cache_drop(&u);
	dirtimes_apply(&u);
	char got[SHA256_DIGEST_LEN + 1];
	sha256_final(&u.sha, got);
	if (strcmp(got, diff_id) != 0)
		rc = fail(err, -EBADMSG,
			  "uncompressed content hashes to \"%s\", but the image config's diff_id "
			  "is \"%s\"",
			  got, diff_id);
out:
	cache_drop(&u);
	sha256_free(&u.sha);
	if (in)
		archive_read_free(in);
	if (u.outer)
		archive_read_free(u.outer);
	if (u.rootfd >= 0)
		close(u.rootfd);
	for (size_t i = 0; i < u.ndirs; i++)
		free(u.dirs[i].path);
	free(u.dirs);
	free(u.buf);
	free(u.ioerr);
	return rc;
}
