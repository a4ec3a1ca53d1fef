/* cni.c: see cni.h. */
#include "backend/cni.h"
#include "backend/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define OUTPUT_MAX (1024 * 1024) /* a plugin's stdout or stderr kept */

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- addresses ------------------------------------------------------------ */

static uint32_t mask_of(int prefix)
{
	return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

static void v4_format(uint32_t a, char *buf, size_t len)
{
	struct in_addr in = {.s_addr = htonl(a)};
	inet_ntop(AF_INET, &in, buf, (socklen_t)len);
}

static int parse_cidr(const char *s, uint32_t *addr, int *prefix, char **err)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || slash - s > 15 || !slash[1] || strlen(slash + 1) > 2) {
		*err = xasprintf("invalid CIDR address: %s", s);
		return -EINVAL;
	}
	char host[16];
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	struct in_addr in;
	if (inet_pton(AF_INET, host, &in) != 1) {
		*err = xasprintf("invalid CIDR address: %s (IPv4 a.b.c.d/N)", s);
		return -EINVAL;
	}
	int p = 0;
	for (const char *c = slash + 1; *c; c++) {
		if (*c < '0' || *c > '9') {
			*err = xasprintf("invalid CIDR address: %s", s);
			return -EINVAL;
		}
		p = p * 10 + (*c - '0');
	}
	*addr = ntohl(in.s_addr);
	*prefix = p;
	return 0;
}

static bool overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
	uint32_t m = mask_of(pa < pb ? pa : pb);
	return (a & m) == (b & m);
}

int cni_parse_cidr(const char *s, char **canon, char **err)
{
	uint32_t a;
	int p;
	if (parse_cidr(s, &a, &p, err) < 0)
		return -EINVAL;
	if (p < 8 || p > 30) {
		*err = xasprintf("%s: the prefix length must be from 8 to 30 (a gateway and at "
				 "least one pod address)",
				 s);
		return -EINVAL;
	}
	if (a & ~mask_of(p)) {
		char net[INET_ADDRSTRLEN];
		v4_format(a & mask_of(p), net, sizeof(net));
		*err = xasprintf("%s: network has host bits set; for a prefix length of %d the "
				 "network address is %s",
				 s, p, net);
		return -EINVAL;
	}
	static const struct {
		uint32_t a;
		int p;
		const char *what;
	} reserved[] = {
	    {0x00000000u, 8, "0.0.0.0/8 (this network)"},
	    {0x7f000000u, 8, "127.0.0.0/8 (loopback)"},
	    {0xa9fe0000u, 16, "169.254.0.0/16 (link-local)"},
	    {0xe0000000u, 3, "224.0.0.0/3 (multicast and reserved)"},
	};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (overlaps(a, p, reserved[i].a, reserved[i].p)) {
			*err = xasprintf("%s: overlaps %s", s, reserved[i].what);
			return -EINVAL;
		}
	if (canon) {
		char net[INET_ADDRSTRLEN];
		v4_format(a, net, sizeof(net));
		*canon = xasprintf("%s/%d", net, p);
	}
	return 0;
}

