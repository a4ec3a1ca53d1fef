/* scratch.c: see scratch.h. A few files per pod at most, so plain lists
 * searched linearly under one lock; the limits bound them. */
#include "fs/scratch.h"
#include "backend/util.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

struct scratch_file {
	uint64_t id;
	int refs;	  /* one for being linked in its directory, one per holder */
	char *dir, *name; /* name NULL once unlinked */
	char *buf;
	size_t len, cap;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
	struct scratch_file *prev, *next; /* every file, linked or not */
};

struct sdir {
	char *name;
	size_t nfiles;
	struct timespec mtime;
	struct sdir *next;
};

struct scratch {
	pthread_mutex_t lock; /* everything below and every file's fields */
	struct scratch_limits lim;
	struct scratch_file *files;
	struct sdir *dirs;
	size_t nfiles, nbytes;
	uint64_t next_id;
};

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

struct scratch *scratch_new(const struct scratch_limits *lim)
{
	struct scratch *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->lim = *lim;
	s->next_id = 1;
	return s;
}

static void file_free(struct scratch_file *f)
{
	free(f->dir);
	free(f->name);
	free(f->buf);
	free(f);
}

void scratch_free(struct scratch *s)
{
	if (!s)
		return;
	for (struct scratch_file *f = s->files, *n; f; f = n) {
		n = f->next;
		file_free(f);
	}
	for (struct sdir *d = s->dirs, *n; d; d = n) {
		n = d->next;
		free(d->name);
		free(d);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct sdir *dir_get(struct scratch *s, const char *name, bool create)
{
	for (struct sdir *d = s->dirs; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	if (!create)
		return NULL;
	struct sdir *d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	d->next = s->dirs;
	s->dirs = d;
	return d;
}

static struct scratch_file *find(struct scratch *s, const char *dir, const char *name)
{
	for (struct scratch_file *f = s->files; f; f = f->next)
		if (f->name && !strcmp(f->name, name) && !strcmp(f->dir, dir))
			return f;
	return NULL;
}

/* Drop a reference; the last one frees. Lock held. */
static void unref(struct scratch *s, struct scratch_file *f)
{
	if (--f->refs > 0)
		return;
	if (f->prev)
		f->prev->next = f->next;
	else
		s->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	s->nfiles--;
	s->nbytes -= f->len;
	file_free(f);
}

/* Take F out of its directory. Lock held. */
static void unlink_file(struct scratch *s, struct scratch_file *f)
{
	struct sdir *d = dir_get(s, f->dir, true);
	d->nfiles--;
	now(&d->mtime);
	free(f->name);
	f->name = NULL;
	now(&f->ctime);
	unref(s, f);
}

struct scratch_file *scratch_get(struct scratch *s, const char *dir, const char *name)
{
	pthread_mutex_lock(&s->lock);
	struct scratch_file *f = find(s, dir, name);
	if (f)
		f->refs++;
	pthread_mutex_unlock(&s->lock);
	return f;
}

struct scratch_file *scratch_get_id(struct scratch *s, uint64_t id)
{
	pthread_mutex_lock(&s->lock);
	struct scratch_file *f = s->files;
	while (f && f->id != id)
		f = f->next;
	if (f)
		f->refs++;
	pthread_mutex_unlock(&s->lock);
	return f;
}

void scratch_put(struct scratch *s, struct scratch_file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&s->lock);
	unref(s, f);
	pthread_mutex_unlock(&s->lock);
}

uint64_t scratch_id(const struct scratch_file *f)
{
	return f->id;
}

/* A new linked file with no reference beyond the directory's. Lock held. */
static int new_file(struct scratch *s, const char *dir, const char *name, mode_t mode, uid_t uid,
		    gid_t gid, struct scratch_file **out)
{
	struct sdir *d = dir_get(s, dir, true);
	if (d->nfiles >= s->lim.files_per_dir || s->nfiles >= s->lim.total_files)
		return -ENOSPC;
	struct scratch_file *f = xcalloc(1, sizeof(*f));
	f->id = s->next_id++;
	f->refs = 1;
	f->dir = xstrdup(dir);
	f->name = xstrdup(name);
	f->mode = (mode & 07777) | S_IFREG;
	f->uid = uid;
	f->gid = gid;
	now(&f->mtime);
	f->atime = f->ctime = f->mtime;
	f->next = s->files;
	if (s->files)
		s->files->prev = f;
	s->files = f;
	s->nfiles++;
	d->nfiles++;
	d->mtime = f->mtime;
	*out = f;
	return 0;
}

int scratch_create(struct scratch *s, const char *dir, const char *name, mode_t mode, uid_t uid,
		   gid_t gid, struct scratch_file **out)
{
	pthread_mutex_lock(&s->lock);
	int r = -EEXIST;
	if (!find(s, dir, name)) {
		r = new_file(s, dir, name, mode, uid, gid, out);
		if (r == 0)
			(*out)->refs++;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Make F LEN bytes long (zero-filled when it grows) within the limits.
 * Lock held. */
static int resize(struct scratch *s, struct scratch_file *f, size_t len)
{
	if (len > s->lim.file_bytes ||
	    (len > f->len && s->nbytes + (len - f->len) > s->lim.total_bytes))
		return -ENOSPC;
	if (len > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		while (cap < len)
			cap *= 2;
		if (cap > s->lim.file_bytes)
			cap = s->lim.file_bytes;
		f->buf = xrealloc(f->buf, cap);
		f->cap = cap;
	}
	if (len > f->len)
		memset(f->buf + f->len, 0, len - f->len);
	s->nbytes = s->nbytes - f->len + len;
	f->len = len;
	return 0;
}

int scratch_store(struct scratch *s, const char *dir, const char *name, const char *buf, size_t len,
		  mode_t mode, uid_t uid, gid_t gid)
{
	pthread_mutex_lock(&s->lock);
	struct scratch_file *old = find(s, dir, name);
	struct scratch_file *f;
	int r = 0;
	if (old) {
		/* replacing: the old file's place and bytes are given back
		 * (unless it is still open), but only when the new one fits, so
		 * a failure changes nothing */
		bool freed = old->refs == 1;
		size_t files = s->nfiles - (freed ? 1 : 0);
		size_t bytes = s->nbytes - (freed ? old->len : 0);
		if (len > s->lim.file_bytes || bytes + len > s->lim.total_bytes ||
		    files >= s->lim.total_files)
			r = -ENOSPC;
		else
			unlink_file(s, old);
	}
	if (r == 0)
		r = new_file(s, dir, name, mode, uid, gid, &f);
	if (r == 0) {
		r = resize(s, f, len);
		if (r == 0 && len)
			memcpy(f->buf, buf, len);
		else if (r < 0)
			unlink_file(s, f);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

size_t scratch_read(struct scratch *s, struct scratch_file *f, char *buf, size_t size, off_t off)
{
	pthread_mutex_lock(&s->lock);
	size_t n = 0;
	if (off >= 0 && (size_t)off < f->len) {
		n = f->len - (size_t)off < size ? f->len - (size_t)off : size;
		memcpy(buf, f->buf + off, n);
	}
	now(&f->atime);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Lock held. */
static ssize_t write_at(struct scratch *s, struct scratch_file *f, const char *buf, size_t size,
			size_t off)
{
	if (off > s->lim.file_bytes || size > s->lim.file_bytes - off)
		return -ENOSPC;
	size_t end = off + size;
	if (end > f->len) {
		int r = resize(s, f, end);
		if (r < 0)
			return r;
	}
	memcpy(f->buf + off, buf, size);
	now(&f->mtime);
	f->ctime = f->mtime;
	return (ssize_t)size;
}

ssize_t scratch_write(struct scratch *s, struct scratch_file *f, const char *buf, size_t size,
		      off_t off)
{
	if (off < 0)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ssize_t r = write_at(s, f, buf, size, (size_t)off);
	pthread_mutex_unlock(&s->lock);
	return r;
}

ssize_t scratch_append(struct scratch *s, struct scratch_file *f, const char *buf, size_t size)
{
	pthread_mutex_lock(&s->lock);
	ssize_t r = write_at(s, f, buf, size, f->len);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int scratch_truncate(struct scratch *s, struct scratch_file *f, off_t size)
{
	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	int r = (size_t)size > s->lim.file_bytes ? -ENOSPC : resize(s, f, (size_t)size);
	if (r == 0) {
		now(&f->mtime);
		f->ctime = f->mtime;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

char *scratch_contents(struct scratch *s, struct scratch_file *f, size_t *len)
{
	pthread_mutex_lock(&s->lock);
	char *c = xmalloc(f->len + 1);
	if (f->len)
		memcpy(c, f->buf, f->len);
	c[f->len] = '\0';
	*len = f->len;
	pthread_mutex_unlock(&s->lock);
	return c;
}

void scratch_stat(struct scratch *s, struct scratch_file *f, struct stat *st)
{
	pthread_mutex_lock(&s->lock);
	memset(st, 0, sizeof(*st));
	st->st_mode = f->mode;
	st->st_nlink = f->name ? 1 : 0;
	st->st_uid = f->uid;
	st->st_gid = f->gid;
	st->st_size = (off_t)f->len;
	st->st_blocks = (blkcnt_t)((f->len + 511) / 512);
	st->st_blksize = 4096;
	st->st_atim = f->atime;
	st->st_mtim = f->mtime;
	st->st_ctim = f->ctime;
	pthread_mutex_unlock(&s->lock);
}

void scratch_setattr(struct scratch *s, struct scratch_file *f, const struct stat *st, int what)
{
	pthread_mutex_lock(&s->lock);
	if (what & SCRATCH_SET_MODE)
		f->mode = (st->st_mode & 07777) | S_IFREG;
	if (what & SCRATCH_SET_UID)
		f->uid = st->st_uid;
	if (what & SCRATCH_SET_GID)
		f->gid = st->st_gid;
	struct timespec t;
	now(&t);
	if (what & SCRATCH_SET_ATIME)
		f->atime = (what & SCRATCH_SET_ATIME_NOW) ? t : st->st_atim;
	if (what & SCRATCH_SET_MTIME)
		f->mtime = (what & SCRATCH_SET_MTIME_NOW) ? t : st->st_mtim;
	f->ctime = t;
	pthread_mutex_unlock(&s->lock);
}

int scratch_unlink(struct scratch *s, const char *dir, const char *name)
{
	pthread_mutex_lock(&s->lock);
	struct scratch_file *f = find(s, dir, name);
	if (f)
		unlink_file(s, f);
	pthread_mutex_unlock(&s->lock);
	return f ? 0 : -ENOENT;
}

int scratch_rename(struct scratch *s, const char *dir, const char *from, const char *to,
		   bool noreplace, bool exchange)
{
	pthread_mutex_lock(&s->lock);
	int r = 0;
	struct scratch_file *a = find(s, dir, from), *b = find(s, dir, to);
	if (!a || (exchange && !b)) {
		r = -ENOENT;
	} else if (a == b) {
		/* the same file: nothing to do, as rename(2) */
	} else if (b && noreplace) {
		r = -EEXIST;
	} else if (exchange) {
		char *t = a->name;
		a->name = b->name;
		b->name = t;
		now(&a->ctime);
		b->ctime = a->ctime;
		dir_get(s, dir, true)->mtime = a->ctime;
	} else {
		if (b)
			unlink_file(s, b);
		free(a->name);
		a->name = xstrdup(to);
		now(&a->ctime);
		dir_get(s, dir, true)->mtime = a->ctime;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

void scratch_drop_dir(struct scratch *s, const char *dir)
{
	pthread_mutex_lock(&s->lock);
	for (struct scratch_file *f = s->files, *n; f; f = n) {
		/* unlink_file may free F, and only F */
		n = f->next;
		if (f->name && !strcmp(f->dir, dir))
			unlink_file(s, f);
	}
	for (struct sdir **pd = &s->dirs; *pd; pd = &(*pd)->next) {
		struct sdir *d = *pd;
		if (!strcmp(d->name, dir)) {
			*pd = d->next;
			free(d->name);
			free(d);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **scratch_names(struct scratch *s, const char *dir, uint64_t **ids)
{
	pthread_mutex_lock(&s->lock);
	size_t n = 0;
	for (struct scratch_file *f = s->files; f; f = f->next)
		if (f->name && !strcmp(f->dir, dir))
			n++;
	/* "name\0" followed by the id, so sorting keeps them together */
	char **v = xcalloc(n + 1, sizeof(*v));
	size_t i = 0;
	for (struct scratch_file *f = s->files; f && i < n; f = f->next)
		if (f->name && !strcmp(f->dir, dir)) {
			size_t l = strlen(f->name);
			v[i] = xmalloc(l + 1 + sizeof(uint64_t));
			memcpy(v[i], f->name, l + 1);
			memcpy(v[i] + l + 1, &f->id, sizeof(uint64_t));
			i++;
		}
	pthread_mutex_unlock(&s->lock);
	qsort(v, n, sizeof(*v), cmp_names);
	if (ids) {
		*ids = xcalloc(n + 1, sizeof(**ids));
		for (i = 0; i < n; i++)
			memcpy(&(*ids)[i], v[i] + strlen(v[i]) + 1, sizeof(uint64_t));
	}
	return v;
}

void scratch_free_names(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

bool scratch_dir_mtime(struct scratch *s, const char *dir, struct timespec *ts)
{
	pthread_mutex_lock(&s->lock);
	struct sdir *d = dir_get(s, dir, false);
	if (d)
		*ts = d->mtime;
	pthread_mutex_unlock(&s->lock);
	return d != NULL;
}

void scratch_usage(struct scratch *s, size_t *files, size_t *bytes)
{
	pthread_mutex_lock(&s->lock);
	*files = s->nfiles;
	*bytes = s->nbytes;
	pthread_mutex_unlock(&s->lock);
}
