/* fuzz_spec.c: libFuzzer target for the manifest pipeline (YAML loader,
 * decoder, defaults, validation, JSON rendering). Built with clang's
 * -fsanitize=fuzzer by `make fuzz`; with replay_main.c, every file of the
 * corpus is run once in the normal test run. See docs/fuzzing.md.
 *
 * Besides the sanitizers' findings, these invariants abort:
 *   - a manifest that parses yields no diagnostics and renders to JSON that
 *     parses back as an object with a "spec";
 *   - a manifest that fails has at least one diagnostic, and each formats;
 *   - a manifest that parses compares as the same as itself (spec_compare),
 *     and comparing the input's two halves does not crash. */
#include "backend/spec.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list errs = {0};
	struct spec_pod *pod = NULL;
	if (spec_parse((const char *)data, size, &pod, &errs) == 0) {
		if (!pod || errs.n || errs.dropped)
			abort();
		char *json = spec_to_json(pod);
		if (!json)
			abort();
		json_error_t jerr;
		json_t *back = json_loads(json, 0, &jerr);
		if (!json_is_object(back) || !json_is_object(json_object_get(back, "spec")))
			abort();
		json_decref(back);
		free(json);
		spec_pod_free(pod);
		if (spec_compare((const char *)data, size, (const char *)data, size) != SPEC_SAME)
			abort();
	} else {
		/* an error list is never empty and always formats */
		if (pod || (errs.n == 0 && errs.dropped == 0))
			abort();
		for (size_t i = 0; i < errs.n; i++)
			if (!errs.v[i].msg || !errs.v[i].path)
				abort();
		char *s = diag_format_all(&errs, "fuzz");
		if (!s)
			abort();
		free(s);
	}
	diag_list_free(&errs);
	size_t half = size / 2;
	(void)spec_compare((const char *)data, half, (const char *)data + half, size - half);
	return 0;
}
