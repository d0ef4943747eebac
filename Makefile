# sealroot: plain GNU make, out-of-tree build in $(O).
#   make            build/init (static, musl) and the host tools
#   make check      unit tests (plain and ASan+UBSan) and VM scenarios
#   make unit       host unit tests only
#   make demo       build and boot the demo image in QEMU
#   make bench      sealroot vs Debian's dracut + systemd initrd, side by side (not in check)
#   make install    DESTDIR/PREFIX honoured

O ?= build
PREFIX ?= /usr/local
DESTDIR ?=

# The host is prepared by deps/setup (host packages, sysroot, test kernel);
# make never installs anything. The sysroot's path depends on the musl
# toolchain, so it is asked for only when a rule needs it, and only once.
SYSROOT = $(eval SYSROOT := $(shell deps/sysroot path))$(SYSROOT)
CC = $(SYSROOT)/bin/cc
HOSTCC ?= gcc
PKG_CONFIG := PKG_CONFIG_LIBDIR=$(SYSROOT)/lib/pkgconfig pkg-config
# tpm2-tss: ESYS over sealroot's own transport on /dev/tpm0 (src/tpm.c;
# no tctildr, no dlopen). tss2-esys still brings tss2-tcti-device, for its
# built-in default that sealroot never takes.
TPM_PKGS := tss2-esys tss2-mu tss2-rc
INIT_PKGS := blkid libcryptsetup devmapper libcrypto json-c $(TPM_PKGS)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
	-Wno-format-nonliteral
HARDEN := -fstack-protector-strong -fno-strict-aliasing
CFLAGS ?= -Os -g
INIT_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) \
	-ffunction-sections -fdata-sections -Iinclude -Iinit \
	$(shell $(PKG_CONFIG) --cflags $(INIT_PKGS))
INIT_LDFLAGS = -static -Wl,--gc-sections -Wl,-z,relro,-z,now -Wl,-z,noexecstack
INIT_LIBS = $(shell $(PKG_CONFIG) --static --libs $(INIT_PKGS))

HOST_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) -O2 -g \
	-D_FORTIFY_SOURCE=2 -Iinclude
SAN_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g -Iinclude \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

INIT_SRCS := init/main.c init/boot.c init/sealed.c init/integrity.c src/log.c src/util.c \
	src/config.c src/devspec.c src/devprobe.c src/devwait.c src/modules.c \
	src/switchroot.c src/roothash.c src/veritysb.c src/veritytab.c \
	src/verity.c src/plan.c src/tpm.c src/tpm2token.c src/luks.c \
	src/state.c src/prompt.c src/measure.c src/keys.c src/evm.c src/ima.c \
	src/personalize.c
INIT_OBJS := $(INIT_SRCS:%.c=$(O)/obj/%.o)

LINT_SRCS := src/lint.c src/config.c src/plan.c src/devspec.c src/roothash.c \
	src/util.c
MKCPIO_SRCS := src/mkcpio.c src/cpio.c
# The build-time audit: sealroot-lint's parser and plan, the IMA policy
# linter, and its own readers.
AUDIT_LIB_SRCS := src/audit.c src/auditcore.c src/auditreport.c src/auditima.c \
	src/kconfig.c src/elfinfo.c src/roottree.c src/certkey.c src/imapolicy.c \
	src/config.c src/plan.c src/devspec.c src/roothash.c src/util.c
AUDIT_SRCS := src/auditmain.c $(AUDIT_LIB_SRCS)
# The IMA policy linter; config.c for config_valid_uuid (fsuuid=).
IMALINT_SRCS := src/imalint.c src/imapolicy.c src/config.c src/devspec.c \
	src/roothash.c src/util.c

# Unit tests: test name and the sources it links besides its own file.
UNIT_TESTS := config plan devspec devwait modules cpio roothash switchroot util \
	tpm2token veritysb veritytab tpm luks interop prompt measure boot imapolicy \
	integrity audit