bool cni_is_podfs_bridge(const char *name)
{
	size_t l = strlen(CNI_BRIDGE_PREFIX);
	if (strncmp(name, CNI_BRIDGE_PREFIX, l) || strlen(name) != l + 8)
		return false;
	for (const char *c = name + l; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/* FNV-1a: a stable short name for a CIDR (interface names are 15 bytes). */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

int cni_net_init(struct cni_net *n, const char *cidr, const char *bin_dir, const char *shared_dir,
		 const char *host_ip, char **err)
{
	memset(n, 0, sizeof(*n));
	char *canon = NULL;
	if (cni_parse_cidr(cidr, &canon, err) < 0)
		return -EINVAL;
	uint32_t a;
	int p;
	parse_cidr(canon, &a, &p, err);
	n->cidr = canon;
	n->prefix = p;
	n->name = xasprintf("podfs-%s", canon);
	*strchr(n->name, '/') = '-';
	n->bridge = xasprintf(CNI_BRIDGE_PREFIX "%08x", fnv1a(canon));
	char gw[INET_ADDRSTRLEN];
	v4_format(a + 1, gw, sizeof(gw));
	n->gateway = xstrdup(gw);
	n->bin_dir = xstrdup(bin_dir ? bin_dir : CNI_DEFAULT_BIN_DIR);
	n->shared_dir = xstrdup(shared_dir ? shared_dir : CNI_SHARED_DIR);
	n->host_ip = xstrdup(host_ip ? host_ip : "");
	n->own_bridge = true;
	n->timeout_ms = 60000;
	/* a pod range over an address the node already has would take that
	 * network's traffic to the bridge */
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
			    !strcmp(i->ifa_name, n->bridge))
				continue;
			uint32_t ia = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
			uint32_t im =
			    ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
			int ip = __builtin_popcount(im);
			if (overlaps(a, p, ia, ip)) {
				char s[INET_ADDRSTRLEN];
				v4_format(ia, s, sizeof(s));
				*err = xasprintf("pod CIDR %s overlaps %s/%d on interface %s",
						 canon, s, ip, i->ifa_name);
				freeifaddrs(ifs);
				cni_net_fini(n);
				return -EINVAL;
			}
		}
		freeifaddrs(ifs);
	}
	return 0;
}

void cni_net_fini(struct cni_net *n)
{
	if (!n)
		return;
	free(n->cidr);
	free(n->name);
	free(n->bridge);
	free(n->gateway);
	free(n->bin_dir);
	free(n->shared_dir);
	free(n->host_ip);
	memset(n, 0, sizeof(*n));
}

/* ---- configs -------------------------------------------------------------- */

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (!s)
		abort(); /* only out of memory */
	char *r = xstrdup(s);
	free(s);
	return r;
}

char *cni_conflist(const struct cni_net *n)
{
	json_t *routes = json_array();
	if (n->host_ip && *n->host_ip)
		json_array_append_new(routes, json_pack("{s:s+}", "dst", n->host_ip, "/32"));
	char *data_dir = xasprintf("%s/ipam", n->shared_dir);
	json_t *ipam =
	    json_pack("{s:s,s:[[{s:s,s:s}]],s:o,s:s}", "type", "host-local", "ranges", "subnet",
		      n->cidr, "gateway", n->gateway, "routes", routes, "dataDir", data_dir);
	free(data_dir);
	/* isGateway would make the plugin switch on IP forwarding for the
	 * whole node; podfs gives the bridge its address instead */
	json_t *bridge =
	    json_pack("{s:s,s:s,s:b,s:b,s:b,s:o}", "type", "bridge", "bridge", n->bridge,
		      "isGateway", 0, "ipMasq", 0, "hairpinMode", 1, "ipam", ipam);
	json_t *o = json_pack("{s:s,s:s,s:[o]}", "cniVersion", CNI_VERSION, "name", n->name,
			      "plugins", bridge);
	char *s = dump(o);
	json_decref(o);
	return s;
}

char *cni_loopback_conflist(void)
{
	return xasprintf("{\"cniVersion\":\"%s\",\"name\":\"cni-loopback\","
			 "\"plugins\":[{\"type\":\"loopback\"}]}",
			 CNI_VERSION);
}

static json_t *plugins_of(json_t *conflist)
{
	json_t *pl = json_object_get(conflist, "plugins");
	return json_is_array(pl) ? pl : NULL;
}

int cni_plugin_count(const char *conflist)
{
	json_t *o = json_loads(conflist, 0, NULL);
	json_t *pl = plugins_of(o);
	int n = pl ? (int)json_array_size(pl) : 0;
	json_decref(o);
	return n;
}

static bool plain_name(const char *s)
{
	if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 255)
		return false;
	for (; *s; s++)
		if (*s == '/')
			return false;
	return true;
}

