/* main.c: the podfs command line. `podfs validate` checks manifests; the
 * mount itself is started from here too (fs/), once it exists. */
#include "backend/backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: podfs validate [-q] FILE...   check Pod manifests; print the normalized\n"
	      "                                     spec as JSON, or the errors (exit 1)\n"
	      "       podfs -h | --help\n",
	      f);
}

static int cmd_validate(int argc, char **argv)
{
	int quiet = 0, failed = 0, files = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = 1;
			continue;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		files++;
		char *json = NULL, *errors = NULL;
		if (backend_validate_file(argv[i], &json, &errors) < 0) {
			fputs(errors, stderr);
			failed = 1;
		} else if (!quiet) {
			printf("%s\n", json);
		}
		free(json);
		free(errors);
	}
	if (!files) {
		usage(stderr);
		return 2;
	}
	return failed;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "validate"))
		return cmd_validate(argc - 1, argv + 1);
	fprintf(stderr, "podfs: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
