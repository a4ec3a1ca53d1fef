/* nodes.c: the node table (see nodes.h): a hash of path keys to nodes and
 * an array of nodes by inode number, with freed numbers kept for reuse. */
#include "fs/nodes.h"
#include "backend/util.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	pthread_mutex_t lock;
	struct node **byino; /* NULL: a free inode number */
	uint64_t *gens;	     /* per inode number: the last generation given out */
	size_t nino, capino;
	uint64_t *free_inos;
	size_t nfree, capfree;
	struct node **hash;
	size_t hcap;
} T = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct node *hash_find(const char *key, uint64_t h)
{
	for (struct node *n = T.hash[h]; n; n = n->hnext)
		if (!strcmp(n->key, key))
			return n;
	return NULL;
}

/* The node of KEY, made if need be. T.lock held; KEY is taken. */
static struct node *node_locked(char *key, enum nkind kind, const char *pod,
				const char *container, enum backend_file file, uint64_t sid)
{
	if (!T.hash) {
		T.hcap = 4096;
		T.hash = xcalloc(T.hcap, sizeof(*T.hash));
	}
	uint64_t h = hash_str(key) % T.hcap;
	struct node *n = hash_find(key, h);
	if (n) {
		free(key);
		return n;
	}
	n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->pod = pod ? xstrdup(pod) : NULL;
	n->container = container ? xstrdup(container) : NULL;
	n->file = file;
	n->sid = sid;
	n->key = key;
	n->hnext = T.hash[h];
	T.hash[h] = n;
	if (T.nfree) {
		/* a number the kernel forgot; a new generation tells them apart */
		n->ino = T.free_inos[--T.nfree];
	} else {
		if (T.nino == T.capino) {
			T.capino = T.capino ? T.capino * 2 : 1024;
			T.byino = xrealloc(T.byino, T.capino * sizeof(*T.byino));
			T.gens = xrealloc(T.gens, T.capino * sizeof(*T.gens));
		}
		/* inode 1 is the root (FUSE_ROOT_ID) */
		n->ino = ++T.nino;
		T.gens[n->ino - 1] = 0;
	}
	n->gen = ++T.gens[n->ino - 1];
	T.byino[n->ino - 1] = n;
	return n;
}

struct node *nodes_get(enum nkind kind, const char *pod, const char *container,
		       enum backend_file file)
{
	char *key = xasprintf("%d/%s/%s/%d", (int)kind, pod ? pod : "", container ? container : "",
			      (int)file);
	pthread_mutex_lock(&T.lock);
	struct node *n = node_locked(key, kind, pod, container, file, 0);
	pthread_mutex_unlock(&T.lock);
	return n;
}

struct node *nodes_scratch(const char *pod, uint64_t sid, bool count)
{
	char *key = xasprintf("%d/%s/%" PRIu64, (int)N_SCRATCH, pod, sid);
	pthread_mutex_lock(&T.lock);
	struct node *n = node_locked(key, N_SCRATCH, pod, NULL, 0, sid);
	if (count)
		n->nlookup++;
	pthread_mutex_unlock(&T.lock);
	return n;
}

uint64_t nodes_scratch_ino(const char *pod, uint64_t sid)
{
	char *key = xasprintf("%d/%s/%" PRIu64, (int)N_SCRATCH, pod, sid);
	pthread_mutex_lock(&T.lock);
	struct node *n = T.hash ? hash_find(key, hash_str(key) % T.hcap) : NULL;
	uint64_t ino = n ? n->ino : NODES_INO_UNKNOWN;
	pthread_mutex_unlock(&T.lock);
	free(key);
	return ino;
}

static void node_free(struct node *n)
{
	free(n->pod);
	free(n->container);
	free(n->key);
	free(n);
}

void nodes_forget(uint64_t ino, uint64_t nlookup)
{
	pthread_mutex_lock(&T.lock);
	struct node *n = ino >= 1 && ino <= T.nino ? T.byino[ino - 1] : NULL;
	if (n && n->kind == N_SCRATCH) {
		n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
		if (n->nlookup == 0) {
			uint64_t h = hash_str(n->key) % T.hcap;
			struct node **pp = &T.hash[h];
			while (*pp != n)
				pp = &(*pp)->hnext;
			*pp = n->hnext;
			T.byino[ino - 1] = NULL;
			if (T.nfree == T.capfree) {
				T.capfree = T.capfree ? T.capfree * 2 : 64;
				T.free_inos = xrealloc(T.free_inos, T.capfree * sizeof(*T.free_inos));
			}
			T.free_inos[T.nfree++] = ino;
			node_free(n);
		}
	}
	pthread_mutex_unlock(&T.lock);
}

struct node *nodes_by_ino(uint64_t ino)
{
	pthread_mutex_lock(&T.lock);
	struct node *n = ino >= 1 && ino <= T.nino ? T.byino[ino - 1] : NULL;
	pthread_mutex_unlock(&T.lock);
	return n;
}

void nodes_free_all(void)
{
	pthread_mutex_lock(&T.lock);
	for (size_t i = 0; i < T.nino; i++)
		if (T.byino[i])
			node_free(T.byino[i]);
	free(T.byino);
	free(T.gens);
	free(T.free_inos);
	free(T.hash);
	T.byino = NULL;
	T.gens = NULL;
	T.free_inos = NULL;
	T.hash = NULL;
	T.nino = T.capino = T.nfree = T.capfree = T.hcap = 0;
	pthread_mutex_unlock(&T.lock);
}
