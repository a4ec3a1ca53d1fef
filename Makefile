# podfs build. Plain make + pkg-config; see README.md.
#   make                 build build/podfs
#   make test            quick: unit tests, manifest fixtures, fuzz corpus replay
#   make check           every test: also ASan/UBSan build (build-san/), valgrind,
#                        and the shell tests tests/t*.sh (root; real runc etc.)
#   make fuzz            libFuzzer targets for the manifest, registry, image and CNI
#                        parsers (clang)
#   make format          clang-format every source file

PKGS     := fuse3 yaml-0.1 jansson libcurl libarchive libcrypto
CC       ?= gcc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS  ?=
LDLIBS   := $(PKG_LIBS) -lpthread

ifdef SANITIZE
BUILD    ?= build-san
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
else
BUILD    ?= build
endif

BACKEND_SRCS := $(wildcard backend/*.c)
FS_SRCS      := $(wildcard fs/*.c)
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)

BACKEND_OBJS := $(BACKEND_SRCS:%.c=$(BUILD)/%.o)
FS_OBJS      := $(FS_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS    := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# one libFuzzer target per parser family; tests/fuzz/fuzz_NAME.c
FUZZ_NAMES   := spec registry image cni podlog
FUZZ_REPLAY  := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz_%_replay)

.PHONY: all check test unit format fuzz clean
all: $(BUILD)/podfs

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libbackend.a: $(BACKEND_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/podfs: $(FS_OBJS) $(BUILD)/libbackend.a
	$(CC) $(LDFLAGS) -o $@ $(FS_OBJS) $(BUILD)/libbackend.a $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libbackend.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libbackend.a $(LDLIBS)

# fs/ modules with unit tests link their own object too
$(BUILD)/tests/test_scratch: $(BUILD)/tests/unit/test_scratch.o $(BUILD)/fs/scratch.o $(BUILD)/libbackend.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/test_nodes: $(BUILD)/tests/unit/test_nodes.o $(BUILD)/fs/nodes.o $(BUILD)/libbackend.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The fuzz targets built with a replay main(): run every corpus file once.
$(FUZZ_REPLAY): $(BUILD)/tests/fuzz_%_replay: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c \
		$(BUILD)/libbackend.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/replay_main.c \
		$(BUILD)/libbackend.a $(LDLIBS)

unit: $(UNIT_BINS) $(FUZZ_REPLAY) $(BUILD)/podfs

# Everything CI runs: normal and sanitizer builds, valgrind, shell tests.
check:
	tests/run.sh

# The quick loop: unit tests, fixtures and fuzz replay, normal build only.
test:
	tests/run.sh quick

# libFuzzer build (clang only), kept apart from the gcc objects. Each
# target is built from the modules it fuzzes only, so the rest of the
# backend (and clang-only warnings in it) cannot break the fuzzers. See
# docs/fuzzing.md.
FUZZ_BUILD := build-fuzz
fuzz_objs   = $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(1) backend/util.c)
FUZZ_OBJS_spec     := $(call fuzz_objs,backend/yamltree.c backend/spec.c \
		backend/spec_decode.c backend/spec_validate.c backend/spec_json.c backend/spec_compare.c \
		backend/quantity.c backend/diag.c)
IMAGE_SRCS         := backend/image.c backend/imagepull.c backend/imageref.c \
		backend/unpack.c backend/imagefile.c backend/sha256.c
FUZZ_OBJS_registry := $(call fuzz_objs,backend/registry.c $(IMAGE_SRCS))
FUZZ_OBJS_image    := $(call fuzz_objs,$(IMAGE_SRCS))
FUZZ_OBJS_cni      := $(call fuzz_objs,backend/cni.c)
FUZZ_OBJS_podlog   := $(call fuzz_objs,backend/podlog.c)
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang SANITIZE=address,undefined \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" \
		$(sort $(foreach n,$(FUZZ_NAMES),$(FUZZ_OBJS_$(n))))
	$(foreach n,$(FUZZ_NAMES),clang -std=gnu11 -O1 -g $(WARN) -D_GNU_SOURCE -I. $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
		-o $(FUZZ_BUILD)/fuzz_$(n) tests/fuzz/fuzz_$(n).c $(FUZZ_OBJS_$(n)) $(LDLIBS) &&) true
	@echo "run: $(FUZZ_BUILD)/fuzz_NAME -dict=tests/fuzz/NAME.dict NEWDIR tests/fuzz/CORPUS (docs/fuzzing.md)"

format:
	clang-format -i $(BACKEND_SRCS) $(FS_SRCS) $(wildcard backend/*.h fs/*.h) \
		$(UNIT_SRCS) tests/unit/testhelp.h $(wildcard tests/fuzz/*.c)

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
