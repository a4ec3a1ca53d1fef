/* fs.c: the FUSE low-level operations. A dispatcher in the style of lxcfs:
 * an enum of node kinds, each node a (kind, pod, container, file) tuple
 * with a stable inode number; generated files are rendered whole at open()
 * into the handle and served from it (one read sequence, one snapshot),
 * with direct_io so the page cache never serves an old version; logs are
 * read from the backend's plain-text files. */
#define FUSE_USE_VERSION 314
#include "fs/fs.h"
#include "backend/backend.h"
#include "backend/util.h"
#include "fs/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SPEC_MAX (1024 * 1024 + 1) /* one byte more than the manifest limit */
#define ENTRY_TIMEOUT 86400.0 /* seconds; see reply_entry */

enum nkind { N_ROOT, N_PODS, N_POD, N_POD_FILE, N_CONTAINERS, N_CONTAINER, N_CFILE, N_TOP_FILE };

struct node {
	fuse_ino_t ino;
	enum nkind kind;
	char *pod, *container;
	enum backend_file file;
	char *key;
	struct node *hnext;
};

struct fsctx {
	struct backend *b;
	struct notifier *nt;
	struct fuse_session *se;
	uid_t owner;
	pthread_mutex_t lock; /* the node table */
	struct node **byino;
	size_t nino, capino;
	struct node **hash;
	size_t hcap;
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

/* ---- node table ---------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Nodes are never freed: an inode number keeps meaning the same path for
 * the life of the mount (the kernel may still hold it after a pod goes). */
static struct node *get_node(enum nkind kind, const char *pod, const char *container,
			     enum backend_file file)
{
	char *key = xasprintf("%d/%s/%s/%d", (int)kind, pod ? pod : "", container ? container : "",
			      (int)file);
	pthread_mutex_lock(&G.lock);
	if (!G.hash) {
		G.hcap = 4096;
		G.hash = xcalloc(G.hcap, sizeof(*G.hash));
	}
	uint64_t h = hash_str(key) % G.hcap;
	for (struct node *n = G.hash[h]; n; n = n->hnext)
		if (!strcmp(n->key, key)) {
			pthread_mutex_unlock(&G.lock);
			free(key);
			return n;
		}
	struct node *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->pod = pod ? xstrdup(pod) : NULL;
	n->container = container ? xstrdup(container) : NULL;
	n->file = file;
	n->key = key;
	n->hnext = G.hash[h];
	G.hash[h] = n;
	if (G.nino == G.capino) {
		G.capino = G.capino ? G.capino * 2 : 1024;
		G.byino = xrealloc(G.byino, G.capino * sizeof(*G.byino));
	}
	/* inode 1 is the root (FUSE_ROOT_ID) */
	n->ino = G.nino + 1;
	G.byino[G.nino++] = n;
	pthread_mutex_unlock(&G.lock);
	return n;
}

static struct node *ino_node(fuse_ino_t ino)
{
	pthread_mutex_lock(&G.lock);
	struct node *n = ino >= 1 && ino <= G.nino ? G.byino[ino - 1] : NULL;
	pthread_mutex_unlock(&G.lock);
	return n;
}

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
	}
	return false;
}

static bool is_dir(enum nkind k)
{
	return k == N_ROOT || k == N_PODS || k == N_POD || k == N_CONTAINERS || k == N_CONTAINER;
}

static int fill_attr(const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_uid = G.owner;
	st->st_gid = getgid();
	if (is_dir(n->kind)) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		st->st_atim = st->st_mtim = st->st_ctim = now;
		return 0;
	}
	size_t len = 0;
	struct timespec mt = {0};
	int r = backend_stat(G.b, n->pod, n->container, n->file, &len, &mt);
	if (r < 0)
		return r;
	st->st_mode = S_IFREG | (n->file == BF_SPEC ? 0644 : 0444);
	st->st_nlink = 1;
	st->st_size = (off_t)len;
	st->st_blocks = (len + 511) / 512;
	st->st_blksize = 4096;
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
	e.generation = 1;
	/* Attributes are never cached (sizes of growing files must be fresh).
	 * Names are: a name always means the same node (inodes are stable per
	 * path), every operation on a node whose pod or container is gone
	 * fails with ENOENT, and a pod that goes is rmdir'ed through the mount
	 * (by the user, or by the announcer for IN_DELETE), which drops its
	 * dentries. So a path walk, the announcer's included, needs no LOOKUP
	 * once the names are known. */
	e.attr_timeout = 0;
	e.entry_timeout = ENTRY_TIMEOUT;
	fuse_reply_entry(req, &e);
}

static bool may_write(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	return ctx->uid == 0 || ctx->uid == G.owner;
}

static bool from_announcer(fuse_req_t req)
{
	return notify_is_announcer(G.nt, fuse_req_ctx(req)->pid);
}

/* ---- operations ---------------------------------------------------------- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node *p = ino_node(parent);
	struct node *n = NULL;
	if (!p || !node_alive(p)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	switch (p->kind) {
	case N_ROOT:
		if (!strcmp(name, "pods"))
			n = get_node(N_PODS, NULL, NULL, 0);
		for (size_t i = 0; !n && top_files[i].name; i++)
			if (!strcmp(name, top_files[i].name))
				n = get_node(N_TOP_FILE, NULL, NULL, top_files[i].file);
		break;
	case N_PODS:
		if (backend_pod_exists(G.b, name))
			n = get_node(N_POD, name, NULL, 0);
		break;
	case N_POD:
		if (!strcmp(name, "containers"))
			n = get_node(N_CONTAINERS, p->pod, NULL, 0);
		for (size_t i = 0; !n && pod_files[i].name; i++)
			if (!strcmp(name, pod_files[i].name))
				n = get_node(N_POD_FILE, p->pod, NULL, pod_files[i].file);
		break;
	case N_CONTAINERS:
		if (container_exists(p->pod, name))
			n = get_node(N_CONTAINER, p->pod, name, 0);
		break;
	case N_CONTAINER:
		for (size_t i = 0; ctr_files[i].name; i++)
			if (!strcmp(name, ctr_files[i].name))
				n = get_node(N_CFILE, p->pod, p->container, ctr_files[i].file);
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
	struct node *n = ino_node(ino);
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

/* Handles: a snapshot, a log file, a spec being written, or a no-op for
 * the announcer's writes. */