unit_srcs_config := src/config.c src/devspec.c src/roothash.c src/util.c
# test-imapolicy reads its policies (tests/unit/ima-policies, policies/)
# from the source tree.
unit_srcs_imapolicy := src/imapolicy.c $(unit_srcs_config)
unit_cflags_imapolicy := -DTEST_TOP='"$(CURDIR)"'
unit_srcs_plan := src/plan.c $(unit_srcs_config)
unit_srcs_roothash := src/roothash.c
unit_srcs_util := src/util.c
unit_srcs_devspec := src/devspec.c
unit_srcs_devwait := src/devwait.c src/devspec.c src/log.c src/util.c
unit_srcs_modules := src/modules.c src/log.c src/util.c
unit_srcs_cpio := src/cpio.c
unit_srcs_switchroot := src/switchroot.c src/log.c
unit_srcs_tpm2token := src/tpm2token.c src/util.c
unit_srcs_tpm := src/tpm.c src/log.c
unit_srcs_luks := src/luks.c src/tpm2token.c src/log.c src/util.c
unit_srcs_interop := src/luks.c src/tpm.c src/tpm2token.c src/log.c src/util.c
unit_srcs_measure := src/measure.c src/tpm.c src/log.c src/util.c
unit_srcs_veritysb := src/veritysb.c src/roothash.c src/util.c
unit_srcs_veritytab := src/veritytab.c
unit_srcs_prompt := src/prompt.c
unit_srcs_integrity := src/evm.c src/keys.c src/ima.c src/personalize.c src/log.c \
	src/util.c src/config.c src/devspec.c src/roothash.c
unit_libs_integrity := -lcrypto
unit_srcs_audit := $(AUDIT_LIB_SRCS)
# init/boot.c's bookkeeping; the rest of the spine links in, unused.
unit_srcs_boot := init/boot.c src/log.c src/util.c src/config.c src/devspec.c \
	src/devprobe.c src/devwait.c src/modules.c src/switchroot.c src/roothash.c \
	src/veritysb.c src/veritytab.c src/verity.c src/plan.c
unit_libs_boot := -lcryptsetup -ldevmapper -lblkid -lcrypto
unit_cflags_boot := -Iinit -I/usr/include/blkid
# Host libraries a test links (the host's, not the sysroot's).
unit_libs_tpm2token := -ljson-c -lcrypto
unit_libs_tpm := -ltss2-esys -ltss2-sys -ltss2-mu -ltss2-rc \
	-ltss2-tcti-swtpm -lcrypto
unit_libs_luks := -lcryptsetup -lblkid -ljson-c -lcrypto
unit_libs_interop := $(unit_libs_tpm) -lcryptsetup -lblkid -ljson-c
unit_libs_measure := $(unit_libs_tpm)
unit_libs_veritysb := -lcrypto

# libFuzzer targets (clang, ASan+UBSan) for every parser of input
# sealroot or mkinitramfs does not control; seeds in tests/fuzz/corpus/.
FUZZ_TARGETS := config cmdline modules verity manifest tpm2token recovery \
	veritysb veritytab measure imapolicy kconfig elfinfo certkey
fuzz_srcs_config := src/config.c src/devspec.c src/roothash.c src/util.c
fuzz_srcs_cmdline := $(fuzz_srcs_config) src/plan.c
fuzz_srcs_modules := src/modules.c src/log.c src/util.c
fuzz_srcs_verity := src/devspec.c src/roothash.c
fuzz_srcs_manifest := src/cpio.c
fuzz_srcs_tpm2token := src/tpm2token.c src/util.c
fuzz_libs_tpm2token := $(unit_libs_tpm2token)
fuzz_srcs_recovery := src/tpm2token.c src/util.c
fuzz_libs_recovery := $(unit_libs_tpm2token)
fuzz_srcs_veritysb := src/veritysb.c src/roothash.c src/util.c
fuzz_libs_veritysb := $(unit_libs_veritysb)
fuzz_srcs_veritytab := src/veritytab.c
fuzz_srcs_imapolicy := src/imapolicy.c $(fuzz_srcs_config)
# The log reader; the rest of measure.c (the barrier) links tpm.c.
fuzz_srcs_measure := $(unit_srcs_measure)
fuzz_libs_measure := $(unit_libs_measure)
fuzz_srcs_kconfig := src/kconfig.c
fuzz_srcs_elfinfo := src/elfinfo.c src/util.c
fuzz_srcs_certkey := src/certkey.c src/util.c
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g -Iinclude \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BINS := $(FUZZ_TARGETS:%=$(O)/fuzz/fuzz-%)
FUZZ_SECONDS ?= 600

