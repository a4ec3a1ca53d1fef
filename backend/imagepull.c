/* imagepull.c: images into the store from a source: the verifying sink a
 * registry pull feeds (size and digest checked, progress counted), layers
 * unpacked while they stream in, several at a time, each locked against
 * other pulls until the commit; and ingest, the path from a top manifest or
 * index through the config and layers to the commit that every pull and
 * every import (whose source is an OCI layout) takes. */
#include "backend/image.h"
#include "backend/image_int.h"
#include "backend/image_parse.h"
#include "backend/imagefile.h"
#include "backend/sha256.h"
#include "backend/unpack.h"
#include "backend/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* fail(err, rc, fmt, ...): util_fail, by the short name this file uses */
#define fail(...) util_fail(__VA_ARGS__)

/* ---- blobs from a source (the registry) ---------------------------------- */

/* The verifying writer a source feeds: counts, hashes, and stores into
 * memory (small JSON blobs) or a file (layers). */
struct image_sink {
	struct sha256 h;
	const char *digest;
	int64_t size, got;
	int fd;	   /* file mode, or -1 */
	char *buf; /* memory mode: SIZE bytes */
	bool layer;
	struct import *im;
	int stream_fd; /* a copy goes to the unpacker (socket), or -1 */
};

int image_sink_write(struct image_sink *s, const void *p, size_t n)
{
	if ((int64_t)n > s->size - s->got) {
		s->got = s->size + 1;
		return -EFBIG;
	}
	sha256_update(&s->h, p, n);
	if (s->fd >= 0) {
		int rc = imagefile_write_all(s->fd, p, n);
		if (rc < 0)
			return rc;
	} else if (s->buf) {
		memcpy(s->buf + s->got, p, n);
	}
	s->got += (int64_t)n;
	/* the unpacker gave up (it says why later): keep downloading, since a
	 * digest mismatch is the better message */
	for (size_t off = 0; s->stream_fd >= 0 && off < n;) {
		ssize_t w = send(s->stream_fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(s->stream_fd);
			s->stream_fd = -1;
			break;
		}
		off += (size_t)w;
	}
	if (s->layer && s->im->src->progress) {
		pthread_mutex_lock(&s->im->prog_mu);
		s->im->prog_done += (int64_t)n;
		int64_t done = s->im->prog_done;
		pthread_mutex_unlock(&s->im->prog_mu);
		s->im->src->progress(s->im->src->arg, done, s->im->prog_total);
	}
	return 0;
}

int64_t image_sink_received(const struct image_sink *s)
{
	return s->got;
}

/* Fetch DIGEST (SIZE bytes) from the source into FD (>= 0) or memory, and
 * check size and digest. On success a memory fetch leaves the bytes in
 * *OUT (NUL-terminated). */
static int source_fetch(struct import *im, enum image_blob_kind kind, const char *digest,
			int64_t size, const char *mt, int fd, int stream_fd, char **out, char **err)
{
	struct image_sink s = {
	    .digest = digest, .size = size, .fd = fd, .im = im, .stream_fd = stream_fd};
	s.layer = kind == IMAGE_BLOB_LAYER;
	if (fd < 0 && out)
		s.buf = xmalloc((size_t)size + 1);
	sha256_init(&s.h);
	int rc = im->src->fetch(im->src->arg, kind, digest, size, mt, &s, err);
	if (rc == 0 && s.got > size)
		rc = fail(err, -EBADMSG,
			  "blob \"%s\" is larger than the %lld bytes its descriptor says", digest,
			  (long long)size);
	else if (rc == 0 && s.got != size)
		rc = fail(err, -EBADMSG,
			  "blob \"%s\" is truncated: got %lld bytes, its descriptor says %lld",
			  digest, (long long)s.got, (long long)size);
	if (rc == 0) {
		char got[SHA256_DIGEST_LEN + 1];
		sha256_final(&s.h, got);
		if (strcmp(got, digest) != 0)
			rc = image_digest_mismatch(err, digest, got);
	}
	sha256_free(&s.h);
	if (s.stream_fd >= 0)
		close(s.stream_fd); /* EOF for the unpacker */
	if (rc == 0 && s.buf) {
		s.buf[size] = '\0';
		*out = s.buf;
	} else {
		free(s.buf);
	}
	return rc;
}

/* A small JSON blob (manifest, index, config), from the layout or the
 * source, verified. */