enum hkind { H_SNAPSHOT, H_LOG, H_SPEC, H_ANNOUNCE };

struct handle {
	int refs; /* the open file, plus each operation in progress */
	enum hkind kind;
	char *buf;
	size_t len, cap;
	int fd;
	bool dirty;
	char *pod;
	int error; /* the last apply's result, reported by every later flush */
};

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct node *n = ino_node(ino);
	if (!n || !node_alive(n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (n->kind != N_POD_FILE || n->file != BF_SPEC || !may_write(req)) {
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
	struct node *n = ino_node(ino);
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
		dirbuf_add(req, b, "pods", get_node(N_PODS, NULL, NULL, 0)->ino, true);
		for (size_t i = 0; top_files[i].name; i++)
			dirbuf_add(req, b, top_files[i].name,
				   get_node(N_TOP_FILE, NULL, NULL, top_files[i].file)->ino, false);
	} else if (n->kind == N_PODS) {
		char **names = backend_pod_names(G.b);
		for (size_t i = 0; names[i]; i++)
			dirbuf_add(req, b, names[i], get_node(N_POD, names[i], NULL, 0)->ino, true);
		backend_free_names(names);
	} else if (n->kind == N_POD) {
		for (size_t i = 0; pod_files[i].name; i++)
			dirbuf_add(req, b, pod_files[i].name,
				   get_node(N_POD_FILE, n->pod, NULL, pod_files[i].file)->ino, false);
		dirbuf_add(req, b, "containers", get_node(N_CONTAINERS, n->pod, NULL, 0)->ino, true);
	} else if (n->kind == N_CONTAINERS) {
		char **names = backend_container_names(G.b, n->pod);
		for (size_t i = 0; names && names[i]; i++)
			dirbuf_add(req, b, names[i],
				   get_node(N_CONTAINER, n->pod, names[i], 0)->ino, true);
		backend_free_names(names);
	} else if (n->kind == N_CONTAINER) {
		for (size_t i = 0; ctr_files[i].name; i++)
			dirbuf_add(req, b, ctr_files[i].name,
				   get_node(N_CFILE, n->pod, n->container, ctr_files[i].file)->ino,
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

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = ino_node(ino);
	if (!n || !node_alive(n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (is_dir(n->kind)) {
		fuse_reply_err(req, EISDIR);
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

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)mode;
	struct node *p = ino_node(parent);
	if (!p || p->kind != N_PODS) {
		fuse_reply_err(req, p ? EPERM : ENOENT);
		return;
	}
	if (from_announcer(req)) {
		/* an announcement: success raises IN_CREATE for watchers */
		if (backend_pod_exists(G.b, name))
			reply_entry(req, get_node(N_POD, name, NULL, 0));
		else
			fuse_reply_err(req, ENOENT);
		return;
	}
	if (!may_write(req)) {
		fuse_reply_err(req, EACCES);
		return;
	}
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
	reply_entry(req, get_node(N_POD, name, NULL, 0));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node *p = ino_node(parent);
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
		fuse_reply_err(req, r < 0 ? -r : 0);
	} else if (p->kind == N_POD || p->kind == N_CONTAINERS) {
		/* `rm -r pods/web` empties the tree first: generated directories
		 * "go" (and come back while the pod lives) */
		fuse_reply_err(req, 0);
	} else {
		fuse_reply_err(req, ENOTDIR);
	}
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)name;
	struct node *p = ino_node(parent);
	if (!p || !node_alive(p)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!may_write(req)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	/* files of a pod are generated; removing one (as `rm -r` does before
	 * the rmdir that deletes the pod) changes nothing */
	if (p->kind == N_POD || p->kind == N_CONTAINER)
		fuse_reply_err(req, 0);
	else
		fuse_reply_err(req, EPERM);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	(void)mode;
	struct node *p = ino_node(parent);
	if (p && p->kind == N_POD && !strcmp(name, "spec.yaml")) {
		/* O_CREAT on an existing spec.yaml (cp, tee, >): an open */
		struct node *n = get_node(N_POD_FILE, p->pod, NULL, BF_SPEC);
		if (!may_write(req)) {
			fuse_reply_err(req, EACCES);
			return;
		}
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
		e.generation = 1;
		fuse_reply_create(req, &e, fi);
		return;
	}
	fuse_reply_err(req, p ? EACCES : ENOENT);
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
};

/* ---- announcements -------------------------------------------------------- */

static void on_change(void *arg, enum backend_change what, const char *pod, const char *container,
		      enum backend_file file)
{
	(void)arg;
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
	get_node(N_ROOT, NULL, NULL, 0); /* inode 1 */
	char *mnt = realpath(o->mountpoint, NULL);
	if (!mnt) {
		fprintf(stderr, "podfs: mount point %s: %s\n", o->mountpoint, strerror(errno));
		fuse_opt_free_args(&args);
		return 1;
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
	return ret;
}

struct backend *fs_backend(void);
struct backend *fs_backend(void)
{
	return G.b;
}