char *cni_plugin_type(const char *conflist, int index)
{
	json_t *o = json_loads(conflist, 0, NULL);
	json_t *pl = plugins_of(o);
	const char *t =
	    pl ? json_string_value(json_object_get(json_array_get(pl, (size_t)index), "type"))
	       : NULL;
	char *r = plain_name(t) ? xstrdup(t) : NULL;
	json_decref(o);
	return r;
}

char *cni_plugin_stdin(const char *conflist, int index, const char *prev_result, char **err)
{
	json_error_t je;
	json_t *o = json_loads(conflist, 0, &je);
	json_t *pl = plugins_of(o);
	json_t *p = pl ? json_array_get(pl, (size_t)index) : NULL;
	if (!json_is_object(p)) {
		*err = o ? xasprintf("no plugin %d in the network configuration", index)
			 : xasprintf("invalid network configuration: %s", je.text);
		json_decref(o);
		return NULL;
	}
	json_t *c = json_deep_copy(p);
	json_object_set(c, "cniVersion", json_object_get(o, "cniVersion"));
	json_object_set(c, "name", json_object_get(o, "name"));
	/* no capability is supplied (no port mappings, bandwidth, ...) */
	json_object_del(c, "capabilities");
	if (prev_result) {
		json_t *pr = json_loads(prev_result, 0, &je);
		if (!pr) {
			*err = xasprintf("invalid previous result: %s", je.text);
			json_decref(c);
			json_decref(o);
			return NULL;
		}
		json_object_set_new(c, "prevResult", pr);
	}
	char *s = dump(c);
	json_decref(c);
	json_decref(o);
	return s;
}

/* ---- results -------------------------------------------------------------- */

void cni_ips_free(char **ips)
{
	if (!ips)
		return;
	for (char **i = ips; *i; i++)
		free(*i);
	free(ips);
}

int cni_result_ips(const char *result, const char *ifname, char ***ips, char **err)
{
	json_error_t je;
	json_t *o = json_loads(result, 0, &je);
	if (!json_is_object(o)) {
		*err = xasprintf("invalid CNI result: %s", o ? "not an object" : je.text);
		json_decref(o);
		return -EINVAL;
	}
	json_t *ifs = json_object_get(o, "interfaces");
	json_t *arr = json_object_get(o, "ips");
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
	char **v4 = xcalloc(n + 1, sizeof(char *)), **v6 = xcalloc(n + 1, sizeof(char *));
	size_t n4 = 0, n6 = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		json_t *idx = json_object_get(e, "interface");
		if (idx) {
			if (!json_is_integer(idx) || json_integer_value(idx) < 0)
				continue;
			json_t *itf = json_array_get(ifs, (size_t)json_integer_value(idx));
			const char *name = json_string_value(json_object_get(itf, "name"));
			const char *sb = json_string_value(json_object_get(itf, "sandbox"));
			if (!name || strcmp(name, ifname) || !sb || !*sb)
				continue;
		}
		const char *addr = json_string_value(json_object_get(e, "address"));
		if (!addr)
			continue;
		const char *slash = strchr(addr, '/');
		size_t len = slash ? (size_t)(slash - addr) : strlen(addr);
		if (len >= INET6_ADDRSTRLEN)
			continue;
		char host[INET6_ADDRSTRLEN];
		memcpy(host, addr, len);
		host[len] = '\0';
		unsigned char bin[16];
		char canon[INET6_ADDRSTRLEN];
		if (inet_pton(AF_INET, host, bin) == 1) {
			inet_ntop(AF_INET, bin, canon, sizeof(canon));
			v4[n4++] = xstrdup(canon);
		} else if (inet_pton(AF_INET6, host, bin) == 1) {
			inet_ntop(AF_INET6, bin, canon, sizeof(canon));
			v6[n6++] = xstrdup(canon);
		}
	}
	json_decref(o);
	if (n4 + n6 == 0) {
		free(v4);
		free(v6);
		*err = xasprintf("the CNI result has no IP address for %s", ifname);
		return -EINVAL;
	}
	memcpy(v4 + n4, v6, n6 * sizeof(char *));
	v4[n4 + n6] = NULL;
	free(v6);
	*ips = v4;
	return 0;
}