static int im_json(struct import *im, enum image_blob_kind kind, const char *digest, int64_t size,
		   size_t max, const char *mt, char **buf, size_t *len, char **err)
{
	if (!im->src)
		return image_blob_read(im->blobdir, digest, size, max, buf, len, err);
	if (size < 0 || (uint64_t)size > max)
		return fail(err, -EFBIG,
			    "blob \"%s\": its descriptor says %lld bytes, more than %zu", digest,
			    (long long)size, max);
	int rc = source_fetch(im, kind, digest, size, mt, -1, -1, buf, err);
	if (rc == 0)
		*len = (size_t)size;
	return rc;
}

/* A layer blob into the new file DST, verified; DST is removed on failure.
 * From a source, a copy of the bytes also goes to STREAM_FD (closed here),
 * or -1. */
static int im_layer_blob(struct image_store *st, struct import *im, const struct desc *l,
			 const char *dst, int stream_fd, char **err)
{
	if (!im->src) {
		cleanup_free char *from = xasprintf("%s/%s", im->blobdir, l->digest + 7);
		if (stream_fd >= 0)
			close(stream_fd);
		return image_blob_copy(from, dst, l->digest, l->size, err);
	}
	if ((uint64_t)l->size > st->max_layer_bytes) {
		if (stream_fd >= 0)
			close(stream_fd);
		return fail(err, -EFBIG, "blob \"%s\" is %lld bytes, more than the limit %llu",
			    l->digest, (long long)l->size, (unsigned long long)st->max_layer_bytes);
	}
	/* DST NULL: only hashed and streamed (the unpacked layer is what the
	 * store keeps of a pulled layer) */
	int fd = dst ? open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
	if (dst && fd < 0) {
		if (stream_fd >= 0)
			close(stream_fd);
		return fail(err, -errno, "create \"%s\": %s", dst, strerror(errno));
	}
	int rc = source_fetch(im, IMAGE_BLOB_LAYER, l->digest, l->size, l->media_type, fd,
			      stream_fd, NULL, err);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = fail(err, -errno, "write \"%s\": %s", dst, strerror(errno));
	if (rc < 0 && dst)
		unlink(dst);
	return rc;
}

/* The store's limits, for unpack_layer. */
static int layer_unpack_from(struct image_store *st, const char *blob, int fd, const char *mt,
			     const char *dest, const char *diff_id, char **err)
{
	struct unpack_limits lim = {.max_bytes = st->max_layer_bytes,
				    .max_entries = st->max_layer_entries};
	return unpack_layer(blob, fd, mt, dest, diff_id, &lim, err);
}

static int layer_unpack(struct image_store *st, const char *blob, const char *mt, const char *dest,
			const char *diff_id, char **err)
{
	return layer_unpack_from(st, blob, -1, mt, dest, diff_id, err);
}

/* A layer unpacked while it downloads: the sink sends a copy of the bytes
 * to this thread through a socket. Nothing is trusted before both the blob
 * digest (the sink) and the diff_id (the unpacker) are checked. */
struct stream_unpack {
	struct image_store *st;
	int fd;
	const char *mt, *dest, *diff_id;
	int rc;
	char *err;
};

static void *stream_unpack_thread(void *arg)
{
	struct stream_unpack *su = arg;
	su->rc = layer_unpack_from(su->st, NULL, su->fd, su->mt, su->dest, su->diff_id, &su->err);
	/* drain, so the sender never blocks on an unpacker that stopped early */
	char buf[8192];
	while (su->rc == 0 && read(su->fd, buf, sizeof(buf)) > 0)
		;
	close(su->fd);
	return NULL;
}

/* Lock every layer blob of the manifest (sorted, so two pulls sharing
 * layers cannot deadlock) until the commit: a second pull of the same
 * layer waits and then finds it in the store. flock() works between
 * threads too, since each open() is its own lock owner. */
