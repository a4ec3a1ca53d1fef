/* fuzz_spec.c: libFuzzer target for the manifest pipeline (YAML loader,
 * decoder, defaults, validation, JSON rendering). Built with clang's
 * -fsanitize=fuzzer by `make fuzz`; with replay_main.c, every file of the
 * corpus is run once in the normal test run. */
#include "backend/spec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list errs = {0};
	struct spec_pod *pod = NULL;
	if (spec_parse((const char *)data, size, &pod, &errs) == 0) {
		char *json = spec_to_json(pod);
		free(json);
		spec_pod_free(pod);
	} else {
		/* an error list is never empty and always formats */
		if (errs.n == 0 && errs.dropped == 0)
			abort();
		char *s = diag_format_all(&errs, "fuzz");
		free(s);
	}
	diag_list_free(&errs);
	return 0;
}
