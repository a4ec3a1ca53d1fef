/* fs.c: the FUSE low-level operations. A dispatcher in the style of lxcfs:
 * an enum of node kinds, each node a (kind, pod, container, file) tuple
 * with a stable inode number; generated files are rendered whole at open()
 * into the handle and served from it (one read sequence, one snapshot),
 * with direct_io so the page cache never serves an old version; logs are
 * read from the backend's plain-text files. The node table is nodes.c. */
#define FUSE_USE_VERSION 314
#include "fs/fs.h"
#include "backend/backend.h"
#include "backend/util.h"
#include "fs/nodes.h"
#include "fs/notify.h"
#include "fs/scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define SPEC_MAX (1024 * 1024 + 1) /* one byte more than the manifest limit */
#define ENTRY_TIMEOUT 86400.0 /* seconds; see reply_entry */

/* Editors' scratch files (scratch.h). A vim swap file of a manifest at
 * the 1 MiB limit is a little over 1 MiB, hence 4 MiB per file. */
static const struct scratch_limits SCRATCH_LIMITS = {
	.files_per_dir = 64,
	.file_bytes = 4 * 1024 * 1024,
	.total_files = 1024,
	.total_bytes = 64 * 1024 * 1024,
};

struct fsctx {
	struct backend *b;
	struct notifier *nt;
	struct fuse_session *se;
	struct scratch *scratch;
	uid_t owner;
	gid_t group;
	struct timespec mounted;
	pthread_mutex_t lock; /* pods_mtime and unlinked */
	struct timespec pods_mtime; /* a pod appeared in or left pods/ */
	struct strv unlinked; /* pods whose spec.yaml was removed or renamed */
};

static struct fsctx G;

struct fname {
	const char *name;
	enum backend_file file;
};

static const struct fname pod_files[] = {
	{"spec.yaml", BF_SPEC}, {"status", BF_STATUS}, {"status.json", BF_STATUS_JSON},
	{"phase", BF_PHASE},    {"logs", BF_LOGS},     {"env", BF_ENV},
	{"events", BF_EVENTS},  {NULL, 0}};
static const struct fname ctr_files[] = {{"status", BF_CSTATUS},
					 {"logs", BF_LOGS},
					 {"previous.log", BF_PREVIOUS_LOG},
					 {"env", BF_ENV},
					 {NULL, 0}};
static const struct fname top_files[] = {{"ps", BF_PS}, {"node", BF_NODE}, {NULL, 0}};

static const char *file_name(enum nkind kind, enum backend_file f)
{
	const struct fname *t = kind == N_POD_FILE ? pod_files : kind == N_CFILE ? ctr_files
										 : top_files;
	for (size_t i = 0; t[i].name; i++)
		if (t[i].file == f)
			return t[i].name;
	return "?";
}

/* ---- nodes ---------------------------------------------------------------- */

static bool container_exists(const char *pod, const char *c)
{
	char **names = backend_container_names(G.b, pod);
	bool found = false;
	for (size_t i = 0; names && names[i]; i++)
		if (!strcmp(names[i], c))
			found = true;
	backend_free_names(names);
	return found;
}

/* Is the node still there (its pod or container may be gone)? */
static bool node_alive(const struct node *n)
{
	switch (n->kind) {
	case N_ROOT:
	case N_PODS:
	case N_TOP_FILE:
		return true;
	case N_POD:
	case N_POD_FILE:
	case N_CONTAINERS:
		return backend_pod_exists(G.b, n->pod);
	case N_CONTAINER:
	case N_CFILE:
		return container_exists(n->pod, n->container);
	case N_SCRATCH: {
		/* also while unlinked but open: fstat works, with no links */
		struct scratch_file *f = scratch_get_id(G.scratch, n->sid);
		scratch_put(G.scratch, f);
		return f && backend_pod_exists(G.b, n->pod);
	}
	}
	return false;
}

static bool is_dir(enum nkind k)
{
	return k == N_ROOT || k == N_PODS || k == N_POD || k == N_CONTAINERS || k == N_CONTAINER;
}

static bool ts_zero(const struct timespec *t)
{
	return t->tv_sec == 0 && t->tv_nsec == 0;
}

static const struct timespec *ts_max(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec) ? a : b;
}

/* When POD last changed as a whole: created, or its manifest applied. */
static struct timespec pod_mtime(const char *pod)
{
	size_t len;
	struct timespec mt = {0};
	if (backend_stat(G.b, pod, NULL, BF_SPEC, &len, &mt) < 0 || ts_zero(&mt))
		mt = G.mounted;
	return mt;
}

static size_t count_names(char **names)
{
	size_t n = 0;
	while (names && names[n])
		n++;
	return n;
}

/* Directories: a link per subdirectory (find and du trust that), and the
 * time their list of names last changed. */
static void dir_attr(const struct node *n, struct stat *st)
{
	size_t subdirs = 0;
	struct timespec mt = G.mounted;
	switch (n->kind) {
	case N_ROOT:
		subdirs = 1;
		break;
	case N_PODS: {
		char **names = backend_pod_names(G.b);
		subdirs = count_names(names);
		backend_free_names(names);
		pthread_mutex_lock(&G.lock);
		mt = G.pods_mtime;
		pthread_mutex_unlock(&G.lock);
		break;
	}
	case N_POD: {
		subdirs = 1;
		mt = pod_mtime(n->pod);
		struct timespec smt;
		if (scratch_dir_mtime(G.scratch, n->pod, &smt))
			mt = *ts_max(&mt, &smt);
		break;
	}
	case N_CONTAINERS: {
		char **names = backend_container_names(G.b, n->pod);
		subdirs = count_names(names);
		backend_free_names(names);
		mt = pod_mtime(n->pod);
		break;
	}
	default:
		mt = pod_mtime(n->pod);
		break;
	}
	st->st_mode = S_IFDIR | 0755;
	st->st_nlink = 2 + subdirs;
	st->st_atim = st->st_mtim = st->st_ctim = mt;
}

