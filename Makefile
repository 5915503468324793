# hebb -- build, test, bench, install.  `make help` lists the targets.

PREFIX ?= /usr/local
BUILD  ?= build
CC     ?= gcc

BLAS_LIB := /usr/lib/x86_64-linux-gnu/openblas-openmp
LUA_INC  := /usr/include/lua5.4

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -O3 -g -Wall -Wextra -fPIC -fopenmp \
               -fno-math-errno -Iinclude -Inatives/core -Inatives/lua \
               -I$(LUA_INC) -DHEBB_BLAS_LIB='"$(BLAS_LIB)/libopenblas.so.0"'
CFLAGS ?=
ALL_CFLAGS := $(CFLAGS_BASE) $(CFLAGS)
# OpenBLAS is not linked: blas.c opens it on first use (start-up time)
CORE_LDLIBS := -fopenmp -ldl -lm -lpthread

CORE_SRC := $(sort $(wildcard natives/core/*.c))
LUA_SRC  := $(sort $(wildcard natives/lua/*.c))
VM_SRC   := $(sort $(wildcard vm/*.c))
STDLIB   := $(sort $(wildcard stdlib/hebb/*.lua))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
LUA_OBJ  := $(LUA_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/stdlib.o
VM_OBJ   := $(VM_SRC:%.c=$(BUILD)/obj/%.o)
DEPS_OK  := $(BUILD)/.deps-build
# stdlib/hebb/init.lua is module "hebb", stdlib/hebb/x.lua is "hebb.x"; the
# Lua files of modules with a C opener extend the C module.
NATIVE_MODS := hebb,hebb.tensor
modname = $(patsubst %.init,%,hebb.$(basename $(notdir $(1))))

.PHONY: all deps test bench demo install clean help docs

all: $(BUILD)/hebb $(BUILD)/libhebb.so $(BUILD)/libhebb.a $(BUILD)/hebb.so hebb

help:
	@echo "make          build ./hebb, libhebb.so/.a and hebb.so (installs Debian deps)"
	@echo "make test     run every test suite; ends with 'N passed, N failed'"
	@echo "make demo     build, then run examples/ising_demo.lua"
	@echo "make bench    benchmarks against numpy/torch/hand-written C (ratios)"
	@echo "make install  PREFIX=... installs binary, library, header, module, .pc"
	@echo "make docs     regenerate docs/api/*.md from the docstrings"

$(DEPS_OK): tools/deps.sh
	@mkdir -p $(BUILD)
	@sh tools/deps.sh build
	@touch $@

deps: $(DEPS_OK)

$(BUILD)/obj/%.o: %.c include/hebb.h $(wildcard natives/core/*.h) $(wildcard natives/lua/*.h) $(wildcard vm/*.h) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/embed: tools/embed.c | $(DEPS_OK)
	$(CC) -O2 -Wall -Wextra $< -o $@

$(BUILD)/gen/stdlib.c: $(BUILD)/embed $(STDLIB)
	@mkdir -p $(dir $@)
	$(BUILD)/embed $@ $(NATIVE_MODS) $(foreach f,$(STDLIB),$(call modname,$(f))=$(f))

$(BUILD)/obj/gen/stdlib.o: $(BUILD)/gen/stdlib.c natives/lua/lhebb.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# libhebb.so exports exactly the functions of hebb.h's FFI block.
$(BUILD)/libhebb.map: include/hebb.h
	@mkdir -p $(BUILD)
	@{ echo "{ global:"; \
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
	$(CC) -o $@ $^ -Wl,-E /usr/lib/x86_64-linux-gnu/liblua5.4.a -ldl -lreadline $(CORE_LDLIBS)

hebb: $(BUILD)/hebb
	ln -sf $(BUILD)/hebb hebb

test: all
	@sh tools/deps.sh test
	@sh tests/run.sh

# the API reference pages, rendered from the docstrings (tests/docs checks
# that the committed pages are current)
API_MODULES := hebb hebb.tensor hebb.linalg hebb.sparse hebb.graph hebb.fft hebb.autograd hebb.nn hebb.optim hebb.data hebb.metrics hebb.io hebb.numeric hebb.lattice hebb.lattice_exact hebb.stats hebb.rg
docs: all
	@mkdir -p docs/api
	@for m in $(API_MODULES); do \
	  $(BUILD)/hebb tools/gendocs.lua $$m > docs/api/$$m.md || exit 1; done

demo: all
	./hebb examples/ising_demo.lua

bench: all
	@sh tools/deps.sh bench
	@sh bench/run.sh

# The Lua sources of stdlib/ are built into the binaries; they are installed
# only for reading, away from package.path (as hebb/tensor.lua on the path
# they would shadow the C module).
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/lua/5.4 \
	  $(DESTDIR)$(PREFIX)/share/hebb/stdlib $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/hebb $(DESTDIR)$(PREFIX)/bin/hebb
	install -m 644 $(BUILD)/libhebb.so.0 $(DESTDIR)$(PREFIX)/lib/libhebb.so.0
	ln -sf libhebb.so.0 $(DESTDIR)$(PREFIX)/lib/libhebb.so
	install -m 644 $(BUILD)/libhebb.a $(DESTDIR)$(PREFIX)/lib/libhebb.a
	install -m 644 include/hebb.h $(DESTDIR)$(PREFIX)/include/hebb.h
	install -m 644 $(BUILD)/hebb.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/hebb.so
	install -m 644 $(STDLIB) $(DESTDIR)$(PREFIX)/share/hebb/stdlib/
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	  tools/hebb.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hebb.pc

clean:
	rm -rf $(BUILD) hebb