char *cni_args(const struct cni_pod *pod)
{
	return xasprintf("IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;"
			 "K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s",
			 pod->namespace ? pod->namespace : "default", pod->name ? pod->name : "",
			 pod->container_id, pod->uid ? pod->uid : "");
}

static char *trim(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n > 4096)
		n = 4096;
	return xstrndup(s, n);
}

char *cni_error_message(const char *out, const char *errout, int status)
{
	json_t *o = out ? json_loads(out, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(o, "msg"));
	if (msg && *msg) { /* an empty msg says nothing: use the output */
		const char *det = json_string_value(json_object_get(o, "details"));
		char *r = det && *det ? xasprintf("%s; %s", msg, det) : xstrdup(msg);
		json_decref(o);
		return r;
	}
	json_decref(o);
	char *e = trim(errout ? errout : "");
	if (*e)
		return e;
	free(e);
	e = trim(out ? out : "");
	if (*e)
		return e;
	free(e);
	if (status > 128)
		return xasprintf("killed by signal %d", status - 128);
	return xasprintf("exit status %d", status);
}

/* ---- running a plugin ---------------------------------------------------- */

/* Is PATH a network namespace (a pinned nsfs file)? DEL passes CNI_NETNS
 * only then: a plugin refuses a path that exists but is no namespace. */
static bool is_netns(const char *path)
{
	struct statfs sf;
	return path && *path && statfs(path, &sf) == 0 && sf.f_type == NSFS_MAGIC;
}

struct call {
	const char *command, *container_id, *netns, *ifname, *args;
};

/* Run plugin TYPE with STDIN_DATA. 0 with *status (the exit code, 128+sig
 * if killed), *out and *errout (each at most OUTPUT_MAX bytes); -ENOENT
 * (no such plugin), -ETIMEDOUT (killed at the timeout) or -errno. */
