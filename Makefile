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

LIB_SRCS := user/addrs.c user/args.c user/config.c user/ctnl.c user/hooks.c user/loader.c user/maps.c \
	user/iface.c user/instance.c user/json.c user/libvirt_xml.c user/peer.c \
	user/daemon_lock.c user/health.c user/iter.c user/log.c user/netns.c user/privs.c user/stale.c \
	user/policy.c user/sync.c user/topo.c
# per-interface drop counters and do-nothing configuration checks (status, load)
LIB_SRCS += user/ifstats.c user/warnings.c
# the option tables' parser, usage, man page sections and bash completion
LIB_SRCS += user/options.c user/optdoc.c user/completion.c
# one print path for text and JSON (out.c), and status described through it
LIB_SRCS += user/out.c user/status.c
CLI_SRCS := user/main.c user/cmd_load.c user/cmd_unload.c user/cmd_status.c user/cmd_conns.c user/cmd_daemon.c \
	user/version.c user/apply.c user/cmd_apply.c user/cmd_libvirt.c
LIB_SRCS += user/doctor.c user/doctor_parse.c
CLI_SRCS += user/cmd_doctor.c
UNIT_SRCS := $(wildcard selftests/unit/test_*.c)
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard selftests/unit/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_HELPER_OBJS := $(UNIT_HELPERS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:selftests/unit/%.c=$(BUILD)/selftests/%)
SKEL := $(BUILD)/vnat.skel.h
BUILD_H := $(BUILD)/vnat_build.h $(BUILD)/vnat_version.h
BPF_OBJ := $(BUILD)/bpf/vnat.bpf.o
FORMAT_FILES := $(wildcard include/*.h bpf/*.c bpf/lib/*.h user/*.c user/*.h \
	selftests/unit/*.c selftests/unit/*.h tools/*.c tools/*.h)

.PHONY: all test unit-test net-test demo bench format format-check clean help install uninstall \
	man man-sync man-check FORCE
all: $(BUILD)/vnat $(UNIT_BINS)

help:
	@echo 'make              build build/vnat and the unit tests (warnings are errors)'
	@echo 'make test         run every unit and net test (root; see README)'
	@echo 'make demo         run vnat on the built-in T1 demo topology'
	@echo 'make bench        benchmarks: vnat against the kernel path'
	@echo 'make format-check check clang-format (make format to fix)'
	@echo 'make man-sync     write the man page'"'"'s SYNOPSIS and OPTIONS from the option'
	@echo '                  tables (make man-check, part of make test: is it current?)'
	@echo 'make clean        remove build/'
	@echo 'make install      binary, man page, completion, systemd unit, libvirt hook,'
	@echo '                  example configuration (PREFIX=/usr/local, DESTDIR=)'
	@echo 'make uninstall    remove what make install put there'
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

$(BUILD)/%.o: %.c Makefile | $(SKEL) $(BUILD_H)
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

test: all man-check
	$(Q)V=$(V) VNAT=$(abspath $(BUILD)/vnat) UNIT_DIR=$(abspath $(BUILD)/selftests) \
		selftests/run.sh

demo: $(BUILD)/vnat
	$(Q)VNAT=$(abspath $(BUILD)/vnat) tools/demo.sh

bench: $(BUILD)/vnat
	$(Q)VNAT=$(abspath $(BUILD)/vnat) tools/bench/bench.py $(BENCH_ARGS)

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:
	$(call msg,FORMAT,check)
	$(Q)$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

clean:
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/bpf/*.d $(BUILD)/user/*.d $(BUILD)/selftests/unit/*.d)

# --- version, installation ---
# The version is git describe's (tags vX.Y), else the VERSION file's (a
# tarball).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
LIBVIRT_HOOKDIR ?= $(SYSCONFDIR)/libvirt/hooks
MD2MAN ?= go-md2man
VNAT_VERSION = $(shell tools/version.sh)
INSTALLED := $(SBINDIR)/vnat $(MANDIR)/man8/vnat.8 $(BASHCOMPDIR)/vnat $(UNITDIR)/vnat.service \
	$(SYSCONFDIR)/vnat/vnat.conf.example

# Each rewritten only when a value changed: the version (dirty with any edit)
# rebuilds version.o alone.
$(BUILD)/vnat_version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '/* generated by make: do not edit */' \
		'#define VNAT_VERSION "$(VNAT_VERSION)"' \
		'#define VNAT_LIBXDP_BUILT "$(shell pkg-config --modversion libxdp 2>/dev/null)"' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(BUILD)/vnat_build.h: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '/* generated by make: do not edit */' \
		'#define VNAT_CONF_PATH "$(SYSCONFDIR)/vnat/vnat.conf"' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

man: $(BUILD)/vnat.8

$(BUILD)/vnat.8: docs/vnat.8.md Makefile $(BUILD)/vnat_version.h
	$(call msg,MD2MAN,$@)
	@command -v $(MD2MAN) >/dev/null || { echo "make: $(MD2MAN) not found: the man page needs" \
		"it (apt-get install go-md2man, or tools/setup.sh)" >&2; exit 1; }
	$(Q)sed 's/@VERSION@/$(VNAT_VERSION)/; /^<!-- .* -->$$/d' $< | $(MD2MAN) >$@

# The page's SYNOPSIS and OPTIONS are written from the option tables
# (user/args.c, user/options.c): man-sync rewrites them, man-check fails
# when the committed page differs.
MAN_SECTIONS := $(BUILD)/tools/man-sections
all: $(MAN_SECTIONS)

$(MAN_SECTIONS): $(BUILD)/tools/man-sections.o $(BUILD)/libvnat.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

man-sync: $(MAN_SECTIONS)
	$(Q)tools/man-sync.sh $(MAN_SECTIONS) docs/vnat.8.md

man-check: $(MAN_SECTIONS)
	$(call msg,MANCHECK,docs/vnat.8.md)
	$(Q)tools/man-sync.sh --check $(MAN_SECTIONS) docs/vnat.8.md

$(BUILD)/vnat.bash: $(BUILD)/vnat
	$(call msg,GEN,$@)
	$(Q)$< completion bash >$@

# The unit and the hook name the installed binary.
$(BUILD)/vnat.service: tools/systemd/vnat.service Makefile
	$(call msg,GEN,$@)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< >$@

$(BUILD)/libvirt-network: tools/libvirt/network Makefile
	$(call msg,GEN,$@)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' $< >$@

install: $(BUILD)/vnat $(BUILD)/vnat.8 $(BUILD)/vnat.bash $(BUILD)/vnat.service \
		$(BUILD)/libvirt-network
	install -D -m 0755 $(BUILD)/vnat $(DESTDIR)$(SBINDIR)/vnat
	install -D -m 0644 $(BUILD)/vnat.8 $(DESTDIR)$(MANDIR)/man8/vnat.8
	install -D -m 0644 $(BUILD)/vnat.bash $(DESTDIR)$(BASHCOMPDIR)/vnat
	install -D -m 0644 $(BUILD)/vnat.service $(DESTDIR)$(UNITDIR)/vnat.service
	install -D -m 0644 tools/vnat.conf.example $(DESTDIR)$(SYSCONFDIR)/vnat/vnat.conf.example
	@tools/install-hook.sh install $(BUILD)/libvirt-network $(DESTDIR)$(LIBVIRT_HOOKDIR)/network

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(SYSCONFDIR)/vnat 2>/dev/null
	@tools/install-hook.sh uninstall $(BUILD)/libvirt-network $(DESTDIR)$(LIBVIRT_HOOKDIR)/network

# --- bench tools ---
# tools/bench/: the benchmark's packet generator, counting sink, ceiling
# forwarder (one BPF object and skeleton) and TCP transaction tool, linked
# into build/tools/bench/vnat-bench for tools/bench/bench.py (`make bench`).
BENCH_BUILD := $(BUILD)/tools/bench
BENCH_BIN := $(BENCH_BUILD)/vnat-bench
BENCH_SKEL := $(BENCH_BUILD)/vnat_bench.skel.h
BENCH_OBJS := $(BENCH_BUILD)/vnat-bench.o $(BENCH_BUILD)/tcprr.o $(BENCH_BUILD)/udpflows.o
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

# --- vnet-relay ---
# tools/vnet-relay.c: a network namespace as a virtio guest on a tap (vnet
# headers, partial checksums, GSO), for selftests/net/lib.sh tap_guest_add.
RELAY_BIN := $(BUILD)/tools/vnet-relay
RELAY_OBJS := $(BUILD)/tools/vnet-relay.o $(BUILD)/tools/vnet_hdr.o

all: $(RELAY_BIN)
bench: $(RELAY_BIN) # the tap guests of the benchmark's real-endpoint rows

$(RELAY_BIN): $(RELAY_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^

$(BUILD)/selftests/unit/test_vnet_hdr.o: CFLAGS += -Itools
$(BUILD)/selftests/test_vnet_hdr: $(BUILD)/tools/vnet_hdr.o

-include $(wildcard $(BUILD)/tools/*.d)
