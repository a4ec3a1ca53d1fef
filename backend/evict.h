/* evict.h: local ephemeral storage eviction, as the kubelet's eviction
 * manager does it (localStorageEviction, every 10 s). A pod is evicted
 * when a disk emptyDir holds more than its sizeLimit, when its containers'
 * writable layers, logs and disk emptyDirs together pass the sum of their
 * ephemeral-storage limits, or when one container's writable layer and log
 * pass its own limit. Static pods are never evicted (the kubelet treats
 * them as critical). The decision is a pure function, for the unit tests;
 * the thread measures with a walk that never follows a symlink. */
#ifndef PODFS_EVICT_H
#define PODFS_EVICT_H

#include <stdint.h>

struct backend;
struct spec_pod;

/* What was measured, in bytes; -1 where nothing was measured.
 * vol[i]: spec volume i (disk emptyDirs only); ctr[i]: container i, init
 * containers first (writable layer + current log). */
struct evict_usage {
	const int64_t *vol;
	const int64_t *ctr;
};

/* The kubelet's eviction message for SPEC with usage U ("Usage of EmptyDir
 * volume \"cache\" exceeds the limit \"1Mi\". "), or NULL if the pod stays.
 * Checked in the kubelet's order: emptyDirs, the pod, each container. */
char *evict_decide(const struct spec_pod *spec, const struct evict_usage *u);

/* Bytes of disk used under PATH, from st_blocks as du counts them (a hard
 * link counts at each of its names). Symlinks are counted, never followed;
 * the walk stays on PATH's file system and stops 128 levels down; 0 if PATH
 * is missing. */
int64_t evict_du(const char *path);

/* The monitoring thread; evict_stop joins it. INTERVAL_MS: how often. */
struct evictor;
struct evictor *evict_start(struct backend *b, int interval_ms);
void evict_stop(struct evictor *e);

#endif