static int run_plugin(const struct cni_net *n, const char *type, const struct call *c,
		      const char *stdin_data, int *status, char **out, char **errout)
{
	*out = *errout = NULL;
	cleanup_free char *path = xasprintf("%s/%s", n->bin_dir, type);
	if (!plain_name(type) || access(path, X_OK) < 0)
		return -ENOENT;
	struct strv env = {0};
	char *e;
	strv_push(&env, (e = xasprintf("CNI_COMMAND=%s", c->command)));
	free(e);
	strv_push(&env, (e = xasprintf("CNI_CONTAINERID=%s", c->container_id)));
	free(e);
	strv_push(&env, (e = xasprintf("CNI_NETNS=%s", c->netns ? c->netns : "")));
	free(e);
	strv_push(&env, (e = xasprintf("CNI_IFNAME=%s", c->ifname)));
	free(e);
	strv_push(&env, (e = xasprintf("CNI_ARGS=%s", c->args ? c->args : "")));
	free(e);
	strv_push(&env, (e = xasprintf("CNI_PATH=%s", n->bin_dir)));
	free(e);
	strv_push(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

	char *argv[] = {path, NULL};
	int r = util_run(argv, env.v, stdin_data, n->timeout_ms, OUTPUT_MAX, status, out, errout);
	strv_free(&env);
	return r;
}

/* One plugin call; on failure *err says which plugin and why, in
 * libcni's words. Returns 0 and its stdout in *result (if non-NULL). */
static int call_plugin(const struct cni_net *n, const char *conflist, int index, const char *prev,
		       const struct call *c, char **result, char **err)
{
	cleanup_free char *type = cni_plugin_type(conflist, index);
	json_t *o = json_loads(conflist, 0, NULL);
	cleanup_free char *name = xstrdup(or_empty(json_string_value(json_object_get(o, "name"))));
	json_decref(o);
	const char *verb = !strcmp(c->command, "ADD") ? "add" : "delete";
	if (!type) {
		*err = xasprintf("plugin %d of network \"%s\" has no valid type", index, name);
		return -EINVAL;
	}
	char *serr = NULL;
	cleanup_free char *in = cni_plugin_stdin(conflist, index, prev, &serr);
	if (!in) {
		*err = xasprintf("plugin type=\"%s\" name=\"%s\" failed (%s): %s", type, name, verb,
				 serr);
		free(serr);
		return -EINVAL;
	}
	int status = 0;
	char *out = NULL, *eo = NULL;
	int r = run_plugin(n, type, c, in, &status, &out, &eo);
	if (r == -ENOENT) {
		*err = xasprintf("failed to find plugin \"%s\" in path [%s]", type, n->bin_dir);
	} else if (r == -ETIMEDOUT) {
		*err = xasprintf("plugin type=\"%s\" name=\"%s\" failed (%s): timed out after %d s",
				 type, name, verb, n->timeout_ms / 1000);
	} else if (r < 0) {
		*err = xasprintf("plugin type=\"%s\" name=\"%s\" failed (%s): %s", type, name, verb,
				 strerror(-r));
	} else if (status != 0) {
		char *m = cni_error_message(out, eo, status);
		*err = xasprintf("plugin type=\"%s\" name=\"%s\" failed (%s): %s", type, name, verb,
				 m);
		free(m);
		r = -EIO;
	} else if (result) {
		*result = steal_pointer(&out);
	}
	free(out);
	free(eo);
	return r < 0 ? -EIO : 0;
}

/* ---- records, locks, the bridge ------------------------------------------ */

static json_t *record_load(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	if (util_read_file(path, 4 * 1024 * 1024, &buf, &len) < 0)
		return NULL;
	json_t *o = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (!json_is_object(o) || !json_is_array(json_object_get(o, "networks"))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int record_save(const char *path, json_t *rec)
{
	char *s = dump(rec);
	int r = util_write_file(path, s, strlen(s), 0600);
	free(s);
	return r;
}

/* The network's lock, shared by every podfs on the machine: held across
 * each ADD and DEL, and across the bridge's address and removal. */
static int net_lock(const struct cni_net *n, const char *network, char **err)
{
	util_mkdir_p(n->shared_dir, 0700);
	cleanup_free char *path = xasprintf("%s/%s.lock", n->shared_dir, network);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = xasprintf("open %s: %s", path, strerror(errno));
		return -errno;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			*err = xasprintf("lock %s: %s", path, strerror(e));
			close(fd);
			return -e;
		}
	}
	return fd;
}

static void net_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* Give the bridge the gateway address unless it has an IPv4 address. */
static int bridge_address(const struct cni_net *n, char **err)
{
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		*err = xasprintf("socket: %s", strerror(errno));
		return -errno;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->bridge);
	if (ioctl(s, SIOCGIFADDR, &ifr) == 0)
		return 0;
	if (errno != EADDRNOTAVAIL) {
		*err = xasprintf("bridge %s: %s", n->bridge, strerror(errno));
		return -errno;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, n->gateway, &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0) {
		*err = xasprintf("set address %s on bridge %s: %s", n->gateway, n->bridge,
				 strerror(errno));
		return -errno;
	}
	sin = (struct sockaddr_in *)&ifr.ifr_netmask;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(mask_of(n->prefix));
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) {
		*err = xasprintf("set netmask /%d on bridge %s: %s", n->prefix, n->bridge,
				 strerror(errno));
		return -errno;
	}
	return 0;
}

static int count_entries(const char *dir, bool ipam_only)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int k = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (ipam_only &&
		    (!strcmp(de->d_name, "lock") || !strncmp(de->d_name, "last_reserved_ip.", 17)))
			continue;
		k++;
	}
	closedir(d);
	return k;
}

/* With the lock held: no pod of any podfs left on BRIDGE, so the bridge
 * goes (the plugin never removes it), and host-local's directory for the
 * network if it holds no lease. */
