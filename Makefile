# hebb -- build, test, bench, install.  `make help` lists the targets.

# == CHANGE THE SETTINGS BELOW TO SUIT YOUR SYSTEM =============================
# (or give them on the command line: make PREFIX=$HOME/.local LUA_INC=...)

# where `make install` puts things, and where the build goes
PREFIX ?= /usr/local
BUILD  ?= build
CC     ?= gcc
# your own compiler and linker flags, added after hebb's
CFLAGS  ?=
LDFLAGS ?=

# Debian keeps a machine's libraries in /usr/lib/<multiarch>
# (x86_64-linux-gnu, aarch64-linux-gnu, ...): asked of dpkg-dev, else of the
# compiler, else made from the machine's name (on a fresh machine neither
# may be installed yet when make reads this)
MULTIARCH ?= $(shell m=$$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null); \
  [ -n "$$m" ] || m=$$($(CC) -print-multiarch 2>/dev/null); \
  [ -n "$$m" ] || m=$$(uname -m)-linux-gnu; echo "$$m")
MULTIARCH := $(MULTIARCH)
LIBDIR_SYS ?= /usr/lib/$(MULTIARCH)
# Lua 5.4: the headers, and the static library the executable embeds
LUA_INC ?= /usr/include/lua5.4
LUA_LIB ?= $(LIBDIR_SYS)/liblua5.4.a
READLINE_LIBS ?= -lreadline
# the OpenBLAS that natives/core/blas.c opens on first use (its OpenMP build:
# one thread pool with hebb's)
BLAS_SO ?= $(LIBDIR_SYS)/openblas-openmp/libopenblas.so.0

# warnings: -Wall -Wextra and the developer set of Lua's own makefile
CWARNS ?= -Wall -Wextra -Wshadow -Wundef -Wcast-qual -Wwrite-strings \
          -Wredundant-decls -Wdisabled-optimization -Wdouble-promotion \
          -Wmissing-declarations -Wmissing-prototypes -Wstrict-prototypes \
          -Wold-style-definition -Wnested-externs
# == END OF SETTINGS: NOTHING BELOW SHOULD NEED CHANGING =======================

# -MMD -MP: each object lists the headers it read in a .d file beside it
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -O3 -g $(CWARNS) -fPIC -fopenmp \
               -fno-math-errno -Iinclude -Inatives/core -Inatives/lua \
               -I$(LUA_INC) -DHEBB_BLAS_LIB='"$(BLAS_SO)"' -MMD -MP
ALL_CFLAGS := $(CFLAGS_BASE) $(CFLAGS)
# OpenBLAS is not linked: blas.c opens it on first use (start-up time)
CORE_LDLIBS := -fopenmp -ldl -lm -lpthread $(LDFLAGS)
HEBB_LINK := hebb
# the C programs of the test suites (tests/run.sh gets these; the suites
# add their own -I and libraries)
TEST_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra

# SANITIZE=1 (what `make sanitize` sets): the same sources built with
# AddressSanitizer and UndefinedBehaviorSanitizer into build-san/, every UB
# report fatal; ./hebb keeps pointing at the normal build.
SANITIZE ?=
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
BUILD := build-san
ALL_CFLAGS += -O1 $(SAN_FLAGS) -DHEBB_SANITIZE
CORE_LDLIBS += $(SAN_FLAGS)
TEST_CFLAGS += $(SAN_FLAGS) -DHEBB_SANITIZE
HEBB_LINK :=
endif

