/* oci.h: OCI runtime configs (config.json) for a pod's infra container and
 * its init and app containers, and the Kubernetes rules that shape a
 * container's process (command/args vs the image's Entrypoint/Cmd, the
 * environment with $(VAR) expansion and downward-API values, the user).
 * Pure functions: no runc calls, no state; they read the container's rootfs
 * only to resolve user names in /etc/passwd and /etc/group. */
#ifndef PODFS_OCI_H
#define PODFS_OCI_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/image.h"
#include "backend/spec.h"

/* Where the pod's shared pieces live on the host. */
struct oci_pod {
	const char *hostname;		 /* set on the infra container only */
	const char *netns_path;		 /* pinned network namespace; NULL with hostNetwork */
	const char *ipc_path, *uts_path; /* pinned from the infra container (apps only) */
	const char *pid_path;		 /* shareProcessNamespace: the infra's pid ns; else NULL */
	const char *hosts_path, *hostname_path, *resolv_path; /* bind-mounted files */
	const char *shm_path;				      /* the pod's /dev/shm tmpfs */
	const char *cgroup_parent; /* "/podfs/<pod-uid>"; each container adds "/<id>" */
	const char *termlog_path; /* host file bound at terminationMessagePath (containers) */
	/* process.oomScoreAdj (the kubelet's value, clamped to what runc can
	 * set here: see res_oom_floor); unset: inherited */
	bool has_oom_score_adj;
	int oom_score_adj;
	/* memory.swap = memory.limit (no swap, the kubelet's NoSwap); only
	 * where the host accounts swap (v1 memsw), or runc would fail */
	bool no_swap;
	/* containers: per volumeMount, the host path to bind instead of the
	 * volume's own (a subPath resolved by volume.c); NULL or NULL entries:
	 * the volume path, joined with the subPath */
	char *const *mount_sources;
};

/* Facts the downward API and resourceFieldRef need. NULL strings fall back
 * to the spec (metadata.name, ...) or "". */
struct oci_facts {
	const char *pod_name, *namespace, *pod_uid, *node_name, *service_account;
	const char *pod_ip, *host_ip;	     /* "" when unknown */
	int64_t node_milli_cpu, node_memory; /* allocatable, for refs with no limit */
	int64_t node_ephemeral_storage;	     /* allocatable ephemeral storage, bytes */
	/* HOSTNAME in the env; NULL: spec.hostname or the pod name (cut to 63
	 * characters), or the node's hostname with hostNetwork */
	const char *hostname;
};

/* The infra container: ROOTFS holds only /catatonit (read-only); runs
 * `catatonit -P` as 65535:65535 with no capabilities, new pid, ipc, uts and
 * mount namespaces, the pod's network namespace (none with hostNetwork:
 * NULL netns_path), hostname set when pod->hostname is. ID names the cgroup
 * leaf under pod->cgroup_parent. Caller frees. */
char *oci_infra_config(const struct oci_pod *pod, const char *rootfs, const char *id);

/* The container's final environment as "K=V" strings, in containerd's
 * order: a default PATH, HOSTNAME, the image's Env, then the pod's env in
 * order; a later name replaces an earlier one in its place. A value's
 * $(VAR) is expanded as the kubelet does, against the pod's env entries
 * before it (not the image's Env, which the kubelet never sees: an
 * unresolved reference stays as written); valueFrom is resolved from
 * FACTS (may be NULL) and not expanded. NULL-terminated; free with oci_strv_free. -EINVAL and *err
 * for a reference that cannot be resolved. IMG may be NULL. */
int oci_container_env(const struct spec_pod *spec, const struct spec_container *c,
		      const struct image_config *img, const struct oci_facts *facts, char ***env,
		      char **err);

/* The process args by Kubernetes' rules (command/args over Entrypoint/Cmd;
 * an Entrypoint of [""] is none). The pod's command and args are expanded
 * against the final values in ENV (may be NULL) of the variables the
 * container's env declares; the image's Entrypoint and Cmd are not
 * expanded, as in Kubernetes. -EINVAL and *err if the result is empty. */
int oci_process_args(const struct spec_container *c, const struct image_config *img,
		     char *const *env, char ***args, char **err);

/* A full config.json for an init or app container, from ENV as
 * oci_container_env made it. VOLUME_PATHS[i] is the host directory (or
 * file) backing spec->volumes[i]. Returns 0 and the JSON in *json, or
 * -EINVAL and *err (no command, an unknown user or group name, a
 * runAsNonRoot violation, an unknown capability, a volume without a path),
 * or -EPERM for a capability podfs itself does not have. */
int oci_container_config(const struct oci_pod *pod, const struct spec_pod *spec,
			 const struct spec_container *c, const struct image_config *img,
			 const char *rootfs, const char *id, char *const *env,
			 const char *const *volume_paths, char **json, char **err);

void oci_strv_free(char **v);

/* Tests only: resolve paths inside a rootfs by hand, as on kernels without
 * openat2 (before 5.6), instead of with RESOLVE_IN_ROOT. */
extern bool oci_no_openat2;

#endif
