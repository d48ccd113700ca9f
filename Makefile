# Strom: one non-recursive Makefile.
#   make                 objs/strom and objs/strom-client (-O2 -g)
#   make test            ASan+UBSan build; check-layers, unit tests, fuzz corpus replay,
#                        integration tests against real clients
#   make unit            only the unit tests (ASan+UBSan)
#   make fuzz            libFuzzer targets with clang, each run FUZZ_TIME seconds
#   make run             build and run the server in the foreground with conf/strom.conf
#   make check-layers    core/ includes no other layer; media/ only core/; rtmp/ and http/
#                        core/ and media/ (never each other); modules/ all but tools/
#   make bench           t/bench (nginx-rtmp side by side)
# O=dir puts every output under another directory (parallel work trees).

O        ?= objs
CXX      ?= g++
CLANGXX  ?= clang++
FUZZ_TIME ?= 20
TEST_FILTER ?=

CXXSTD   := -std=c++20
WARN     := -Wall -Wextra -Werror -Wno-missing-field-initializers
BASEFLAGS := $(CXXSTD) $(WARN) -g -I. -D_GNU_SOURCE -pthread
NOEXC    := -fno-exceptions -fno-rtti
OPT      := -O2
SANFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRCS  := $(filter-out core/main.cc,$(wildcard core/*.cc media/*.cc rtmp/*.cc http/*.cc modules/*.cc))
MAIN_SRCS := core/main.cc
TOOL_SRCS := $(wildcard tools/*.cc)
UNIT_SRCS := $(wildcard t/unit/*_test.cc)
TLIB_SRCS := $(wildcard t/lib/*.cc)
FUZZ_SRCS := $(wildcard t/fuzz/*_fuzz.cc)
FUZZ_NAMES := $(patsubst t/fuzz/%_fuzz.cc,%,$(FUZZ_SRCS))

# --- release build -------------------------------------------------------------
REL_OBJS := $(patsubst %.cc,$(O)/rel/%.o,$(LIB_SRCS))
REL_LIB  := $(O)/rel/libstrom.a

CLIENT_BIN := $(if $(TOOL_SRCS),$(O)/strom-client,)
ASAN_CLIENT_BIN := $(if $(TOOL_SRCS),$(O)/asan/strom-client,)

all: $(O)/strom $(CLIENT_BIN)

$(O)/rel/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(BASEFLAGS) $(OPT) $(NOEXC) -MMD -MP -c $< -o $@

$(REL_LIB): $(REL_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/strom: $(O)/rel/core/main.o $(REL_LIB)
	$(CXX) $(BASEFLAGS) $(OPT) -o $@ $^

$(O)/strom-client: $(patsubst %.cc,$(O)/rel/%.o,$(TOOL_SRCS)) $(REL_LIB)
	$(CXX) $(BASEFLAGS) $(OPT) -o $@ $^

# --- sanitizer build (tests) ----------------------------------------------------
ASAN_OBJS := $(patsubst %.cc,$(O)/asan/%.o,$(LIB_SRCS))
ASAN_LIB  := $(O)/asan/libstrom.a
UNIT_BINS := $(patsubst t/unit/%_test.cc,$(O)/asan/t/%_test,$(UNIT_SRCS))
TLIB_OBJS := $(patsubst %.cc,$(O)/asan/%.o,$(filter-out t/lib/fuzz_replay_main.cc,$(TLIB_SRCS)))
REPLAY_BINS := $(patsubst %,$(O)/asan/fuzz/%_replay,$(FUZZ_NAMES))

$(O)/asan/core/%.o $(O)/asan/media/%.o $(O)/asan/rtmp/%.o $(O)/asan/http/%.o $(O)/asan/modules/%.o $(O)/asan/tools/%.o: CXXEXTRA := $(NOEXC)
$(O)/asan/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(BASEFLAGS) $(SANFLAGS) $(CXXEXTRA) -MMD -MP -c $< -o $@

$(ASAN_LIB): $(ASAN_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/asan/strom: $(O)/asan/core/main.o $(ASAN_LIB)
	$(CXX) $(BASEFLAGS) $(SANFLAGS) -o $@ $^

$(O)/asan/strom-client: $(patsubst %.cc,$(O)/asan/%.o,$(TOOL_SRCS)) $(ASAN_LIB)
	$(CXX) $(BASEFLAGS) $(SANFLAGS) -o $@ $^

# The client's pieces (all but its main) are a library too, so unit tests link them.
ASAN_TOOL_LIB := $(O)/asan/libtools.a
$(ASAN_TOOL_LIB): $(patsubst %.cc,$(O)/asan/%.o,$(filter-out tools/client_main.cc,$(TOOL_SRCS)))
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(O)/asan/t/%_test: $(O)/asan/t/unit/%_test.o $(TLIB_OBJS) $(ASAN_TOOL_LIB) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(BASEFLAGS) $(SANFLAGS) -o $@ $^ -lgtest_main -lgtest

$(O)/asan/fuzz/%_replay: $(O)/asan/t/fuzz/%_fuzz.o $(O)/asan/t/lib/fuzz_replay_main.o $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(BASEFLAGS) $(SANFLAGS) -o $@ $^

unit-bins: $(UNIT_BINS)
test-bins: $(UNIT_BINS) $(REPLAY_BINS) $(O)/asan/strom $(ASAN_CLIENT_BIN) $(O)/strom $(CLIENT_BIN)

unit: $(UNIT_BINS)
	@O=$(O) t/run_tests.sh unit

test: check-layers test-bins
	@O=$(O) t/run_tests.sh all

# --- fuzzing (clang, libFuzzer) ---------------------------------------------------
FUZZ_FLAGS := $(CXXSTD) -g -O1 -I. -D_GNU_SOURCE -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vptr
FUZZ_LIB_OBJS := $(patsubst %.cc,$(O)/fuzz/%.o,$(LIB_SRCS))
FUZZ_BINS := $(patsubst %,$(O)/fuzz/%_fuzz,$(FUZZ_NAMES))

$(O)/fuzz/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CLANGXX) $(FUZZ_FLAGS) $(NOEXC) -MMD -MP -c $< -o $@

$(O)/fuzz/libstrom.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/fuzz/%_fuzz: $(O)/fuzz/t/fuzz/%_fuzz.o $(O)/fuzz/libstrom.a
	$(CLANGXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^

fuzz-bins: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@for n in $(FUZZ_NAMES); do \
	    mkdir -p $(O)/fuzz/corpus/$$n t/fuzz/corpus/$$n; \
	    echo "== fuzz $$n for $(FUZZ_TIME)s"; \
	    $(O)/fuzz/$${n}_fuzz -max_total_time=$(FUZZ_TIME) -timeout=2 -rss_limit_mb=1024 \
	        -artifact_prefix=t/fuzz/corpus/$$n/crash- \
	        $(O)/fuzz/corpus/$$n t/fuzz/corpus/$$n 2>&1 | tail -n 3 || exit 1; \
	done

# --- misc ---------------------------------------------------------------------------
check-layers:
	@bad=$$(grep -nE '#include +"(media|rtmp|http|modules|tools)/' core/*.h core/*.cc 2>/dev/null; \
	        grep -nE '#include +"(rtmp|http|modules|tools)/' media/*.h media/*.cc 2>/dev/null; \
	        grep -nE '#include +"(http|modules|tools)/' rtmp/*.h rtmp/*.cc 2>/dev/null; \
	        grep -nE '#include +"(rtmp|modules|tools)/' http/*.h http/*.cc 2>/dev/null; \
	        grep -nE '#include +"tools/' modules/*.h modules/*.cc 2>/dev/null); \
	if [ -n "$$bad" ]; then echo "layer violation:"; echo "$$bad"; exit 1; fi; \
	echo "check-layers: ok"

run: $(O)/strom
	@mkdir -p logs
	$(O)/strom -p $(CURDIR)/ -c conf/strom.conf -g "daemon off; error_log stderr info;"

bench: all
	t/bench/run.sh

clean:
	rm -rf $(O)

.PHONY: all test unit unit-bins test-bins fuzz fuzz-bins check-layers run bench clean
.DELETE_ON_ERROR:
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