CORE_SRC := $(sort $(wildcard natives/core/*.c))
LUA_SRC  := $(sort $(wildcard natives/lua/*.c))
VM_SRC   := $(sort $(wildcard vm/*.c))
STDLIB   := $(sort $(wildcard stdlib/hebb/*.lua))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
LUA_OBJ  := $(LUA_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/stdlib.o
VM_OBJ   := $(VM_SRC:%.c=$(BUILD)/obj/%.o)
DEPS_OK  := $(BUILD)/.deps-build
# stdlib/hebb/x.lua is module "hebb.x"; the Lua files of modules with a C
# opener extend the C module.
NATIVE_MODS := hebb,hebb.tensor
modname = hebb.$(basename $(notdir $(1)))

.PHONY: all deps test bench demo install clean help docs sanitize selfcheck-long examples-full \
        fields-examples fuzz ising rock rock-install test-cflags

all: $(BUILD)/hebb $(BUILD)/libhebb.so $(BUILD)/libhebb.a $(BUILD)/hebb.so $(HEBB_LINK)

help:
	@echo "make          build ./hebb, libhebb.so/.a and hebb.so (installs Debian deps)"
	@echo "make test     run every test suite; ends with 'N passed, N failed'"
	@echo "make sanitize make test against an ASan+UBSan build in build-san/"
	@echo "make selfcheck-long  the randomized self-checks with 50x the cases"
	@echo "make demo     build, then run the quick examples/ising.lua notebook and render it to HTML"
	@echo "make examples-full  the examples at full size, with their checks"
	@echo "make ising    the full examples/ising.lua notebook, checked (minutes)"
	@echo "make bench    benchmarks against numpy/torch/hand-written C (ratios)"
	@echo "make install  PREFIX=... installs binary, library, header, module, .pc, man page"
	@echo "make docs     regenerate docs/api/*.md from the docstrings, docs/hebb.1 from --help"
	@echo "make rock     the module hebb.so alone (what luarocks make builds)"
	@echo "make fields-examples  examples/dirac.lua and klein_gordon.lua at full size"
	@echo "make fuzz     libFuzzer on every loader, FUZZ_SECONDS each (tests/fuzz)"

$(DEPS_OK): tools/deps.sh
	@mkdir -p $(BUILD)
	@sh tools/deps.sh build
	@touch $@

deps: $(DEPS_OK)

# an object depends on its headers through its .d file, and on the flags
# it was compiled with through $(BUILD)/.flags
$(BUILD)/obj/%.o: %.c $(BUILD)/.flags | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

-include $(CORE_OBJ:.o=.d) $(LUA_OBJ:.o=.d) $(VM_OBJ:.o=.d)

# rewritten only when the compiler or the flags change (the compiler by
# what it says it is: cc and gcc are one, and luarocks says gcc)
CC_ID := $(shell $(CC) --version 2>/dev/null | sed -n '1s/^[^ ]* //p')
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo "$(subst ",\",$(CC_ID) $(ALL_CFLAGS))" > $@.tmp; \
	  cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/embed: tools/embed.c | $(DEPS_OK)
	$(CC) -O2 $(CWARNS) $< -o $@

$(BUILD)/gen/stdlib.c: $(BUILD)/embed $(STDLIB)
	@mkdir -p $(dir $@)
	$(BUILD)/embed $@ $(NATIVE_MODS) $(foreach f,$(STDLIB),$(call modname,$(f))=$(f))

$(BUILD)/obj/gen/stdlib.o: $(BUILD)/gen/stdlib.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# libhebb.so exports exactly the functions of hebb.h's FFI block (and
# LAPACK's silent error handler, natives/core/blas.c).
$(BUILD)/libhebb.map: include/hebb.h Makefile
	@mkdir -p $(BUILD)
	@{ echo "{ global: xerbla_;"; \
	   sed -n '/^\/\* FFI-BEGIN \*\//,/^\/\* FFI-END \*\//p' $< | tr -s ' \n' ' ' | \
	   grep -o '[a-z_0-9]*hebb_[a-z_0-9]*(' | tr -d '(' | sort -u | sed 's/$$/;/'; \
	   echo "local: *; };"; } > $@

$(BUILD)/libhebb.so: $(CORE_OBJ) $(BUILD)/libhebb.map
	$(CC) -shared -o $@.0 $(CORE_OBJ) -Wl,--version-script=$(BUILD)/libhebb.map \
	  -Wl,-soname,libhebb.so.0 -Wl,--no-undefined $(CORE_LDLIBS)
	ln -sf libhebb.so.0 $@

$(BUILD)/libhebb.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

# The module for stock lua5.4: the interpreter provides the Lua API.  It is
# never unloaded (-z nodelete): lua_close dlcloses C modules, and unmapping
# code that OpenMP worker threads still sit in crashes at exit.
$(BUILD)/hebb.so: $(LUA_OBJ) $(CORE_OBJ)
	$(CC) -shared -Wl,-z,nodelete -o $@ $^ $(CORE_LDLIBS)

$(BUILD)/hebb: $(VM_OBJ) $(LUA_OBJ) $(CORE_OBJ)
	$(CC) -o $@ $^ -Wl,-E $(LUA_LIB) -ldl $(READLINE_LIBS) $(CORE_LDLIBS)

hebb: $(BUILD)/hebb
	ln -sf $(BUILD)/hebb hebb

test: all
	@sh tools/deps.sh test
	@HEBB_CC='$(CC)' HEBB_CFLAGS='$(TEST_CFLAGS)' sh tests/run.sh

# the flags of the C test programs, for tests/run.sh run by hand
test-cflags:
	@echo '$(TEST_CFLAGS)'

# the randomized self-checks of make test (tests/lua/test_selfcheck.lua)
# with 50 times the cases, from a seed taken from the clock (or
# HEBB_SELFCHECK_SEED); a failure prints how to replay its case
selfcheck-long: all
	@HEBB_SELFCHECK_LONG=$${HEBB_SELFCHECK_LONG:-50} LUA_PATH="tests/lua/lib/?.lua;;" \
	  $(BUILD)/hebb tests/lua/test_selfcheck.lua

# the whole suite against the sanitized build (tests/run.sh reads SANITIZE)
sanitize:
	@$(MAKE) --no-print-directory SANITIZE=1 test

# the API reference pages, rendered from the docstrings, and the man page
# docs/hebb.1, rendered from `hebb --help` (tests/docs and tests/packaging
# check that the committed files are current)
API_MODULES := hebb hebb.tensor hebb.linalg hebb.sparse hebb.graph hebb.fft hebb.autograd hebb.nn hebb.optim hebb.data hebb.metrics hebb.io hebb.notebook hebb.plot hebb.progress hebb.sandbox hebb.ode hebb.fields hebb.numeric hebb.lattice hebb.lattice_exact hebb.stats hebb.sweep hebb.runs hebb.mpi hebb.world hebb.rg
docs: all
	@mkdir -p docs/api
	@for m in $(API_MODULES); do \
	  $(BUILD)/hebb tools/gendocs.lua $$m > docs/api/$$m.md || exit 1; done
	@$(BUILD)/hebb tools/docfigures.lua docs/plot.md docs/figures
	@$(BUILD)/hebb --help | $(BUILD)/hebb tools/manpage.lua > docs/hebb.1

# the commit the binaries come from, for notebook manifests; rewritten only
# when it changes, so that only l_notebook.o rebuilds
$(BUILD)/gen/commit.h: FORCE
	@mkdir -p $(dir $@)
	@c=$$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown); \
	  echo "#define HEBB_COMMIT \"$$c\"" > $@.tmp; \
	  cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/obj/natives/lua/l_notebook.o: $(BUILD)/gen/commit.h
$(BUILD)/obj/natives/lua/l_notebook.o: ALL_CFLAGS += -I$(BUILD)/gen
FORCE:

# the flagship notebook, run and rendered
DEMO_NB := examples/ising.lua
DEMO_ARGS := --quick
# the data loaders' fuzzers (libFuzzer + ASan + UBSan, clang), each run for
# FUZZ_SECONDS (or FUZZ_RUNS inputs); the short run is part of make test
fuzz: all
	@sh tools/deps.sh fuzz
	@sh tests/fuzz/fuzz.sh

demo: all
	./hebb notebook run $(DEMO_NB) -o $(BUILD)/demo -- $(DEMO_ARGS)
	@echo "the rendered notebook: $(BUILD)/demo/$(notdir $(DEMO_NB:.lua=.html)) (open it in a browser)"

# the examples at full size (make test checks them at a small size)
examples-full: all
	@sh tools/deps.sh test
	@FULL=1 sh tests/examples/run.sh

# the field-theory examples at full size (make test runs them small)
fields-examples: all
	./hebb examples/dirac.lua --check
	./hebb examples/klein_gordon.lua --check

# the full Ising notebook (L = 32, longer runs), exits non-zero off target
ising: all
	./hebb examples/ising.lua --check

bench: all
	@sh tools/deps.sh bench
	@MULTIARCH='$(MULTIARCH)' sh bench/run.sh

# The Lua sources of stdlib/ are built into the binaries; they are installed
# only for reading, away from package.path (as hebb/tensor.lua on the path
# they would shadow the C module).
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/lua/5.4 \
	  $(DESTDIR)$(PREFIX)/share/hebb/stdlib $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/hebb $(DESTDIR)$(PREFIX)/bin/hebb
	install -m 644 $(BUILD)/libhebb.so.0 $(DESTDIR)$(PREFIX)/lib/libhebb.so.0
	ln -sf libhebb.so.0 $(DESTDIR)$(PREFIX)/lib/libhebb.so
	install -m 644 $(BUILD)/libhebb.a $(DESTDIR)$(PREFIX)/lib/libhebb.a
	install -m 644 include/hebb.h $(DESTDIR)$(PREFIX)/include/hebb.h
	install -m 644 $(BUILD)/hebb.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/hebb.so
	install -m 644 $(STDLIB) $(DESTDIR)$(PREFIX)/share/hebb/stdlib/
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	  tools/hebb.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hebb.pc
	install -m 644 docs/hebb.1 $(DESTDIR)$(PREFIX)/share/man/man1/hebb.1

# The Lua module alone, for stock Lua 5.4 through LuaRocks: `luarocks make`
# (hebb-0.1.0-1.rockspec) builds it with `make rock` and installs it with
# `make rock-install ROCK_LIBDIR=<the rock's lib folder>`.
rock: $(BUILD)/hebb.so

rock-install: rock
	install -d $(ROCK_LIBDIR)
	install -m 644 $(BUILD)/hebb.so $(ROCK_LIBDIR)/hebb.so

clean:
	rm -rf $(BUILD) build-san hebb