static int lock_layers(struct image_store *st, struct import *im, char **err)
{
	struct strv hex = {0};
	for (size_t i = 0; i < im->m.nlayers; i++)
		strv_push(&hex, im->m.layers[i].digest + 7);
	if (hex.n)
		qsort(hex.v, hex.n, sizeof(char *), image_str_cmp);
	cleanup_free char *dir = xasprintf("%s/locks", st->root);
	int rc = imagefile_mkdir_p(dir, 0700);
	im->lock_fds = xcalloc(hex.n + 1, sizeof(int));
	for (size_t i = 0; rc == 0 && i < hex.n; i++) {
		if (i && strcmp(hex.v[i], hex.v[i - 1]) == 0)
			continue;
		cleanup_free char *p = xasprintf("%s/%s", dir, hex.v[i]);
		int fd = image_flock_open(p, LOCK_EX);
		if (fd < 0) {
			rc = fail(err, fd, "lock \"%s\": %s", p, strerror(-fd));
		} else {
			im->lock_fds[im->nlocks++] = fd;
			strv_push(&im->lock_paths, p);
		}
	}
	strv_free(&hex);
	return rc;
}

/* ---- ingest ------------------------------------------------------------ */

/* Follow the chosen index.json entry through image indexes down to one
 * manifest; every blob read is verified and kept in IM->jb for the store. */
static int resolve_manifest(struct import *im, const struct desc *top, char **err)
{
	struct desc cur = {0};
	int rc = 0;
	cur.digest = xstrdup(top->digest);
	cur.size = top->size;
	cur.media_type = top->media_type ? xstrdup(top->media_type) : NULL;
	for (int depth = 0;; depth++) {
		if (depth > MAX_INDEX_DEPTH) {
			rc = fail(err, -ELOOP, "image indexes nested more than %d deep",
				  MAX_INDEX_DEPTH);
			break;
		}
		char *buf;
		size_t len;
		if (depth == 0 && im->top_buf) {
			buf = xmalloc(im->top_len + 1);
			memcpy(buf, im->top_buf, im->top_len);
			buf[im->top_len] = '\0';
			len = im->top_len;
		} else {
			rc = im_json(im, IMAGE_BLOB_MANIFEST, cur.digest, cur.size, MAX_JSON_BLOB,
				     cur.media_type, &buf, &len, err);
			if (rc < 0)
				break;
		}
		struct jblob *jb = &im->jb[im->njb++];
		memcpy(jb->digest, cur.digest, SHA256_DIGEST_LEN + 1);
		jb->buf = buf;
		jb->len = len;

		json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
		const char *own = json_string_value(json_object_get(j, "mediaType"));
		bool is_index = image_mt_is_index(cur.media_type) || image_mt_is_index(own) ||
				(!cur.media_type && !own && json_object_get(j, "manifests"));
		if (!is_index) {
			json_decref(j);
			if (cur.media_type && !image_mt_is_manifest(cur.media_type)) {
				rc = fail(err, -ENOTSUP, "unsupported manifest media type \"%s\"",
					  cur.media_type);
				break;
			}
			memcpy(im->manifest_digest, cur.digest, SHA256_DIGEST_LEN + 1);
			rc = image_parse_manifest(buf, len, &im->m, err);
			if (rc < 0)
				image_err_prefix(err, "manifest \"%s\"", cur.digest);
			break;
		}
		if (depth == 0)
			im->index_digest = xstrdup(cur.digest);
		struct desc *ds = NULL;
		size_t n = 0, pick = 0;
		rc = image_descs_parse(json_object_get(j, "manifests"), "image index manifests",
				       4096, &ds, &n, err);
		json_decref(j);
		if (rc == 0)
			rc = image_pick_platform(ds, n, &pick, err);
		if (rc < 0) {
			image_descs_free(ds, n);
			image_err_prefix(err, "image index \"%s\"", cur.digest);
			break;
		}
		image_desc_free(&cur);
		cur = ds[pick];
		memset(&ds[pick], 0, sizeof(ds[pick]));
		image_descs_free(ds, n);
	}
	image_desc_free(&cur);
	return rc;
}

/* A pull fetches the layers the store lacks several at a time, each
 * unpacked while it streams in (stream_unpack_thread). */
#define PARALLEL_LAYERS 3

struct layer_job {
	size_t idx;
	int rc;
	char *err;
};

struct parallel {
	struct image_store *st;
	struct import *im;
	struct layer_job *jobs;
	size_t njobs, next;
	pthread_mutex_t mu;
};