static void bridge_gc(const struct cni_net *n, const char *bridge, const char *network)
{
	cleanup_free char *brif = xasprintf("/sys/class/net/%s/brif", bridge);
	int ports = count_entries(brif, false);
	if (ports > 0)
		return;
	if (ports == 0) {
		cleanup_close int s = socket(AF_LOCAL, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
		if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags &= ~IFF_UP;
			ioctl(s, SIOCSIFFLAGS, &ifr);
		}
		if (s < 0 || ioctl(s, SIOCBRDELBR, bridge) < 0)
			fprintf(stderr, "podfs: remove bridge %s: %s\n", bridge, strerror(errno));
	}
	cleanup_free char *dir = xasprintf("%s/ipam/%s", n->shared_dir, network);
	if (count_entries(dir, true) != 0)
		return;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *f = xasprintf("%s/%s", dir, de->d_name);
		unlink(f);
		free(f);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* ---- ADD and DEL ---------------------------------------------------------- */

/* DEL every network of REC, last first. The lock is held. 0 or -EIO with
 * the first failure in *err. */
static int del_networks(const struct cni_net *n, json_t *rec, char **err)
{
	const char *cid = json_string_value(json_object_get(rec, "containerID"));
	const char *netns = json_string_value(json_object_get(rec, "netns"));
	const char *args = json_string_value(json_object_get(rec, "args"));
	json_t *nets = json_object_get(rec, "networks");
	int ret = 0;
	for (size_t i = json_array_size(nets); i-- > 0;) {
		json_t *net = json_array_get(nets, i);
		const char *conflist = json_string_value(json_object_get(net, "conflist"));
		const char *ifname = json_string_value(json_object_get(net, "ifname"));
		const char *result = json_string_value(json_object_get(net, "result"));
		if (!conflist || !ifname)
			continue;
		struct call c = {.command = "DEL",
				 .container_id = or_empty(cid),
				 .netns = is_netns(netns) ? netns : "",
				 .ifname = ifname,
				 .args = args};
		for (int k = cni_plugin_count(conflist); k-- > 0;) {
			char *e = NULL;
			if (call_plugin(n, conflist, k, result, &c, NULL, &e) < 0) {
				if (ret == 0) {
					*err = e;
					ret = -EIO;
				} else {
					free(e);
				}
			}
		}
	}
	return ret;
}

int cni_add(const struct cni_net *n, const struct cni_pod *pod, const char *record, char ***ips,
	    char **err)
{
	*ips = NULL;
	cleanup_free char *args = cni_args(pod);
	cleanup_free char *lo = cni_loopback_conflist();
	cleanup_free char *pn = cni_conflist(n);
	json_t *rec =
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:[{s:s,s:s},{s:s,s:s}]}", "containerID",
		      pod->container_id, "netns", pod->netns, "args", args, "network", n->name,
		      "bridge", n->bridge, "ownBridge", n->own_bridge, "networks", "ifname", "lo",
		      "conflist", lo, "ifname", "eth0", "conflist", pn);
	/* recorded before anything is set up: a crash inside ADD still gets
	 * its DEL */
	int r = record_save(record, rec);
	if (r < 0) {
		*err = xasprintf("failed to setup network for sandbox \"%s\": save %s: %s",
				 pod->container_id, record, strerror(-r));
		json_decref(rec);
		return r;
	}
	int lfd = net_lock(n, n->name, err);
	if (lfd < 0) {
		json_decref(rec);
		return lfd;
	}
	char *why = NULL;
	json_t *nets = json_object_get(rec, "networks");
	for (size_t i = 0; i < json_array_size(nets) && !why; i++) {
		json_t *net = json_array_get(nets, i);
		const char *conflist = json_string_value(json_object_get(net, "conflist"));
		struct call c = {.command = "ADD",
				 .container_id = pod->container_id,
				 .netns = pod->netns,
				 .ifname = json_string_value(json_object_get(net, "ifname")),
				 .args = args};
		char *prev = NULL;
		int np = cni_plugin_count(conflist);
		for (int k = 0; k < np && !why; k++) {
			char *res = NULL;
			if (call_plugin(n, conflist, k, prev, &c, &res, &why) == 0) {
				free(prev);
				prev = res;
			}
		}
		if (!why && prev) {
			/* the final result: DEL's prevResult */
			json_object_set_new(net, "result", json_string(prev));
			record_save(record, rec);
		}
		if (!why && i == json_array_size(nets) - 1)
			r = prev ? cni_result_ips(prev, "eth0", ips, &why) : -EINVAL;
		if (!why && !prev)
			why = xstrdup("no result from the network's plugins");
		free(prev);
	}
	if (!why && n->own_bridge)
		bridge_address(n, &why);
	if (why) {
		cni_ips_free(*ips);
		*ips = NULL;
		/* the spec: DEL even after a failed ADD, for what was set up */
		char *derr = NULL;
		if (del_networks(n, rec, &derr) == 0) {
			unlink(record);
		} else {
			char *w = xasprintf("%s (and the clean-up failed: %s)", why, derr);
			free(why);
			free(derr);
			why = w;
		}
		if (n->own_bridge)
			bridge_gc(n, n->bridge, n->name);
		net_unlock(lfd);
		*err = xasprintf("failed to setup network for sandbox \"%s\": %s",
				 pod->container_id, why);
		free(why);
		json_decref(rec);
		return -EIO;
	}
	net_unlock(lfd);
	json_decref(rec);
	return 0;
}

