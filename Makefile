# SPDX-License-Identifier: GPL-2.0
# vnat: one non-recursive Makefile, every output under build/.

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

BUILD := build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
CLANG_FORMAT ?= clang-format
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I$(BUILD) \
	$(shell pkg-config --cflags libxdp libbpf libnl-3.0 2>/dev/null)
LDLIBS := -lxdp -lbpf -lelf -lz -lnl-route-3 -lnl-3
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf \
	$(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

LIB_SRCS := user/addrs.c user/args.c user/ctnl.c user/datapath.c user/iface.c user/instance.c user/json.c \
	user/peer.c \
	user/log.c user/netns.c user/policy.c user/sync.c user/topo.c
# per-interface drop counters and do-nothing configuration checks (status, load)
LIB_SRCS += user/ifstats.c user/warnings.c
CLI_SRCS := user/main.c user/cmd_load.c user/cmd_unload.c user/cmd_status.c user/cmd_conns.c user/cmd_daemon.c
UNIT_SRCS := $(wildcard selftests/unit/test_*.c)
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard selftests/unit/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_HELPER_OBJS := $(UNIT_HELPERS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:selftests/unit/%.c=$(BUILD)/selftests/%)
SKEL := $(BUILD)/vnat.skel.h
BPF_OBJ := $(BUILD)/bpf/vnat.bpf.o
FORMAT_FILES := $(wildcard include/*.h bpf/*.c bpf/lib/*.h user/*.c user/*.h \
	selftests/unit/*.c selftests/unit/*.h tools/*.c tools/*.h)

.PHONY: all test unit-test net-test demo bench format format-check clean help
all: $(BUILD)/vnat $(UNIT_BINS)

help:
	@echo 'make              build build/vnat and the unit tests (warnings are errors)'
	@echo 'make test         run every unit and net test (root; see README)'
	@echo 'make demo         run vnat on the built-in T1 demo topology'
	@echo 'make bench        benchmarks: vnat against the kernel path'
	@echo 'make format-check check clang-format (make format to fix)'
	@echo 'make clean        remove build/'
	@echo 'V=1               show commands and test output'

# BPF: compile, link with bpftool (as libbpf would), generate the skeleton.
$(BUILD)/bpf/vnat.tmp.o: bpf/vnat.bpf.c Makefile | $(BUILD)/bpf
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(BUILD)/bpf/vnat.d -MT $@ -c $< -o $@

$(BPF_OBJ): $(BUILD)/bpf/vnat.tmp.o
	$(call msg,GENOBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(SKEL): $(BPF_OBJ)
	$(call msg,GENSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name vnat > $@

$(BUILD)/%.o: %.c Makefile | $(SKEL)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libvnat.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/vnat: $(CLI_OBJS) $(BUILD)/libvnat.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/selftests/%: $(BUILD)/selftests/unit/%.o $(UNIT_HELPER_OBJS) $(BUILD)/libvnat.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka $(UNIT_LDLIBS)

# test_race runs the programs from two threads pinned to two CPUs.
$(BUILD)/selftests/unit/test_race.o: CFLAGS += -pthread
$(BUILD)/selftests/test_race: UNIT_LDLIBS += -pthread

$(BUILD)/bpf:
	@mkdir -p $@

test: all
	$(Q)V=$(V) VNAT=$(abspath $(BUILD)/vnat) UNIT_DIR=$(abspath $(BUILD)/selftests) \
		selftests/run.sh

demo: $(BUILD)/vnat
	$(Q)VNAT=$(abspath $(BUILD)/vnat) tools/demo.sh

bench: $(BUILD)/vnat
	$(Q)VNAT=$(abspath $(BUILD)/vnat) tools/bench.sh $(BENCH_ARGS)

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:
	$(call msg,FORMAT,check)
	$(Q)$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

clean:
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/bpf/*.d $(BUILD)/user/*.d $(BUILD)/selftests/unit/*.d)

# --- bench tools ---
# tools/bench/: the benchmark's packet generator, counting sink, ceiling
# forwarder (one BPF object and skeleton) and TCP transaction tool, linked
# into build/tools/bench/vnat-bench for tools/bench.sh (`make bench`).
BENCH_BUILD := $(BUILD)/tools/bench
BENCH_BIN := $(BENCH_BUILD)/vnat-bench
BENCH_SKEL := $(BENCH_BUILD)/vnat_bench.skel.h
BENCH_OBJS := $(BENCH_BUILD)/vnat-bench.o $(BENCH_BUILD)/tcprr.o
FORMAT_FILES += $(wildcard tools/bench/*.c tools/bench/*.h)

all: $(BENCH_BIN)
bench: $(BENCH_BIN)

$(BENCH_BUILD)/vnat_bench.tmp.o: tools/bench/vnat_bench.bpf.c tools/bench/bench.h Makefile
	$(call msg,CLANG,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itools/bench -MMD -MP -MF $(BENCH_BUILD)/vnat_bench.d -MT $@ \
		-c $< -o $@

$(BENCH_BUILD)/vnat_bench.bpf.o: $(BENCH_BUILD)/vnat_bench.tmp.o
	$(call msg,GENOBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BENCH_SKEL): $(BENCH_BUILD)/vnat_bench.bpf.o
	$(call msg,GENSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name vnat_bench > $@

$(BENCH_OBJS): CFLAGS += -Itools/bench -I$(BENCH_BUILD)
$(BENCH_OBJS): $(BENCH_SKEL)

$(BENCH_BIN): $(BENCH_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -pthread -o $@ $^ -lbpf -lelf -lz

-include $(wildcard $(BENCH_BUILD)/*.d)