static void *layer_worker(void *arg)
{
	struct parallel *pa = arg;
	struct import *im = pa->im;
	for (;;) {
		pthread_mutex_lock(&pa->mu);
		size_t k = pa->next < pa->njobs ? pa->next++ : pa->njobs;
		pthread_mutex_unlock(&pa->mu);
		if (k == pa->njobs)
			return NULL;
		struct layer_job *j = &pa->jobs[k];
		const struct desc *l = &im->m.layers[j->idx];
		const char *diff_id = im->pc.diff_ids[j->idx];
		cleanup_free char *dest = xasprintf("%s/layer-%s", im->tmpdir, diff_id + 7);
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			j->rc = fail(&j->err, -errno, "socketpair: %s", strerror(errno));
			continue;
		}
		struct stream_unpack su = {.st = pa->st,
					   .fd = sv[1],
					   .mt = l->media_type,
					   .dest = dest,
					   .diff_id = diff_id};
		pthread_t th;
		if (pthread_create(&th, NULL, stream_unpack_thread, &su) != 0) {
			close(sv[0]);
			close(sv[1]);
			j->rc = fail(&j->err, -EAGAIN, "cannot start an unpack thread");
			continue;
		}
		j->rc = im_layer_blob(pa->st, im, l, NULL, sv[0], &j->err);
		pthread_join(th, NULL);
		if (j->rc == 0 && su.rc < 0) {
			j->rc = su.rc;
			free(j->err);
			j->err = steal_pointer(&su.err);
			image_err_prefix(&j->err, "layer %zu (\"%s\")", j->idx, l->digest);
		} else if (j->rc < 0) {
			image_err_prefix(&j->err, "layer %zu", j->idx);
		}
		free(su.err);
		if (j->rc < 0)
			imagefile_rm_rf(dest);
	}
}

static int fetch_layers_parallel(struct image_store *st, struct import *im, char **err)
{
	struct manifest *m = &im->m;
	struct parallel pa = {.st = st, .im = im};
	pa.jobs = xcalloc(m->nlayers + 1, sizeof(*pa.jobs));
	for (size_t i = 0; i < m->nlayers; i++) {
		const char *dhex = im->pc.diff_ids[i] + 7;
		cleanup_free char *have = xasprintf("%s/%s", st->blobs, m->layers[i].digest + 7);
		cleanup_free char *done = xasprintf("%s/%s", st->layers, dhex);
		bool again = false; /* the same layer earlier in this image */
		for (size_t k = 0; k < i; k++)
			again |= !strcmp(im->pc.diff_ids[k], im->pc.diff_ids[i]) ||
				 !strcmp(m->layers[k].digest, m->layers[i].digest);
		if (again || imagefile_exists(done) || imagefile_exists(have))
			continue;
		pa.jobs[pa.njobs++].idx = i;
	}
	int rc = 0;
	if (pa.njobs > 0) {
		pthread_mutex_init(&pa.mu, NULL);
		size_t nt = pa.njobs < PARALLEL_LAYERS ? pa.njobs : PARALLEL_LAYERS;
		pthread_t th[PARALLEL_LAYERS];
		size_t started = 0;
		for (; started < nt; started++)
			if (pthread_create(&th[started], NULL, layer_worker, &pa) != 0)
				break;
		if (started == 0)
			layer_worker(&pa);
		for (size_t t = 0; t < started; t++)
			pthread_join(th[t], NULL);
		pthread_mutex_destroy(&pa.mu);
		/* the first failure in image order is the one reported */
		for (size_t k = 0; k < pa.njobs; k++) {
			struct layer_job *j = &pa.jobs[k];
			if (j->rc < 0 && rc == 0) {
				rc = j->rc;
				free(*err);
				*err = steal_pointer(&j->err);
			} else if (j->rc == 0) {
				strv_push(&im->placed_layers, im->pc.diff_ids[j->idx] + 7);
				if (im->res)
					im->res->downloaded += m->layers[j->idx].size;
			}
			free(j->err);
		}
	}
	free(pa.jobs);
	return rc;
}