int cni_del(const struct cni_net *n, const char *record, char **err)
{
	json_t *rec = record_load(record);
	if (!rec) {
		unlink(record); /* unreadable: nothing to learn from it */
		return 0;
	}
	const char *network = json_string_value(json_object_get(rec, "network"));
	const char *bridge = json_string_value(json_object_get(rec, "bridge"));
	if (!plain_name(network)) {
		json_decref(rec);
		unlink(record);
		return 0;
	}
	int lfd = net_lock(n, network, err);
	if (lfd < 0) {
		json_decref(rec);
		return lfd;
	}
	char *why = NULL;
	int r = del_networks(n, rec, &why);
	if (json_is_true(json_object_get(rec, "ownBridge")) && bridge && *bridge &&
	    strlen(bridge) < IFNAMSIZ && plain_name(bridge))
		bridge_gc(n, bridge, network);
	net_unlock(lfd);
	if (r < 0) {
		*err = xasprintf("failed to destroy network for sandbox \"%s\": %s",
				 or_empty(json_string_value(json_object_get(rec, "containerID"))),
				 why);
		free(why);
	} else {
		unlink(record);
	}
	json_decref(rec);
	return r;
}

void cni_park(const char *record, const char *dir)
{
	json_t *rec = record_load(record);
	const char *cid = rec ? json_string_value(json_object_get(rec, "containerID")) : NULL;
	if (cid && plain_name(cid) && util_mkdir_p(dir, 0700) == 0) {
		char *to = xasprintf("%s/%s.json", dir, cid);
		if (rename(record, to) < 0)
			fprintf(stderr, "podfs: keep %s as %s: %s\n", record, to, strerror(errno));
		free(to);
	}
	json_decref(rec);
}

void cni_retry_parked(const struct cni_net *n, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		char *rec = xasprintf("%s/%s", dir, de->d_name), *err = NULL;
		if (cni_del(n, rec, &err) < 0)
			free(err); /* reported when it first failed; tried again next time */
		free(rec);
	}
	closedir(d);
}

int cni_record_ips(const char *record, char ***ips)
{
	*ips = NULL;
	json_t *rec = record_load(record);
	if (!rec)
		return -ENOENT;
	json_t *nets = json_object_get(rec, "networks");
	json_t *last = json_array_get(nets, json_array_size(nets) - 1);
	const char *result = json_string_value(json_object_get(last, "result"));
	char *e = NULL;
	int r = result ? cni_result_ips(result, "eth0", ips, &e) : -ENOENT;
	free(e);
	json_decref(rec);
	return r < 0 ? -ENOENT : 0;
}
