# utmpatch - build, test, sanitize, fuzz, bench, demo.
#
#   make            build/utmpatch
#   make test       every Criterion suite + the CLI tests (sets up what it needs)
#   make sanitize   the whole suite under ASan+UBSan (build/san)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (clang)
#   make bench      benchmarks, as ratios against reference tools
#   make demo       the whole story on build/demo/UTM.app
#   make install PREFIX=/usr/local

PREFIX    ?= /usr/local
BUILD     ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config
FUZZ_SECONDS ?= 600

PKGS      := libplist-2.0 libcrypto zlib
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CRIT_CFLAGS := $(shell $(PKG_CONFIG) --cflags criterion 2>/dev/null)
CRIT_LIBS   := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null || echo -lcriterion)

WARN      := -Wall -Wextra -Wshadow -Werror -Wno-unused-parameter -Wno-format-truncation
OPT       ?= -O2 -g
SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
INCLUDES  := -Ilib/base -Imachotools -Isigning -Ilib -Itestdata/support
CFLAGS    += -std=c11 $(WARN) $(OPT) $(SAN_FLAGS) -D_FILE_OFFSET_BITS=64 -pthread $(INCLUDES) $(PKG_CFLAGS) $(CRIT_CFLAGS) -MMD -MP
LDFLAGS   += $(SAN_FLAGS) -pthread
LDLIBS    += $(PKG_LIBS) -lm

# Library: base, machotools, signing, UTM domain (lib/*.c).
LIB_SRCS  := $(wildcard lib/base/*.c) $(wildcard machotools/*.c) $(wildcard signing/*.c) $(wildcard lib/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CMD_SRCS  := $(wildcard cmd/*.c)
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILD)/obj/%.o)
LIBA      := $(BUILD)/libutmpatch.a
BIN       := $(BUILD)/utmpatch

# Tests: one Criterion binary per module, from <module>/tests/*.c.
SUPPORT_SRCS := $(wildcard testdata/support/*.c)
SUPPORT_OBJS := $(SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_MODULES := lib machotools signing cmd
TEST_BINS := $(foreach m,$(TEST_MODULES),$(if $(wildcard $(m)/tests/*.c),$(BUILD)/tests/$(m)_tests))
LIEF_LIBS := -lLIEF -lstdc++

FIXTURES_STAMP := $(BUILD)/fixtures/.stamp

.PHONY: all setup test check sanitize fuzz bench demo demo-bundle fixtures install clean format
all: $(BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CMD_OBJS) $(LIBA)
	$(CC) $(LDFLAGS) $(CMD_OBJS) $(LIBA) $(LDLIBS) -o $@

.SECONDARY:
.SECONDEXPANSION:
$(BUILD)/tests/%_tests: $$(addprefix $(BUILD)/obj/,$$(subst .c,.o,$$(wildcard $$*/tests/*.c))) $(SUPPORT_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(filter %.o,$^) $(LIBA) $(CRIT_LIBS) $(LIEF_LIBS) $(LDLIBS) -o $@

setup:
	@sh tools/setup.sh

fixtures: $(FIXTURES_STAMP)
$(FIXTURES_STAMP): testdata/recipes/build-fixtures.sh $(wildcard testdata/recipes/*)
	@sh tools/setup.sh --quiet
	sh testdata/recipes/build-fixtures.sh $(BUILD)/fixtures
	@touch $@

test check: setup
	@$(MAKE) --no-print-directory all $(TEST_BINS) $(FIXTURES_STAMP)
	@sh tools/run-tests.sh $(BUILD) $(TEST_BINS)

sanitize: setup
	@$(MAKE) --no-print-directory BUILD=build/san SAN=1 OPT="-O1 -g" test

fuzz: setup
	@sh tools/fuzz.sh $(FUZZ_SECONDS)

bench: setup all $(FIXTURES_STAMP)
	@sh tools/bench.sh $(BUILD)

demo-bundle: setup all
	sh testdata/demo/build-demo.sh $(BUILD)/demo

demo: setup all
	sh tools/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/utmpatch/profiles
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/utmpatch
	install -m 0644 profiles/*.plist profiles/*.tsv profiles/README.md $(DESTDIR)$(PREFIX)/share/utmpatch/profiles/
	install -m 0644 docs/utmpatch.1 $(DESTDIR)$(PREFIX)/share/man/man1/

format:
	clang-format -i $(LIB_SRCS) $(CMD_SRCS) $(wildcard */*.h */*/*.h)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
