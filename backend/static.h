/* static.h: static pods from a manifest directory (--manifest-dir), as the
 * kubelet's --pod-manifest-path. Owns the directory watch (inotify, plus a
 * full rescan every 20 s) and the list of files it could not use; the pods
 * themselves are ordinary pods of the backend marked with their source
 * file (pod->static_src). Internal to backend/. */
#ifndef PODFS_STATIC_H
#define PODFS_STATIC_H

#include <stdbool.h>
#include <stddef.h>

struct backend;
struct pod;
struct strbuf;

#define STATIC_RESCAN_MS 20000 /* kubelet's fileCheckFrequency */

struct static_dir;

/* Watch DIR and keep the static pods equal to its manifests; the first scan
 * runs at once (it also deletes static pods whose file went away while
 * podfs was down). -errno with *err if DIR is not a directory. */
int static_start(struct backend *b, const char *dir, struct static_dir **out, char **err);
void static_stop(struct static_dir *s);

/* Without --manifest-dir: static pods of an earlier run have no source any
 * more and are deleted, as the kubelet kills pods no source lists. Lock held. */
void static_forget_all(struct backend *b);

/* Lines for the node file: the directory, its pod count, the files skipped
 * and why. Nothing without --manifest-dir. Lock held. */
void static_node_text(struct backend *b, struct strbuf *sb);

/* kubernetes.io/config.hash of a static pod: 32 hex digits of SHA-256 over
 * the manifest and the node name (the file's path is left out, so moving
 * a file changes nothing). */
void static_config_hash(const struct backend *b, const struct pod *p, char out[33]);

/* Is NAME a file podfs never reads as a manifest? Dotfiles (the kubelet's
 * rule, which covers vim's .swp) and editor and package-manager leftovers:
 * NAME~, #NAME#, *.swp .swo .swx .bak .tmp .orig .rej .save .dpkg-* .rpmnew
 * .rpmsave .ucf-*, and vim's write test file 4913. */
bool static_ignored_name(const char *name);

/* "NAME-NODENAME" as the kubelet names static pods (node name lowercased),
 * or NULL if that is not a DNS-1123 label (podfs's pod names are). */
char *static_pod_name(const char *name, const char *node);

#endif
