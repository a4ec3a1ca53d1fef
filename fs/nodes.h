/* nodes.h: the mount's node table. It owns the mapping between the tree's
 * nodes, each a (kind, pod, container, file) tuple, and the inode numbers
 * the kernel knows them by: a path keeps its number for the mount's life,
 * and a number freed and reused gets a new generation. Thread-safe. */
#ifndef PODFS_FS_NODES_H
#define PODFS_FS_NODES_H

#include "backend/backend.h"

#include <stdbool.h>
#include <stdint.h>

enum nkind {
	N_ROOT,
	N_PODS,
	N_POD,
	N_POD_FILE,
	N_CONTAINERS,
	N_CONTAINER,
	N_CFILE,
	N_TOP_FILE,
	N_SCRATCH, /* an editor's file in a pod directory */
};

struct node {
	uint64_t ino; /* 2 and up: 1 is the root, FUSE_ROOT_ID */
	enum nkind kind;
	char *pod, *container;
	enum backend_file file;
	uint64_t sid; /* N_SCRATCH: the scratch file's id */
	/* N_SCRATCH nodes live as long as the kernel knows them (lookups
	 * minus forgets), so a mount that sees a million `sed -i` keeps no
	 * million nodes; every other node lives for the mount's life. */
	uint64_t nlookup;
	uint64_t gen;
	char *key;
	struct node *hnext;
};

/* The node of a path of the tree (any kind but N_SCRATCH), made on first
 * use; the first node made is number 1, so the root must come first. Never freed: its number keeps meaning the same path (the kernel may
 * still hold it after a pod goes). */
struct node *nodes_get(enum nkind kind, const char *pod, const char *container,
		       enum backend_file file);

/* The node of scratch file SID in POD's directory; with COUNT, one more
 * lookup the kernel will forget (an entry reply follows). */
struct node *nodes_scratch(const char *pod, uint64_t sid, bool count);

/* The number a directory listing shows for scratch file SID: its node's if
 * the kernel knows it, else NODES_INO_UNKNOWN (a listing makes no lookup
 * the kernel would forget, so it must not make a node). */
#define NODES_INO_UNKNOWN 0xffffffffu
uint64_t nodes_scratch_ino(const char *pod, uint64_t sid);

/* The kernel dropped NLOOKUP references to INO: a scratch node nobody
 * knows any more is freed and its number reused. */
void nodes_forget(uint64_t ino, uint64_t nlookup);

/* The node numbered INO, or NULL. */
struct node *nodes_by_ino(uint64_t ino);

/* Frees every node (tests; the mount keeps its table for its life). */
void nodes_free_all(void);

#endif