int imagepull_ingest(struct image_store *st, struct import *im, const struct desc *top, char **err)
{
	int rc;
	cleanup_free char *tblobs = xasprintf("%s/blobs", im->tmpdir);
	if ((rc = resolve_manifest(im, top, err)) < 0)
		return rc;
	if (im->want.digest && strcmp(im->want.digest, im->manifest_digest) != 0 &&
	    (!im->index_digest || strcmp(im->want.digest, im->index_digest) != 0))
		return fail(
		    err, -EBADMSG, "the reference asks for digest \"%s\", but the image is \"%s\"",
		    im->want.digest, im->index_digest ? im->index_digest : im->manifest_digest);

	/* The config. */
	struct manifest *m = &im->m;
	char *cbuf;
	size_t clen;
	if ((rc = im_json(im, IMAGE_BLOB_CONFIG, m->config.digest, m->config.size, MAX_CONFIG_BLOB,
			  m->config.media_type, &cbuf, &clen, err)) < 0) {
		image_err_prefix(err, "image config");
		return rc;
	}
	struct jblob *jb = &im->jb[im->njb++];
	memcpy(jb->digest, m->config.digest, SHA256_DIGEST_LEN + 1);
	jb->buf = cbuf;
	jb->len = clen;
	if ((rc = image_parse_config(cbuf, clen, &im->pc, err)) < 0)
		return rc;
	if (im->pc.os && strcmp(im->pc.os, "linux") != 0)
		return fail(err, -ENOEXEC, "the image is for os \"%s\", not linux", im->pc.os);
	if (im->pc.arch && strcmp(im->pc.arch, HOST_ARCH) != 0)
		return fail(err, -ENOEXEC,
			    "the image is for architecture \"%s\", this machine is %s", im->pc.arch,
			    HOST_ARCH);
	if (im->pc.ndiff != m->nlayers)
		return fail(err, -EINVAL, "the manifest has %zu layers but the config %zu diff_ids",
			    m->nlayers, im->pc.ndiff);
	for (size_t i = 0; i < m->nlayers; i++)
		if (unpack_compression(m->layers[i].media_type) == UNPACK_COMP_BAD)
			return fail(err, -ENOTSUP, "layer %zu: unsupported media type \"%s\"", i,
				    m->layers[i].media_type ? m->layers[i].media_type : "(none)");

	/* The small blobs, verified above, from memory. */
	for (size_t i = 0; i < im->njb; i++) {
		cleanup_free char *dst = xasprintf("%s/%s", tblobs, im->jb[i].digest + 7);
		cleanup_free char *have = xasprintf("%s/%s", st->blobs, im->jb[i].digest + 7);
		if (imagefile_exists(have) || imagefile_exists(dst))
			continue;
		int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return fail(err, -errno, "create \"%s\": %s", dst, strerror(errno));
		rc = imagefile_write_all(fd, im->jb[i].buf, im->jb[i].len);
		close(fd);
		if (rc < 0)
			return fail(err, rc, "write \"%s\": %s", dst, strerror(-rc));
	}

	/* Layers: one download and one unpack per layer, even across pulls. */
	if ((rc = lock_layers(st, im, err)) < 0)
		return rc;
	im->prog_total = 0;
	for (size_t i = 0; i < m->nlayers; i++) {
		cleanup_free char *have = xasprintf("%s/%s", st->blobs, m->layers[i].digest + 7);
		cleanup_free char *ldir = xasprintf("%s/%s", st->layers, im->pc.diff_ids[i] + 7);
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(m->layers[k].digest, m->layers[i].digest) == 0;
		if (!dup && !imagefile_exists(have) && !(im->src && imagefile_exists(ldir)))
			im->prog_total += m->layers[i].size;
	}
	if (im->src && im->src->progress)
		im->src->progress(im->src->arg, 0, im->prog_total);
	if (im->src && (rc = fetch_layers_parallel(st, im, err)) < 0)
		return rc;
	for (size_t i = 0; i < m->nlayers; i++) {
		const struct desc *l = &m->layers[i];
		const char *hex = l->digest + 7, *dhex = im->pc.diff_ids[i] + 7;
		cleanup_free char *have = xasprintf("%s/%s", st->blobs, hex);
		cleanup_free char *src = NULL;
		cleanup_free char *done = xasprintf("%s/%s", st->layers, dhex);
		cleanup_free char *dest = xasprintf("%s/layer-%s", im->tmpdir, dhex);
		bool placed = false;
		for (size_t k = 0; k < im->placed_layers.n; k++)
			placed |= strcmp(im->placed_layers.v[k], dhex) == 0;
		bool need_unpack = !placed && !imagefile_exists(done);
		if (im->src && !need_unpack)
			continue; /* a pull needs no blob of a layer the store has */
		if (imagefile_exists(have)) {
			src = steal_pointer(&have);
		} else {
			src = xasprintf("%s/%s", tblobs, hex);
			if (!imagefile_exists(src)) {
				int sv[2] = {-1, -1};
				struct stream_unpack su = {.st = st,
							   .mt = l->media_type,
							   .dest = dest,
							   .diff_id = im->pc.diff_ids[i]};
				pthread_t th;
				bool streamed = false;
				if (im->src && need_unpack &&
				    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
					su.fd = sv[1];
					if (pthread_create(&th, NULL, stream_unpack_thread, &su) ==
					    0) {
						streamed = true;
					} else {
						close(sv[0]);
						close(sv[1]);
						sv[0] = -1;
					}
				}
				rc = im_layer_blob(st, im, l, streamed ? NULL : src,
						   streamed ? sv[0] : -1, err);
				if (streamed) {
					pthread_join(th, NULL);
					if (rc == 0 && su.rc < 0) {
						rc = su.rc;
						free(*err);
						*err = steal_pointer(&su.err);
						imagefile_rm_rf(dest);
						image_err_prefix(err, "layer %zu (\"%s\")", i,
								 l->digest);
						return rc;
					}
					free(su.err);
					if (rc < 0)
						imagefile_rm_rf(dest);
				}
				if (rc < 0) {
					image_err_prefix(err, "layer %zu", i);
					return rc;
				}
				if (im->res)
					im->res->downloaded += l->size;
				if (streamed) {
					strv_push(&im->placed_layers, dhex);
					continue;
				}
			}
		}
		if (!need_unpack)
			continue;
		rc = layer_unpack(st, src, l->media_type, dest, im->pc.diff_ids[i], err);
		if (rc < 0) {
			imagefile_rm_rf(dest);
			image_err_prefix(err, "layer %zu (\"%s\")", i, l->digest);
			return rc;
		}
		strv_push(&im->placed_layers, dhex);
	}
	if (im->res) {
		im->res->digest = xstrdup(im->manifest_digest);
		im->res->size = m->config.size;
		for (size_t i = 0; i < m->nlayers; i++)
			im->res->size += m->layers[i].size;
	}
	return image_commit(st, im, err);
}

