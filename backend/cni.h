/* cni.h: the pod network. podfs runs the CNI plugins itself, as a container
 * runtime does per the CNI spec (containerd's RunPodSandbox): a loopback
 * network and a bridge + host-local network on the pod CIDR, ADD before the
 * infra container starts, DEL (in reverse order, with the saved result as
 * prevResult) when the sandbox goes. Each ADD is first recorded in a file
 * (the record) and its results saved there, so DEL works after a failed
 * ADD, after a crash in the middle of one, and after podfs restarts.
 *
 * Several podfs daemons may share a machine (one per state dir): the
 * network, its bridge and host-local's lease directory are named after the
 * CIDR and live under one shared directory, and one lock file per network
 * serialises every ADD and DEL across daemons, so two daemons on one CIDR
 * never lease the same address and a bridge is removed only when no pod of
 * any daemon is attached to it.
 *
 * podfs never enables IP forwarding or NAT: the bridge plugin runs with
 * isGateway false (it would switch on net.ipv4.ip_forward), podfs gives the
 * bridge the gateway address itself, and pods get a route to the node's
 * address only. Pods reach the node and each other; nothing is routed off
 * the machine. */
#ifndef PODFS_CNI_H
#define PODFS_CNI_H

#include <stdbool.h>

#define CNI_DEFAULT_CIDR    "10.88.0.0/16"
#define CNI_DEFAULT_BIN_DIR "/usr/lib/cni"
#define CNI_SHARED_DIR	    "/run/podfs/cni"
#define CNI_VERSION	    "1.0.0"
/* Bridges podfs makes are named CNI_BRIDGE_PREFIX + 8 hex digits. */
#define CNI_BRIDGE_PREFIX "podfs"

/* The pod network of one podfs, from --pod-cidr. */
struct cni_net {
	char *cidr;	  /* canonical: "10.88.0.0/16" */
	char *name;	  /* the CNI network name: "podfs-10.88.0.0-16" */
	char *bridge;	  /* "podfs" + 8 hex digits of the CIDR's hash */
	char *gateway;	  /* the bridge's address: "10.88.0.1" */
	int prefix;	  /* 16 */
	char *bin_dir;	  /* where the plugins are (CNI_PATH) */
	char *shared_dir; /* lock files and host-local's dataDir (ipam/) */
	char *host_ip;	  /* the node's address, routed to the pods; "" for none */
	/* podfs gives the bridge its address and removes it when no pod is
	 * attached; false only in unit tests, whose fake plugins make none */
	bool own_bridge;
	int timeout_ms; /* per plugin call; the plugin is killed after it */
};

/* The pod a network is set up for. */
struct cni_pod {
	const char *container_id; /* the sandbox's (infra container's) id */
	const char *netns;	  /* the pinned network namespace */
	const char *name, *namespace, *uid;
};

/* Check an IPv4 CIDR for --pod-cidr: a.b.c.d/N with N from 8 to 30, no host
 * bits set, not in 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16 or 224.0.0.0/3.
 * 0 and the canonical form in *canon (may be NULL), or -EINVAL and *err. */
int cni_parse_cidr(const char *s, char **canon, char **err);

/* Fill N for CIDR (validated as above). BIN_DIR and SHARED_DIR NULL mean
 * the defaults; HOST_IP may be NULL or "". Refuses a CIDR that overlaps an
 * address of one of the node's interfaces (other than its own bridge).
 * 0, or -EINVAL and *err. */
int cni_net_init(struct cni_net *n, const char *cidr, const char *bin_dir, const char *shared_dir,
		 const char *host_ip, char **err);
void cni_net_fini(struct cni_net *n);

/* ADD: record the attempt in RECORD (a file path), run the loopback
 * network then the pod network, save their results in RECORD, and return
 * the pod's IPs on eth0 (IPv4 first; NULL-terminated, free with
 * cni_ips_free). On failure DEL is run at once for what was set up (the
 * record is kept if that DEL fails too) and -EIO is returned with *err in
 * containerd's words: failed to setup network for sandbox "ID": plugin
 * type="bridge" name="podfs-..." failed (add): MESSAGE. */
int cni_add(const struct cni_net *n, const struct cni_pod *pod, const char *record, char ***ips,
	    char **err);
/* DEL everything RECORD says was set up, networks and plugins in reverse
 * order, each with its network's saved result as prevResult; then remove
 * the bridge if no pod is left on it, and remove RECORD. Plugins accept
 * repeated DELs, so this may run any number of times; no RECORD: 0.
 * -EIO with *err (RECORD kept) if a plugin failed: the others still ran. */
int cni_del(const struct cni_net *n, const char *record, char **err);
/* A record whose DEL failed outlives its pod's run dir here: move RECORD
 * into DIR (made if needed); cni_retry_parked runs DEL again for every
 * record in DIR and drops those that succeed (podfs calls it on each
 * sandbox teardown). */
void cni_park(const char *record, const char *dir);
void cni_retry_parked(const struct cni_net *n, const char *dir);
/* The pod IPs saved in RECORD: 0 and *ips, or -ENOENT (no record, or no
 * successful ADD in it). */
int cni_record_ips(const char *record, char ***ips);
void cni_ips_free(char **ips);
/* Is NAME (an interface) a bridge podfs makes? */
bool cni_is_podfs_bridge(const char *name);

/* ---- Internal, exposed for tests (tests/unit/test_cni.c) ---------------- */

/* The pod network's conflist (JSON) and the loopback network's. */
char *cni_conflist(const struct cni_net *n);
char *cni_loopback_conflist(void);
/* The stdin of plugin INDEX of CONFLIST per the spec: the plugin's own
 * object with cniVersion and name inserted, capabilities removed, and
 * PREV_RESULT (JSON, may be NULL) as prevResult. NULL and *err if CONFLIST
 * is not a conflist or INDEX is out of range. */
char *cni_plugin_stdin(const char *conflist, int index, const char *prev_result, char **err);
/* The number of plugins in CONFLIST and the type of plugin INDEX (NULL if
 * none or not a plain file name). Caller frees. */
int cni_plugin_count(const char *conflist);
char *cni_plugin_type(const char *conflist, int index);
/* The addresses (without prefix length) of RESULT's ips[] on the interface
 * IFNAME inside the sandbox (an entry without an interface index counts
 * too), IPv4 first. 0 and *ips, or -EINVAL and *err (not a result, or no
 * address for IFNAME). */
int cni_result_ips(const char *result, const char *ifname, char ***ips, char **err);
/* CNI_ARGS for POD, as containerd passes them. Caller frees. */
char *cni_args(const struct cni_pod *pod);
/* A failed plugin's message: the error JSON's msg (and details), else its
 * stderr or stdout, else the exit status. Caller frees. */
char *cni_error_message(const char *out, const char *errout, int status);

#endif