HOST_TOOLS := $(O)/host/sealroot-lint $(O)/host/sealroot-mkcpio \
	$(O)/host/sealroot-imalint $(O)/host/sealroot-audit
UNIT_BINS := $(UNIT_TESTS:%=$(O)/host/test-%) $(UNIT_TESTS:%=$(O)/asan/test-%)

.DELETE_ON_ERROR:
.PHONY: all sysroot tools unit-bins unit analyze test-packages fuzz-bins fuzz check demo bench install clean

all: $(O)/init $(O)/mke2fs tools

tools: $(HOST_TOOLS)

# Checks the host build tools (naming what is missing), then builds the
# sysroot unless it is cached.
sysroot:
	@deps/sysroot build >/dev/null

$(O)/obj/%.o: %.c $(wildcard include/*.h init/*.h) | sysroot
	@mkdir -p $(@D)
	$(CC) $(INIT_CFLAGS) -c -o $@ $<

$(O)/init: $(INIT_OBJS)
	$(CC) $(INIT_CFLAGS) $(INIT_LDFLAGS) -o $@.debug $^ $(INIT_LIBS)
	strip -o $@ $@.debug

# The static mke2fs of the sysroot (e2fsprogs, pinned): mkinitramfs packs
# it next to init when a state volume is configured.
$(O)/mke2fs: | sysroot
	@mkdir -p $(@D)
	install -m 755 $(SYSROOT)/sbin/mke2fs $@

$(O)/host/sealroot-lint: $(LINT_SRCS) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(LINT_SRCS)

$(O)/host/sealroot-mkcpio: $(MKCPIO_SRCS) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(MKCPIO_SRCS)

$(O)/host/sealroot-imalint: $(IMALINT_SRCS) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(IMALINT_SRCS)

$(O)/host/sealroot-audit: $(AUDIT_SRCS) $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(AUDIT_SRCS)

.SECONDEXPANSION:
$(O)/host/test-%: tests/unit/test-%.c $$(unit_srcs_$$*) $(wildcard tests/unit/*.h include/*.h init/*.h)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) $(unit_cflags_$*) -o $@ $< $(unit_srcs_$*) $(unit_libs_$*)

$(O)/asan/test-%: tests/unit/test-%.c $$(unit_srcs_$$*) $(wildcard tests/unit/*.h include/*.h init/*.h)
	@mkdir -p $(@D)
	$(HOSTCC) $(SAN_CFLAGS) $(unit_cflags_$*) -o $@ $< $(unit_srcs_$*) $(unit_libs_$*)

# test-tpm once more, static against the device's own tpm2-tss (musl
# sysroot), so the library the device links is the one tested on swtpm.
$(O)/musl/test-tpm: tests/unit/test-tpm.c $(unit_srcs_tpm) $(wildcard tests/unit/*.h include/*.h) | sysroot
	@mkdir -p $(@D)
	$(CC) $(filter-out -ffunction-sections -fdata-sections,$(INIT_CFLAGS)) \
		-DTEST_RAW_TCTI -static -o $@ $< $(unit_srcs_tpm) \
		$(shell $(PKG_CONFIG) --static --libs $(TPM_PKGS) libcrypto)

# test-luks the same way: the device's libcryptsetup 2.6.1 (static, no
# token plugins), blkid and json-c, on image files; cryptsetup(8) and
# mkfs.ext4 from the host make the volumes that are not ours.
LUKS_TEST_PKGS := libcryptsetup blkid libcrypto json-c
$(O)/musl/test-luks: tests/unit/test-luks.c $(unit_srcs_luks) $(wildcard tests/unit/*.h include/*.h) | sysroot
	@mkdir -p $(@D)
	$(CC) $(filter-out -ffunction-sections -fdata-sections,$(INIT_CFLAGS)) \
		$(shell $(PKG_CONFIG) --cflags $(LUKS_TEST_PKGS)) \
		-static -o $@ $< $(unit_srcs_luks) \
		$(shell $(PKG_CONFIG) --static --libs $(LUKS_TEST_PKGS))

unit-bins: $(UNIT_BINS) $(O)/musl/test-tpm $(O)/musl/test-luks tools

# The test tools (clang, QEMU, ...): deps/setup installs them; here they
# are only checked, naming what is missing.
test-packages:
	@tests/vm/host-packages --check >/dev/null

$(O)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $$(fuzz_srcs_$$*) $(wildcard include/*.h) | test-packages
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(fuzz_srcs_$*) $(fuzz_libs_$*)

fuzz-bins: $(FUZZ_BINS)

# Each target for FUZZ_SECONDS (default 10 minutes), from the seeds; new
# inputs stay under $(O)/fuzz/corpus-*, crashes in $(O)/fuzz/.
fuzz: fuzz-bins
	SEALROOT_FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run --fuzz-only

# Modules not in init, analyzed with the host's headers.
HOST_ANALYZE_SRCS :=

# gcc's static analyzer over our own code, with the build's headers and
# warnings: any report fails. At -O0: gcc 12 misses paths at -Os.
NOOPT = $(filter-out -O% -D_FORTIFY_SOURCE%,$(1)) -O0
analyze: | sysroot
	@for f in $(INIT_SRCS); do \
		$(CC) $(call NOOPT,$(INIT_CFLAGS)) -fanalyzer -c -o /dev/null $$f || exit 1; \
	done
	@for f in $(sort $(LINT_SRCS) $(MKCPIO_SRCS) $(IMALINT_SRCS) $(AUDIT_SRCS) $(HOST_ANALYZE_SRCS)); do \
		$(HOSTCC) $(call NOOPT,$(HOST_CFLAGS)) -fanalyzer -c -o /dev/null $$f || exit 1; \
	done
	@echo "analyze: no reports"

unit: unit-bins
	tests/run --unit-only

check: all unit-bins analyze fuzz-bins
	tests/run

demo: all
	tests/vm/demo

# Boots of both systems, interleaved; figures on stdout and in
# $(O)/bench (bench.json, timeline.svg). BENCH_ARGS, e.g. --runs 21.
bench: all test-packages
	tests/bench/run $(BENCH_ARGS)

# The packer as $(PREFIX)/bin/sealroot-mkinitramfs; what it packs and runs
# (init, mke2fs, every tool of HOST_TOOLS: a new one is installed by being
# there) in $(PREFIX)/lib/sealroot; the default policies, examples included,
# in $(PREFIX)/share/sealroot/policies. The packer finds them relative to
# its own path, so DESTDIR staging and a moved prefix both work.
install: all
	install -D -m 0755 mkinitramfs $(DESTDIR)$(PREFIX)/bin/sealroot-mkinitramfs
	install -D -m 0755 -t $(DESTDIR)$(PREFIX)/lib/sealroot $(O)/init $(O)/mke2fs $(HOST_TOOLS)
	cd policies && find . -type f -exec install -D -m 0644 {} \
		'$(DESTDIR)$(PREFIX)/share/sealroot/policies/{}' \;

clean:
	rm -rf $(O)