int image_ingest(struct image_store *st, const char *ref, const char *top, size_t len,
		 const char *media_type, const struct image_source *src,
		 struct image_ingest_result *res, char **err)
{
	struct import im = {
	    .src = src, .top_buf = top, .top_len = len, .pulled = true, .res = res, .tmpfd = -1};
	pthread_mutex_init(&im.prog_mu, NULL);
	im.prog_mu_init = true;
	struct guard g = {0};
	struct desc d = {0};
	char dg[SHA256_DIGEST_LEN + 1];
	int rc;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	if ((rc = imageref_parse(ref, &im.want, err)) < 0)
		return rc;
	im.have_want = true;
	sha256_buf(top, len, dg);
	d.digest = dg;
	d.size = (int64_t)len;
	d.media_type = (char *)media_type;
	if ((rc = image_guard_enter(st, false, &g, err)) == 0) {
		rc = image_make_tmpdir(st, &im, err);
		if (rc == 0)
			rc = imagepull_ingest(st, &im, &d, err);
		image_import_free(&im);
		image_guard_leave(&g);
	} else {
		image_import_free(&im);
	}
	if (rc < 0) {
		free(res->digest);
		res->digest = NULL;
	}
	return rc;
}

static char *ref_lock_path(struct image_store *st, const char *ref)
{
	char dg[SHA256_DIGEST_LEN + 1];
	sha256_buf(ref, strlen(ref), dg);
	return xasprintf("%s/locks/ref-%s", st->root, dg + 7);
}

int image_lock_ref(struct image_store *st, const char *ref, char **err)
{
	cleanup_free char *dir = xasprintf("%s/locks", st->root);
	int rc = imagefile_mkdir_p(dir, 0700);
	if (rc < 0)
		return fail(err, rc, "mkdir \"%s\": %s", dir, strerror(-rc));
	cleanup_free char *p = ref_lock_path(st, ref);
	int fd = image_flock_open(p, LOCK_EX);
	if (fd < 0)
		return fail(err, fd, "lock \"%s\": %s", p, strerror(-fd));
	return fd;
}

void image_unlock_ref(struct image_store *st, const char *ref, int fd)
{
	cleanup_free char *p = ref_lock_path(st, ref);
	image_flock_drop(p, fd);
}