static int fill_attr(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (n->kind == N_SCRATCH) {
		struct scratch_file *f = scratch_get_id(G.scratch, n->sid);
		if (!f)
			return -ENOENT;
		scratch_stat(G.scratch, f, st);
		scratch_put(G.scratch, f);
		st->st_ino = n->ino;
		return 0;
	}
	st->st_ino = n->ino;
	st->st_uid = G.owner;
	st->st_gid = G.group;
	st->st_blksize = 4096;
	if (is_dir(n->kind)) {
		dir_attr(n, st);
		return 0;
	}
	size_t len = 0;
	struct timespec mt = {0};
	int r = backend_stat(G.b, n->pod, n->container, n->file, &len, &mt);
	if (r == -ENOENT && n->kind == N_POD_FILE && n->file == BF_LOGS)
		r = 0; /* a pod with no container yet: its logs are empty */
	if (r < 0)
		return r;
	/* a file with no change yet (env before the container starts) is as
	 * old as its pod, never 1970 */
	if (ts_zero(&mt))
		mt = n->pod ? pod_mtime(n->pod) : G.mounted;
	bool rw = n->file == BF_SPEC && backend_spec_writable(G.b, n->pod, false) == 0;
	st->st_mode = S_IFREG | (rw ? 0644 : 0444);
	st->st_nlink = 1;
	st->st_size = (off_t)len;
	st->st_blocks = (blkcnt_t)((len + 511) / 512);
	st->st_atim = st->st_mtim = st->st_ctim = mt;
	return 0;
}

static void reply_entry(fuse_req_t req, struct node *n)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	int r = fill_attr(n, &e.attr);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	e.ino = n->ino;
	e.generation = n->gen;
	/* Attributes are never cached (sizes of growing files must be fresh).
	 * Names are: a name always means the same node (inodes are stable per
	 * path), every operation on a node whose pod or container is gone
	 * fails with ENOENT, and a pod that goes is rmdir'ed through the mount
	 * (by the user, or by the announcer for IN_DELETE), which drops its
	 * dentries. So a path walk, the announcer's included, needs no LOOKUP
	 * once the names are known. Not spec.yaml: a rename moves its dentry
	 * (and so its inode) to the new name, while here the old spec under a
	 * new name is a scratch file and a new spec.yaml may come; with no
	 * caching the kernel looks both names up again. */
	e.attr_timeout = 0;
	e.entry_timeout = n->kind == N_POD_FILE && n->file == BF_SPEC ? 0 : ENTRY_TIMEOUT;
	fuse_reply_entry(req, &e);
}

/* An entry for scratch file F of POD: a lookup the kernel will forget. */
static void reply_scratch_entry(fuse_req_t req, const char *pod, struct scratch_file *f)
{
	struct node *n = nodes_scratch(pod, scratch_id(f), true);
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	scratch_stat(G.scratch, f, &e.attr);
	e.attr.st_ino = e.ino = n->ino;
	e.generation = n->gen;
	if (fuse_reply_entry(req, &e) != 0)
		nodes_forget(e.ino, 1); /* the kernel never got it */
}

/* Creating, changing and deleting are root's or the mounting user's:
 * starting a pod is running code as root. */
static bool may_write(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	return ctx->uid == 0 || ctx->uid == G.owner;
}

/* spec.yaml removed (rm, or renamed away) is out of sight until a new one
 * is created or renamed over it, as tools that replace a file expect: mv
 * from another file system and cp --remove-destination unlink it, then
 * create it with O_EXCL; vim renames it to its backup, then creates it.
 * The pod itself keeps running with its manifest: rmdir deletes pods. */
static bool spec_unlinked(const char *pod)
{
	bool found = false;
	pthread_mutex_lock(&G.lock);
	for (size_t i = 0; i < G.unlinked.n && !found; i++)
		found = !strcmp(G.unlinked.v[i], pod);
	pthread_mutex_unlock(&G.lock);
	return found;
}

static void spec_set_unlinked(const char *pod, bool unlinked)
{
	pthread_mutex_lock(&G.lock);
	size_t i = 0;
	while (i < G.unlinked.n && strcmp(G.unlinked.v[i], pod) != 0)
		i++;
	if (unlinked && i == G.unlinked.n) {
		strv_push(&G.unlinked, pod);
	} else if (!unlinked && i < G.unlinked.n) {
		free(G.unlinked.v[i]);
		G.unlinked.v[i] = G.unlinked.v[--G.unlinked.n];
		G.unlinked.v[G.unlinked.n] = NULL;
	}
	pthread_mutex_unlock(&G.lock);
}

/* INO's node for a change by REQ's caller; NULL, with the error replied,
 * when it is gone (ENOENT) or the caller may not write (EACCES). */
static struct node *node_for_write(fuse_req_t req, fuse_ino_t ino)
{
	struct node *n = nodes_by_ino(ino);
	if (!n || !node_alive(n)) {
		fuse_reply_err(req, ENOENT);
		return NULL;
	}
	if (!may_write(req)) {
		fuse_reply_err(req, EACCES);
		return NULL;
	}
	return n;
}

