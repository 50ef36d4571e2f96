# facteur - plain make + pkg-config.
#
#   make                 build build/facteur
#   make run             install missing packages (or say which), start on etc/dev.conf
#   make test            unit + integration tests, ends with "N passed, N failed"
#   make SANITIZE=1 ...  the same with ASan+UBSan, in build/san/
#   make CC=clang ...    any C17 compiler
#   make fuzz            libFuzzer harnesses (clang), each run FUZZ_SECONDS
#   make bench           facteur vs Postfix benchmark (root, ~10 min): bench/RESULTS.md

VERSION := 0.1.0
CC      ?= cc
PKGS    := libevent libevent_openssl libssl libcrypto libunbound libcrypt libpsl

ifeq ($(SANITIZE),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   := build
SANFLAGS :=
endif

WARN    := -Wall -Wextra -Werror -Wformat-security -Wstrict-prototypes -Wvla \
           -Wwrite-strings -Wshadow -Wpointer-arith -Wmissing-prototypes \
           -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c17 $(WARN) $(CFLAGS) $(SANFLAGS) -Isrc -D_GNU_SOURCE \
           -DFACTEUR_VERSION='"$(VERSION)"' -MMD -MP \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
LDFLAGS ?=

SRCS    := $(shell find src -name '*.c' | sort)
LIBSRCS := $(filter-out src/main.c,$(SRCS))
OBJS    := $(SRCS:%.c=$(BUILD)/obj/%.o)
TOBJS   := $(LIBSRCS:%.c=$(BUILD)/tobj/%.o)
UNITSRC := $(wildcard tests/unit/test_*.c)
UNITBIN := $(BUILD)/unit-tests

.PHONY: all deps run test unit integration clean fuzz lint size-report bench

all: $(BUILD)/facteur

$(BUILD)/facteur: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DUNITTEST -c -o $@ $<

$(BUILD)/tobj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DUNITTEST -Itests -c -o $@ $<

$(UNITBIN): $(TOBJS) $(UNITSRC:%.c=$(BUILD)/tobj/%.o) $(BUILD)/tobj/tests/unit/runner.o \
    $(BUILD)/tobj/tests/unit/unit_fs.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

deps:
	@tools/deps

run: deps all
	@tools/dev-run $(BUILD)/facteur

unit: $(UNITBIN)
	$(UNITBIN)

test: deps all $(UNITBIN)
	@FACTEUR_BIN=$(abspath $(BUILD)/facteur) UNIT_BIN=$(abspath $(UNITBIN)) \
	  SANITIZE=$(SANITIZE) tests/run

fuzz:
	@$(MAKE) -f fuzz/Makefile run

bench: all
	@bench/run

lint:
	@tools/lint

size-report:
	@tools/size-report

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(TOBJS:.o=.d) $(UNITSRC:%.c=$(BUILD)/tobj/%.d) $(BUILD)/tobj/tests/unit/runner.d $(BUILD)/tobj/tests/unit/unit_fs.d
