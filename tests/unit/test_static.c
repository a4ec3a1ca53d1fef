/* test_static.c: unit tests for backend/static.c: which files of a
 * manifest directory are manifests, and how static pods are named. */
#include "backend/static.h"
#include "tests/unit/testhelp.h"

#include <stdlib.h>

TEST(manifests_read)
{
	static const char *const yes[] = {"web.yaml", "web.yml",      "web.json",    "web",
					  "a",	      "web.yaml.txt", "backup.yaml", "swp.yaml",
					  "4914",     "web~.yaml",    "tmp",	     NULL};
	for (size_t i = 0; yes[i]; i++) {
		CHECK(!static_ignored_name(yes[i]));
		if (static_ignored_name(yes[i]))
			fprintf(stderr, "  wrongly ignored: %s\n", yes[i]);
	}
}

TEST(leftovers_ignored)
{
	static const char *const no[] = {".web.yaml",
					 ".web.yaml.swp",
					 ".web.yaml.swo",
					 "web.yaml~",
					 "web.yaml.swp",
					 "web.yaml.bak",
					 "web.yaml.tmp",
					 "#web.yaml#",
					 "web.yaml.orig",
					 "web.yaml.rej",
					 "web.yaml.save",
					 "web.yaml.dpkg-old",
					 "web.yaml.dpkg-new",
					 "web.yaml.dpkg-dist",
					 "web.yaml.rpmnew",
					 "web.yaml.rpmsave",
					 "web.yaml.ucf-dist",
					 "4913",
					 ".",
					 "..",
					 "",
					 NULL};
	for (size_t i = 0; no[i]; i++) {
		CHECK(static_ignored_name(no[i]));
		if (!static_ignored_name(no[i]))
			fprintf(stderr, "  not ignored: %s\n", no[i]);
	}
}

TEST(pod_names)
{
	char *n = static_pod_name("web", "node1");
	CHECK_STREQ(n, "web-node1");
	free(n);
	n = static_pod_name("web", "Node-A"); /* the node name is lowercased */
	CHECK_STREQ(n, "web-node-a");
	free(n);
	CHECK(static_pod_name("web", "node.example.com") == NULL); /* not a label */
	char longname[64];
	memset(longname, 'a', 60);
	longname[60] = '\0';
	CHECK(static_pod_name(longname, "node1") == NULL); /* over 63 characters */
	n = static_pod_name(longname, "n");
	CHECK(n && strlen(n) == 62);
	free(n);
}

int main(void)
{
	RUN(manifests_read);
	RUN(leftovers_ignored);
	RUN(pod_names);
	return th_report();
}