static bool from_announcer(fuse_req_t req)
{
	return notify_is_announcer(G.nt, fuse_req_ctx(req)->pid);
}

/* ---- operations ---------------------------------------------------------- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node *p = nodes_by_ino(parent);
	struct node *n = NULL;
	if (strlen(name) > NAME_MAX) {
		/* FUSE passes longer names than NAME_MAX; no file system here has them */
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	if (!p || !node_alive(p)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	switch (p->kind) {
	case N_ROOT:
		if (!strcmp(name, "pods"))
			n = nodes_get(N_PODS, NULL, NULL, 0);
		for (size_t i = 0; !n && top_files[i].name; i++)
			if (!strcmp(name, top_files[i].name))
				n = nodes_get(N_TOP_FILE, NULL, NULL, top_files[i].file);
		break;
	case N_PODS: {
		/* the announcer's mkdir/rmdir of a pod that came or went
		 * without one (static pods): make the kernel let it through */
		char op = 0;
		if (from_announcer(req)) {
			char *path = xasprintf("pods/%s", name);
			op = notify_dir_op(G.nt, path);
			free(path);
		}
		if (op == 'r' || (op != 'd' && backend_pod_exists(G.b, name)))
			n = nodes_get(N_POD, name, NULL, 0);
		break;
	}
	case N_POD:
		if (!strcmp(name, "containers"))
			n = nodes_get(N_CONTAINERS, p->pod, NULL, 0);
		for (size_t i = 0; !n && pod_files[i].name; i++)
			if (!strcmp(name, pod_files[i].name))
				n = nodes_get(N_POD_FILE, p->pod, NULL, pod_files[i].file);
		if (n && n->kind == N_POD_FILE && n->file == BF_SPEC && spec_unlinked(p->pod))
			n = NULL;
		if (!n) {
			struct scratch_file *f = scratch_get(G.scratch, p->pod, name);
			if (f) {
				reply_scratch_entry(req, p->pod, f);
				scratch_put(G.scratch, f);
				return;
			}
		}
		break;
	case N_CONTAINERS:
		if (container_exists(p->pod, name))
			n = nodes_get(N_CONTAINER, p->pod, name, 0);
		break;
	case N_CONTAINER:
		for (size_t i = 0; ctr_files[i].name; i++)
			if (!strcmp(name, ctr_files[i].name))
				n = nodes_get(N_CFILE, p->pod, p->container, ctr_files[i].file);
		break;
	default:
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	reply_entry(req, n);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct node *n = nodes_by_ino(ino);
	struct stat st;
	if (!n || !node_alive(n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	int r = fill_attr(n, &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, 0);
}

/* Handles: a snapshot, a log file, a spec being written, a no-op for the
 * announcer's writes, or an editor's scratch file. */
enum hkind { H_SNAPSHOT, H_LOG, H_SPEC, H_ANNOUNCE, H_SCRATCH };

struct handle {
	int refs; /* the open file, plus each operation in progress */
	enum hkind kind;
	char *buf;
	size_t len, cap;
	int fd;
	bool dirty;
	char *pod;
	int error; /* the last apply's result, reported by every later flush */
	struct scratch_file *sf; /* H_SCRATCH: a reference */
};

static void setattr_scratch(fuse_req_t req, struct node *n, struct stat *attr, int to_set)
{
	struct scratch_file *f = scratch_get_id(G.scratch, n->sid);
	if (!f) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	int r = 0;
	if (to_set & FUSE_SET_ATTR_SIZE)
		r = scratch_truncate(G.scratch, f, attr->st_size);
	int what = 0;
	if (to_set & FUSE_SET_ATTR_MODE)
		what |= SCRATCH_SET_MODE;
	if (to_set & FUSE_SET_ATTR_UID)
		what |= SCRATCH_SET_UID;
	if (to_set & FUSE_SET_ATTR_GID)
		what |= SCRATCH_SET_GID;
	if (to_set & FUSE_SET_ATTR_ATIME)
		what |= SCRATCH_SET_ATIME;
	if (to_set & FUSE_SET_ATTR_MTIME)
		what |= SCRATCH_SET_MTIME;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		what |= SCRATCH_SET_ATIME | SCRATCH_SET_ATIME_NOW;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		what |= SCRATCH_SET_MTIME | SCRATCH_SET_MTIME_NOW;
	if (r == 0 && what)
		scratch_setattr(G.scratch, f, attr, what);
	struct stat st;
	scratch_stat(G.scratch, f, &st);
	scratch_put(G.scratch, f);
	st.st_ino = n->ino;
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, 0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct node *n = node_for_write(req, ino);
	if (!n)
		return;
	if (n->kind == N_SCRATCH) {
		setattr_scratch(req, n, attr, to_set);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (n->kind != N_POD_FILE || n->file != BF_SPEC) {
			fuse_reply_err(req, from_announcer(req) ? 0 : EACCES);
			return;
		}
		struct handle *h = fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
		if (h && h->kind == H_SPEC) {
			if ((size_t)attr->st_size < h->len)
				h->len = (size_t)attr->st_size;
			h->dirty = true;
		} else if (attr->st_size != 0) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		/* truncate(2) to zero without an open file changes nothing: an
		 * empty manifest is not applied until something is written */
	}
	/* modes, owners and times of generated files are podfs's: a chmod or
	 * touch by a writer (vim's fchmod after a save) succeeds and changes
	 * nothing */
	struct stat st;
	int r = fill_attr(n, &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, 0);
}

struct dirbuf {
	int refs; /* as struct handle: first member */
	char *p;
	size_t size;
};

/* A reader killed mid-request makes the kernel send RELEASE while our
 * READ (or READDIR) still runs in another thread: handles are counted so
 * the last one out frees. Both kinds start with the count. */
static pthread_mutex_t hlock = PTHREAD_MUTEX_INITIALIZER;

static void *hold(struct fuse_file_info *fi)
{
	int *refs = (int *)(uintptr_t)fi->fh;
	pthread_mutex_lock(&hlock);
	(*refs)++;
	pthread_mutex_unlock(&hlock);
	return refs;
}

static void handle_free(struct handle *h);

/* Drop a reference; returns true when it was the last. */
static bool drop(void *obj)
{
	int *refs = obj;
	pthread_mutex_lock(&hlock);
	bool last = --(*refs) == 0;
	pthread_mutex_unlock(&hlock);
	return last;
}

static void dirbuf_put(struct dirbuf *b)
{
	if (drop(b)) {
		free(b->p);
		free(b);
	}
}

static void handle_put(struct handle *h)
{
	if (drop(h))
		handle_free(h);
}

static void dirbuf_add(fuse_req_t req, struct dirbuf *b, const char *name, fuse_ino_t ino,
		       bool dir)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	st.st_mode = dir ? S_IFDIR : S_IFREG;
	size_t old = b->size;
	b->size += fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	b->p = xrealloc(b->p, b->size);
	fuse_add_direntry(req, b->p + old, b->size - old, name, &st, (off_t)b->size);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = nodes_by_ino(ino);
	if (!n || !node_alive(n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!is_dir(n->kind)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	/* the listing is taken once, at opendir, so readdir offsets are stable */
	struct dirbuf *b = xcalloc(1, sizeof(*b));
	b->refs = 1;
	dirbuf_add(req, b, ".", ino, true);
	dirbuf_add(req, b, "..", ino == 1 ? 1 : 1, true);
	if (n->kind == N_ROOT) {
		dirbuf_add(req, b, "pods", nodes_get(N_PODS, NULL, NULL, 0)->ino, true);
		for (size_t i = 0; top_files[i].name; i++)
			dirbuf_add(req, b, top_files[i].name,
				   nodes_get(N_TOP_FILE, NULL, NULL, top_files[i].file)->ino, false);
	} else if (n->kind == N_PODS) {
		char **names = backend_pod_names(G.b);
		for (size_t i = 0; names[i]; i++)
			dirbuf_add(req, b, names[i], nodes_get(N_POD, names[i], NULL, 0)->ino, true);
		backend_free_names(names);
	} else if (n->kind == N_POD) {
		bool no_spec = spec_unlinked(n->pod);
		for (size_t i = 0; pod_files[i].name; i++)
			if (pod_files[i].file != BF_SPEC || !no_spec)
				dirbuf_add(req, b, pod_files[i].name,
					   nodes_get(N_POD_FILE, n->pod, NULL, pod_files[i].file)->ino,
					   false);
		dirbuf_add(req, b, "containers", nodes_get(N_CONTAINERS, n->pod, NULL, 0)->ino, true);
		/* editors look for their swap files in the listing */
		uint64_t *ids;
		char **names = scratch_names(G.scratch, n->pod, &ids);
		for (size_t i = 0; names[i]; i++)
			dirbuf_add(req, b, names[i], nodes_scratch_ino(n->pod, ids[i]), false);
		scratch_free_names(names);
		free(ids);
	} else if (n->kind == N_CONTAINERS) {
		char **names = backend_container_names(G.b, n->pod);
		for (size_t i = 0; names && names[i]; i++)
			dirbuf_add(req, b, names[i],
				   nodes_get(N_CONTAINER, n->pod, names[i], 0)->ino, true);
		backend_free_names(names);
	} else if (n->kind == N_CONTAINER) {
		for (size_t i = 0; ctr_files[i].name; i++)
			dirbuf_add(req, b, ctr_files[i].name,
				   nodes_get(N_CFILE, n->pod, n->container, ctr_files[i].file)->ino,
				   false);
	}
	fi->fh = (uintptr_t)b;
	fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	struct dirbuf *b = hold(fi);
	if ((size_t)off < b->size)
		fuse_reply_buf(req, b->p + off, b->size - (size_t)off < size ? b->size - (size_t)off
									  : size);
	else
		fuse_reply_buf(req, NULL, 0);
	dirbuf_put(b);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	dirbuf_put((struct dirbuf *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* May the caller open a file of mode MODE owned by UID:GID for ACC? The
 * mount has no default_permissions, so scratch files' modes (vim's swap
 * is 0600) are checked here; writing is for writers only anyway. */
static bool mode_allows(fuse_req_t req, mode_t mode, uid_t uid, gid_t gid, int acc)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	if (acc != O_RDONLY && !may_write(req))
		return false;
	if (ctx->uid == 0)
		return true;
	mode_t bits = ctx->uid == uid ? (mode >> 6) : ctx->gid == gid ? (mode >> 3) : mode;
	bool r = (bits & 4) != 0, w = (bits & 2) != 0;
	return acc == O_RDONLY ? r : acc == O_WRONLY ? w : r && w;
}

static void open_scratch(fuse_req_t req, struct node *n, struct fuse_file_info *fi)
{
	struct scratch_file *f = scratch_get_id(G.scratch, n->sid);
	if (!f) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	scratch_stat(G.scratch, f, &st);
	int acc = fi->flags & O_ACCMODE;
	if (!mode_allows(req, st.st_mode, st.st_uid, st.st_gid, acc)) {
		scratch_put(G.scratch, f);
		fuse_reply_err(req, EACCES);
		return;
	}
	if ((fi->flags & O_TRUNC) && acc != O_RDONLY)
		scratch_truncate(G.scratch, f, 0);
	struct handle *h = xcalloc(1, sizeof(*h));
	h->refs = 1;
	h->fd = -1;
	h->kind = H_SCRATCH;
	h->sf = f;
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	if (fuse_reply_open(req, fi) != 0)
		handle_put(h); /* interrupted: no release will come */
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = nodes_by_ino(ino);
	if (!n || !node_alive(n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (is_dir(n->kind)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (n->kind == N_SCRATCH) {
		open_scratch(req, n, fi);
		return;
	}
	int acc = fi->flags & O_ACCMODE;
	struct handle *h = xcalloc(1, sizeof(*h));
	h->refs = 1;
	h->fd = -1;
	if (acc != O_RDONLY && from_announcer(req)) {
		h->kind = H_ANNOUNCE;
		fi->noflush = 1; /* close() needs no FLUSH round trip */
	} else if (acc != O_RDONLY) {
		if (n->file != BF_SPEC || n->kind != N_POD_FILE) {
			free(h);
			fuse_reply_err(req, EACCES);
			return;
		}
		if (!may_write(req)) {
			free(h);
			fuse_reply_err(req, EACCES);
			return;
		}
		int w = backend_spec_writable(G.b, n->pod, true);
		if (w < 0) { /* a static pod: its manifest file decides */
			free(h);
			fuse_reply_err(req, -w);
			return;
		}
		h->kind = H_SPEC;
		h->pod = xstrdup(n->pod);
		if (!(fi->flags & O_TRUNC)) {
			/* in-place edits and appends start from what was applied */
			size_t len;
			struct timespec mt;
			if (backend_read(G.b, n->pod, NULL, BF_SPEC, &h->buf, &len, &mt) == 0)
				h->len = h->cap = len;
		}
		/* O_TRUNC alone applies nothing: shells open, dup2 and close the
		 * first descriptor before anything is written */
	} else if (n->file == BF_LOGS || n->file == BF_PREVIOUS_LOG) {
		h->kind = H_LOG;
		char *path = NULL;
		size_t len;
		struct timespec mt;
		int r = backend_log(G.b, n->pod, n->container, n->file, &path, &len, &mt);
		if (r == -ENOENT && n->kind == N_POD_FILE)
			r = 0; /* no container yet: empty */
		if (r < 0) {
			free(h);
			fuse_reply_err(req, -r);
			return;
		}
		h->fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		free(path);
	} else {
		h->kind = H_SNAPSHOT;
		struct timespec mt;
		int r = backend_read(G.b, n->pod, n->container, n->file, &h->buf, &h->len, &mt);
		if (r < 0) {
			free(h);
			fuse_reply_err(req, -r);
			return;
		}
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	struct handle *h = hold(fi);
	if (h->kind == H_LOG) {
		if (h->fd < 0) {
			fuse_reply_buf(req, NULL, 0);
		} else {
			char *buf = xmalloc(size);
			ssize_t n = pread(h->fd, buf, size, off);
			if (n < 0)
				fuse_reply_err(req, errno);
			else
				fuse_reply_buf(req, buf, (size_t)n);
			free(buf);
		}
	} else if (h->kind == H_SCRATCH) {
		char *buf = xmalloc(size);
		size_t n = scratch_read(G.scratch, h->sf, buf, size, off);
		fuse_reply_buf(req, buf, n);
		free(buf);
	} else if ((size_t)off >= h->len) {
		fuse_reply_buf(req, NULL, 0);
	} else {
		size_t n = h->len - (size_t)off < size ? h->len - (size_t)off : size;
		fuse_reply_buf(req, h->buf + off, n);
	}
	handle_put(h);
}

static void spec_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		       int flags);

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)ino;
	struct handle *h = hold(fi);
	if (h->kind == H_ANNOUNCE) {
		fuse_reply_write(req, size);
	} else if (h->kind == H_SCRATCH) {
		ssize_t r = fi->flags & O_APPEND ? scratch_append(G.scratch, h->sf, buf, size)
						 : scratch_write(G.scratch, h->sf, buf, size, off);
		if (r < 0)
			fuse_reply_err(req, (int)-r);
		else
			fuse_reply_write(req, (size_t)r);
	} else if (h->kind != H_SPEC) {
		fuse_reply_err(req, EBADF);
	} else {
		spec_write(req, h, buf, size, off, fi->flags);
	}
	handle_put(h);
}

static void spec_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		       int flags)
{
	if (flags & O_APPEND)
		off = (off_t)h->len;
	if ((size_t)off + size > SPEC_MAX) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	size_t end = (size_t)off + size;
	if (end > h->cap) {
		h->cap = end * 2;
		h->buf = xrealloc(h->buf, h->cap);
	}
	if ((size_t)off > h->len)
		memset(h->buf + h->len, 0, (size_t)off - h->len);
	memcpy(h->buf + off, buf, size);
	if (end > h->len)
		h->len = end;
	h->dirty = true;
	fuse_reply_write(req, size);
}

/* close() reports what flush returns: a refused manifest fails close()
 * with EINVAL, which is how cp and tee learn of it. */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct handle *h = hold(fi);
	if (h->kind != H_SPEC || !h->dirty) {
		fuse_reply_err(req, h->kind == H_SPEC ? h->error : 0);
		handle_put(h);
		return;
	}
	h->dirty = false;
	char *err = NULL;
	int r = backend_pod_apply(G.b, h->pod, h->buf ? h->buf : "", h->len, &err);
	if (err) {
		fprintf(stderr, "podfs: pods/%s/spec.yaml refused:\n%s", h->pod, err);
		free(err);
	}
	h->error = r < 0 ? -r : 0;
	fuse_reply_err(req, h->error);
	handle_put(h);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_put((struct handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void handle_free(struct handle *h)
{
	if (h->sf)
		scratch_put(G.scratch, h->sf);
	if (h->fd >= 0)
		close(h->fd);
	free(h->buf);
	free(h->pod);
	free(h);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0); /* applied specs are already durable */
}

static void pods_changed(void)
{
	pthread_mutex_lock(&G.lock);
	clock_gettime(CLOCK_REALTIME, &G.pods_mtime);
	pthread_mutex_unlock(&G.lock);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)mode;
	struct node *p = nodes_by_ino(parent);
	if (!p || !node_alive(p)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (p->kind == N_PODS && from_announcer(req)) {
		/* an announcement: success raises IN_CREATE for watchers */
		if (backend_pod_exists(G.b, name))
			reply_entry(req, nodes_get(N_POD, name, NULL, 0));
		else
			fuse_reply_err(req, ENOENT);
		return;
	}
	if (!may_write(req)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (p->kind != N_PODS) {
		/* directories are pods; nothing else makes one */
		fuse_reply_err(req, EPERM);
		return;
	}
	if (strlen(name) > NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	/* the name is checked (a DNS-1123 label: no '.', '/', upper case,
	 * at most 63 characters) before anything is made */
	char *err = NULL;
	int r = backend_pod_create(G.b, name, &err);
	if (err) {
		fprintf(stderr, "podfs: mkdir pods/%s: %s\n", name, err);
		free(err);
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	pods_changed();
	reply_entry(req, nodes_get(N_POD, name, NULL, 0));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node *p = nodes_by_ino(parent);
	if (!p || !node_alive(p)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (from_announcer(req)) {
		fuse_reply_err(req, 0);
		return;
	}
	if (!may_write(req)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (p->kind == N_PODS) {
		/* graceful: returns once the pod's processes are gone */
		int r = backend_pod_delete(G.b, name);
		if (r == 0) {
			scratch_drop_dir(G.scratch, name);
			spec_set_unlinked(name, false);
			pods_changed();
		}
		fuse_reply_err(req, r < 0 ? -r : 0);
	} else if (p->kind == N_POD || p->kind == N_CONTAINERS) {
		/* `rm -r pods/web` empties the tree first: generated directories
		 * "go" (and come back while the pod lives) */
		fuse_reply_err(req, 0);
	} else {
		fuse_reply_err(req, ENOTDIR);
	}
}

/* Is NAME one of the generated entries of a pod directory? */
static bool pod_entry(const char *name)
{
	if (!strcmp(name, "containers"))
		return true;
	for (size_t i = 0; pod_files[i].name; i++)
		if (!strcmp(name, pod_files[i].name))
			return true;
	return false;
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node *p = node_for_write(req, parent);
	if (!p)
		return;
	if (p->kind == N_POD && scratch_unlink(G.scratch, p->pod, name) == 0) {
		fuse_reply_err(req, 0);
		return;
	}
	if (p->kind == N_POD && !strcmp(name, "spec.yaml")) {
		/* a static pod's spec comes from its file: EROFS */
		int w = backend_spec_writable(G.b, p->pod, true);
		if (w < 0) {
			fuse_reply_err(req, -w);
			return;
		}
		spec_set_unlinked(p->pod, true);
	}
	/* files of a pod are generated; removing one (as `rm -r` does before
	 * the rmdir that deletes the pod) changes nothing, but spec.yaml is
	 * out of sight until a new one comes */
	if ((p->kind == N_POD && pod_entry(name)) || p->kind == N_CONTAINER)
		fuse_reply_err(req, 0);
	else
		fuse_reply_err(req, p->kind == N_POD ? ENOENT : EPERM);
}

static void create_scratch(fuse_req_t req, struct node *p, const char *name, mode_t mode,
			   struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct scratch_file *f;
	int r = scratch_create(G.scratch, p->pod, name, mode, ctx->uid, ctx->gid, &f);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	struct handle *h = xcalloc(1, sizeof(*h));
	h->refs = 1;
	h->fd = -1;
	h->kind = H_SCRATCH;
	h->sf = f; /* create's reference */
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	struct node *n = nodes_scratch(p->pod, scratch_id(f), true);
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	scratch_stat(G.scratch, f, &e.attr);
	e.attr.st_ino = e.ino = n->ino;
	e.generation = n->gen;
	if (fuse_reply_create(req, &e, fi) != 0) {
		/* interrupted: the kernel has neither the entry nor the file */
		nodes_forget(e.ino, 1);
		handle_put(h);
	}
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct node *p = node_for_write(req, parent);
	if (!p)
		return;
	if (p->kind == N_POD && !strcmp(name, "spec.yaml")) {
		/* a new spec.yaml after an unlink or a rename away, applied on
		 * close; or O_CREAT racing with such a create: an open */
		int w = backend_spec_writable(G.b, p->pod, true);
		if (w < 0) {
			fuse_reply_err(req, -w);
			return;
		}
		spec_set_unlinked(p->pod, false);
		struct node *n = nodes_get(N_POD_FILE, p->pod, NULL, BF_SPEC);
		struct handle *h = xcalloc(1, sizeof(*h));
		h->refs = 1;
		h->fd = -1;
		h->kind = H_SPEC;
		h->pod = xstrdup(p->pod);
		fi->fh = (uintptr_t)h;
		fi->direct_io = 1;
		struct fuse_entry_param e;
		memset(&e, 0, sizeof(e));
		fill_attr(n, &e.attr);
		e.ino = n->ino;
		e.generation = n->gen;
		fuse_reply_create(req, &e, fi);
		return;
	}
	if (p->kind == N_POD && pod_entry(name)) {
		fuse_reply_err(req, EEXIST);
		return;
	}
	if (p->kind == N_POD) {
		/* anything else an editor or tool makes next to spec.yaml */
		if (strlen(name) > NAME_MAX)
			fuse_reply_err(req, ENAMETOOLONG);
		else
			create_scratch(req, p, name, mode, fi);
		return;
	}
	/* pods/ holds pods only (mkdir), the rest of the tree is generated */
	fuse_reply_err(req, EPERM);
}

/* mknod(2) of a regular file is a create without an open; devices,
 * FIFOs and sockets have no place here, nor have links. */
static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	(void)rdev;
	struct node *p = node_for_write(req, parent);
	if (!p)
		return;
	if (!S_ISREG(mode) || p->kind != N_POD || pod_entry(name)) {
		fuse_reply_err(req, p->kind == N_POD && pod_entry(name) ? EEXIST : EPERM);
		return;
	}
	if (strlen(name) > NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct scratch_file *f;
	int r = scratch_create(G.scratch, p->pod, name, mode, ctx->uid, ctx->gid, &f);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	reply_scratch_entry(req, p->pod, f);
	scratch_put(G.scratch, f);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, may_write(req) ? EPERM : EACCES);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, may_write(req) ? EPERM : EACCES);
}

/* A pod's manifest as applied, for a scratch copy of spec.yaml. */
static char *spec_copy(const char *pod, size_t *len)
{
	char *buf = NULL;
	struct timespec mt;
	if (backend_read(G.b, pod, NULL, BF_SPEC, &buf, len, &mt) < 0) {
		*len = 0;
		return xstrdup("");
	}
	return buf;
}

/* Apply scratch file NAME of POD as its manifest: 0 or -errno (the
 * pod is untouched on a refusal, which is in events and status). */
static int apply_scratch(const char *pod, const char *name)
{
	struct scratch_file *f = scratch_get(G.scratch, pod, name);
	if (!f)
		return -ENOENT;
	size_t len;
	char *buf = scratch_contents(G.scratch, f, &len);
	scratch_put(G.scratch, f);
	char *err = NULL;
	int r = backend_pod_apply(G.b, pod, buf, len, &err);
	if (err) {
		fprintf(stderr, "podfs: pods/%s/spec.yaml (renamed from %s) refused:\n%s", pod,
			name, err);
		free(err);
	}
	free(buf);
	return r;
}

/* Renames inside a pod directory. Renaming a scratch file over spec.yaml
 * applies it (sed -i, mv, vim's recovery), and the scratch file is gone
 * only if it applied; renaming spec.yaml away leaves a scratch copy under
 * the new name, spec.yaml out of sight and the pod as it is (vim moves the
 * original to its backup "spec.yaml~" before it creates the new one). */
static int rename_in_pod(const char *pod, const char *from, const char *to, unsigned flags)
{
	bool noreplace = flags & RENAME_NOREPLACE, exchange = flags & RENAME_EXCHANGE;
	bool from_spec = !strcmp(from, "spec.yaml"), to_spec = !strcmp(to, "spec.yaml");
	if ((pod_entry(from) && !from_spec) || (pod_entry(to) && !to_spec))
		return -EACCES; /* generated files stay where they are */
	if (strlen(to) > NAME_MAX)
		return -ENAMETOOLONG;
	if (!from_spec && !to_spec)
		return scratch_rename(G.scratch, pod, from, to, noreplace, exchange);
	int w = backend_spec_writable(G.b, pod, true);
	if (w < 0)
		return w; /* a static pod's spec comes from its file */
	bool spec_there = !spec_unlinked(pod);
	if (from_spec && to_spec)
		return spec_there ? 0 : -ENOENT;
	const char *other = from_spec ? to : from;
	struct scratch_file *f = scratch_get(G.scratch, pod, other);
	bool other_there = f != NULL;
	scratch_put(G.scratch, f);
	if ((from_spec || exchange) && !spec_there)
		return -ENOENT;
	if ((!from_spec || exchange) && !other_there)
		return -ENOENT;
	if (noreplace && (from_spec ? other_there : spec_there))
		return -EEXIST;
	size_t len = 0;
	char *old = from_spec || exchange ? spec_copy(pod, &len) : NULL;
	int r = 0;
	if (from_spec && !exchange) {
		r = scratch_store(G.scratch, pod, other, old, len, 0644, G.owner, G.group);
		if (r == 0)
			spec_set_unlinked(pod, true);
	} else {
		r = apply_scratch(pod, other);
		if (r == 0 && exchange)
			r = scratch_store(G.scratch, pod, other, old, len, 0644, G.owner, G.group);
		else if (r == 0)
			scratch_unlink(G.scratch, pod, other);
		if (r == 0)
			spec_set_unlinked(pod, false);
	}
	free(old);
	return r;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct node *p = nodes_by_ino(parent), *np = nodes_by_ino(newparent);
	if (!p || !np || !node_alive(p) || !node_alive(np)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!may_write(req)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	int r;
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		r = -EINVAL;
	else if (p->kind != N_POD || np->kind != N_POD)
		r = -EPERM; /* pods are not renamed; the rest is generated */
	else if (strcmp(p->pod, np->pod) != 0)
		r = -EXDEV; /* mv copies, and a copy onto spec.yaml applies */
	else
		r = rename_in_pod(p->pod, name, newname, flags);
	fuse_reply_err(req, -r);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	nodes_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		nodes_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* access(2), test -w: writers may write anything, as root may on any
 * file system (rm -r asks no questions), others nothing. */
static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct node *n = nodes_by_ino(ino);
	if (!n || !node_alive(n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	int r = fill_attr(n, &st);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	bool ok = true;
	if ((mask & W_OK) && !may_write(req))
		ok = false;
	if ((mask & R_OK) && n->kind == N_SCRATCH &&
	    !mode_allows(req, st.st_mode, st.st_uid, st.st_gid, O_RDONLY))
		ok = false;
	if ((mask & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
		ok = false;
	fuse_reply_err(req, ok ? 0 : EACCES);
}

/* df: the space is the scratch files' budget; pods take none. */
static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	size_t files, bytes;
	scratch_usage(G.scratch, &files, &bytes);
	struct statvfs sv;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_blocks = SCRATCH_LIMITS.total_bytes / 4096;
	sv.f_bfree = sv.f_bavail = sv.f_blocks - (bytes + 4095) / 4096;
	sv.f_files = SCRATCH_LIMITS.total_files;
	sv.f_ffree = sv.f_favail = SCRATCH_LIMITS.total_files - files;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* writes arrive whole (no writeback cache: a refused spec must fail
	 * the close that carries it) */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.mkdir = op_mkdir,
	.rmdir = op_rmdir,
	.unlink = op_unlink,
	.create = op_create,
	.rename = op_rename,
	.mknod = op_mknod,
	.symlink = op_symlink,
	.link = op_link,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.access = op_access,
	.statfs = op_statfs,
};

/* ---- announcements -------------------------------------------------------- */

static void on_change(void *arg, enum backend_change what, const char *pod, const char *container,
		      enum backend_file file)
{
	(void)arg;
	if (what == BC_POD_REMOVED) {
		/* a pod of the same name later starts with an empty directory.
		 * (The backend calls this with its lock held: no backend call
		 * here, and only locks no FUSE operation holds across one.) */
		scratch_drop_dir(G.scratch, pod);
		spec_set_unlinked(pod, false);
		pods_changed();
	}
	if (!G.nt)
		return;
	char *path;
	if (what == BC_POD_ADDED) {
		path = xasprintf("pods/%s", pod);
		notify_dir_added(G.nt, path);
	} else if (what == BC_POD_REMOVED) {
		path = xasprintf("pods/%s", pod);
		notify_dir_removed(G.nt, path);
	} else if (!pod) {
		path = xasprintf("%s", file_name(N_TOP_FILE, file));
		notify_modified(G.nt, path);
	} else if (container) {
		path = xasprintf("pods/%s/containers/%s/%s", pod, container, file_name(N_CFILE, file));
		notify_modified(G.nt, path);
	} else {
		path = xasprintf("pods/%s/%s", pod, file_name(N_POD_FILE, file));
		notify_modified(G.nt, path);
	}
	free(path);
}

int fs_main(const struct fs_opts *o, int (*open_backend)(void *arg, struct backend **b), void *arg)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	for (int i = 0; i < o->fuse_argc; i++)
		fuse_opt_add_arg(&args, o->fuse_argv[i]);
	fuse_opt_add_arg(&args, "-o");
	fuse_opt_add_arg(&args, "fsname=podfs,subtype=podfs");
	if (o->debug)
		fuse_opt_add_arg(&args, "-d");
	int ret = 1;
	pthread_mutex_init(&G.lock, NULL);
	G.owner = getuid();
	G.group = getgid();
	clock_gettime(CLOCK_REALTIME, &G.mounted);
	G.pods_mtime = G.mounted;
	G.scratch = scratch_new(&SCRATCH_LIMITS);
	nodes_get(N_ROOT, NULL, NULL, 0); /* inode 1 */
	char *mnt = realpath(o->mountpoint, NULL);
	if (!mnt) {
		fprintf(stderr, "podfs: mount point %s: %s\n", o->mountpoint, strerror(errno));
		goto out;
	}
	G.se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!G.se)
		goto out;
	if (fuse_set_signal_handlers(G.se) != 0)
		goto out_destroy;
	if (fuse_session_mount(G.se, mnt) != 0)
		goto out_signals;
	fuse_daemonize(o->foreground);
	if (open_backend(arg, &G.b) < 0)
		goto out_unmount;
	G.nt = notify_start(mnt);
	backend_set_change_cb(G.b, on_change, NULL);
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, o->max_threads > 0 ? (unsigned)o->max_threads : 64);
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	ret = fuse_session_loop_mt(G.se, cfg) != 0;
	fuse_loop_cfg_destroy(cfg);
	notify_stop(G.nt);
	G.nt = NULL;
out_unmount:
	fuse_session_unmount(G.se);
out_signals:
	fuse_remove_signal_handlers(G.se);
out_destroy:
	fuse_session_destroy(G.se);
out:
	free(mnt);
	fuse_opt_free_args(&args);
	/* G.scratch stays, as the node table: the backend's threads may still
	 * announce a pod's removal until the process exits */
	return ret;
}

struct backend *fs_backend(void)
{
	return G.b;
}
