#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "unit.h"

static struct config cfg;
static struct config_error err;

static int parse(const char *text)
{
	config_defaults(&cfg);
	memset(&err, 0, sizeof(err));
	return config_parse_text(&cfg, text, strlen(text), &err);
}

static int cmdline(const char *text)
{
	memset(&err, 0, sizeof(err));
	return config_parse_cmdline(&cfg, text, &err);
}

static void test_defaults(void)
{
	CHECK(parse("") == 0);
	CHECK_STR(cfg.root, "");
	CHECK_STR(cfg.root_fstype, "auto");
	CHECK(cfg.root_timeout == 30);
	CHECK_STR(cfg.init, "/sbin/init");
	CHECK(cfg.failure_action == FAILURE_REBOOT);
	CHECK(cfg.mode == MODE_PRODUCTION);
}

static void test_full_file(void)
{
	CHECK(parse("# comment\n"
		    "root = PARTUUID=0fc63daf-8483-4772-8e79-3d69d8477de4\n"
		    "\n"
		    "  root.fstype=ext4  \n"
		    "root.options = noatime,errors=panic\n"
		    "root.timeout = 3600\n"
		    "modules = virtio_pci virtio-blk ext4\n"
		    "init = /lib/systemd/systemd\n"
		    "failure.action = poweroff\n"
		    "failure.delay = 0\n"
		    "mode = development\n") == 0);
	CHECK_STR(cfg.root, "PARTUUID=0fc63daf-8483-4772-8e79-3d69d8477de4");
	CHECK_STR(cfg.root_fstype, "ext4");
	CHECK_STR(cfg.root_options, "noatime,errors=panic");
	CHECK(cfg.root_timeout == 3600);
	CHECK_STR(cfg.modules, "virtio_pci virtio-blk ext4");
	CHECK_STR(cfg.init, "/lib/systemd/systemd");
	CHECK(cfg.failure_action == FAILURE_POWEROFF);
	CHECK(cfg.failure_delay == 0);
	CHECK(cfg.mode == MODE_DEVELOPMENT);
}

static void test_unknown_key_has_line(void)
{
	CHECK(parse("root = LABEL=x\n\nroot.tmeout = 5\n") == -EINVAL);
	CHECK(err.line == 3);
	CHECK(strstr(err.msg, "unknown key 'root.tmeout'") != NULL);
}

static void test_numbers_range_checked(void)
{
	CHECK(parse("root.timeout = 0\n") == -EINVAL);
	CHECK(strstr(err.msg, "root.timeout") && strstr(err.msg, "1..3600"));
	CHECK(parse("root.timeout = 3601\n") == -EINVAL);
	CHECK(parse("root.timeout = -1\n") == -EINVAL);
	CHECK(parse("root.timeout = 5s\n") == -EINVAL);
	CHECK(parse("root.timeout = 99999999999999999999\n") == -EINVAL);
	CHECK(parse("root.timeout = \n") == -EINVAL);
	CHECK(parse("root.timeout = 007\n") == 0 && cfg.root_timeout == 7);
}

static void test_bad_values_named(void)
{
	CHECK(parse("failure.action = explode\n") == -EINVAL);
	CHECK(strstr(err.msg, "failure.action") && strstr(err.msg, "reboot, poweroff, halt"));
	CHECK(parse("root.fstype = btrfs\n") == -EINVAL);
	CHECK(strstr(err.msg, "root.fstype") != NULL);
	CHECK(parse("root = PARTUUID=not-a-uuid!\n") == -EINVAL);
	CHECK(parse("root = FOO=bar\n") == -EINVAL);
	CHECK(parse("init = sbin/init\n") == -EINVAL);
	CHECK(parse("init = /sbin/../bin/sh\n") == -EINVAL);
	CHECK(parse("root.options = a b\n") == -EINVAL);
	CHECK(parse("modules = ext4;rm\n") == -EINVAL);
	CHECK(parse("mode = debug\n") == -EINVAL);
}

static void test_malformed_lines(void)
{
	CHECK(parse("root\n") == -EINVAL && err.line == 1);
	CHECK(parse("a = b = c\n") == -EINVAL);
	CHECK(parse("root = LABEL=a\nroot = LABEL=b\n") == -EINVAL);
	CHECK(err.line == 2 && strstr(err.msg, "twice (first on line 1)"));
	CHECK(parse("root = LABEL=a\x01\n") == -EINVAL);
	{
		static const char nul[] = "root = LABEL=a\0b\n";

		config_defaults(&cfg);
		CHECK(config_parse_text(&cfg, nul, sizeof(nul) - 1, &err) == -EINVAL);
	}
}

/* Never truncate: a value one byte too long is an error, one that fits
 * exactly is kept whole. */
static void test_no_truncation(void)
{
	char text[2048], value[sizeof(cfg.init) + 1];

	memset(value, 'a', sizeof(value));
	value[0] = '/';
	value[sizeof(cfg.init)] = 0;
	snprintf(text, sizeof(text), "init = %s\n", value);
	CHECK(parse(text) == -EINVAL);
	CHECK(strstr(err.msg, "longer than the limit of 255 bytes") != NULL);
	value[sizeof(cfg.init) - 1] = 0;
	snprintf(text, sizeof(text), "init = %s\n", value);
	CHECK(parse(text) == 0 && strlen(cfg.init) == sizeof(cfg.init) - 1);

	memset(text, 'x', sizeof(text));
	memcpy(text, "init = /", 8);
	text[CONFIG_LINE_MAX + 1] = 0;
	CHECK(parse(text) == -EINVAL && strstr(err.msg, "line longer"));
}

static void test_cmdline_overrides(void)
{
	CHECK(parse("root.timeout = 5\ninit = /usr/lib/systemd/systemd\n") == 0);
	CHECK(cmdline("BOOT_IMAGE=/vmlinuz console=ttyS0 quiet root=PARTLABEL=sys "
		      "rootfstype=erofs rootflags=noatime sealroot.timeout=9 "
		      "sealroot.failure=halt init=/usr/lib/systemd/systemd\n") == 0);
	CHECK_STR(cfg.root, "PARTLABEL=sys");
	CHECK_STR(cfg.root_fstype, "erofs");
	CHECK_STR(cfg.root_options, "noatime");
	CHECK(cfg.root_timeout == 9);
	CHECK(cfg.failure_action == FAILURE_HALT);
	CHECK_STR(cfg.init, "/usr/lib/systemd/systemd");
}

static void test_cmdline_strict_for_ours(void)
{
	config_defaults(&cfg);
	CHECK(cmdline("sealroot.timeout=abc") == -EINVAL);
	CHECK(strstr(err.msg, "sealroot.timeout") && err.line == 0);
	CHECK(cmdline("sealroot.bogus=1") == -EINVAL);
	CHECK(strstr(err.msg, "unknown kernel command line key 'sealroot.bogus'"));
	CHECK(cmdline("root") == -EINVAL);
	CHECK(cmdline("root=/dev/../etc") == -EINVAL);
	/* Keys that are not ours are left to their owners. */
	CHECK(cmdline("systemd.unit=x foo=\"a b\" -- sealroot.bogus=1") == 0);
}

static void test_cmdline_quotes(void)
{
	config_defaults(&cfg);
	CHECK(cmdline("root=\"PARTLABEL=my-root\" \"rootflags=a,b\"") == 0);
	CHECK_STR(cfg.root, "PARTLABEL=my-root");
	CHECK_STR(cfg.root_options, "a,b");
	CHECK(cmdline("root=\"LABEL=a b\"") == -EINVAL);
}

static void test_cmdline_long_words(void)
{
	char text[CONFIG_LINE_MAX * 3];

	config_defaults(&cfg);
	memset(text, 'x', sizeof(text));
	memcpy(text, "other=", 6);
	text[sizeof(text) - 1] = 0;
	CHECK(cmdline(text) == 0);
	memcpy(text, "rootflags=", 10);
	CHECK(cmdline(text) == -EINVAL);
}

/* try_verify_in_tasklet can be switched off; auto is the default, and
 * it is a file-only key (not on the command line). */
static void test_verity_tasklets(void)
{
	CHECK(parse("") == 0);
	CHECK(cfg.verity_tasklets == VERITY_TASKLETS_AUTO);
	CHECK(parse("verity.tasklets = off\n") == 0);
	CHECK(cfg.verity_tasklets == VERITY_TASKLETS_OFF);
	CHECK(parse("verity.tasklets = auto\n") == 0);
	CHECK(cfg.verity_tasklets == VERITY_TASKLETS_AUTO);
	CHECK(parse("verity.tasklets = on\n") == -EINVAL);
	CHECK(strstr(err.msg, "'verity.tasklets'") && strstr(err.msg, "auto, off"));
	CHECK(parse("verity.tasklets = off\n") == 0);
	CHECK(cmdline("sealroot.verity_tasklets=auto") == -EINVAL);
	CHECK(cfg.verity_tasklets == VERITY_TASKLETS_OFF);
}

/* The sealed state's keys: file only, strict values, safe defaults (no
 * state volume, mounted on /var when there is one, no recovery key, PCR 7). */
static void test_state_keys(void)
{
	unsigned mask = 0;

	CHECK(parse("") == 0);
	CHECK_STR(cfg.state, "");
	CHECK_STR(cfg.state_name, "state");
	CHECK_STR(cfg.state_mount, "/var");
	CHECK(cfg.state_recovery == STATE_RECOVERY_NONE);
	CHECK_STR(cfg.tpm_pcrs, "7");
	CHECK(cfg.tpm_timeout == 5);
	CHECK(parse("state = PARTLABEL=sealroot-state\nstate.name = data-1\n"
		    "state.mount = /var/lib/x\nstate.recovery = show\n"
		    "tpm.pcrs = 14,7\ntpm.timeout = 1\n") == 0);
	CHECK_STR(cfg.state, "PARTLABEL=sealroot-state");
	CHECK_STR(cfg.state_name, "data-1");
	CHECK_STR(cfg.state_mount, "/var/lib/x");
	CHECK(cfg.state_recovery == STATE_RECOVERY_SHOW);
	CHECK(parse("state.mount = none\n") == 0);
	CHECK(parse("state = foo\n") == -EINVAL && strstr(err.msg, "'state'"));
	CHECK(parse("state.name = root\n") == -EINVAL);
	CHECK(parse("state.name = a/b\n") == -EINVAL);
	CHECK(parse("state.name = \n") == -EINVAL);
	CHECK(parse("state.name = 0123456789012345678901234567890123\n") == -EINVAL);
	CHECK(strstr(err.msg, "limit of 31 bytes") != NULL);
	CHECK(parse("state.mount = /\n") == -EINVAL);
	CHECK(parse("state.mount = var\n") == -EINVAL);
	CHECK(parse("state.mount = /var/\n") == -EINVAL);
	CHECK(parse("state.mount = /var/../etc\n") == -EINVAL);
	CHECK(parse("state.recovery = print\n") == -EINVAL);
	CHECK(strstr(err.msg, "none, show") != NULL);
	CHECK(parse("tpm.timeout = 0\n") == -EINVAL);
	/* 7 (the Secure Boot state) is always sealed to. */
	CHECK(parse("tpm.pcrs = 14\n") == -EINVAL && strstr(err.msg, "7 among them"));
	CHECK(parse("tpm.pcrs = 7,7\n") == -EINVAL);
	CHECK(parse("tpm.pcrs = 7,10\n") == -EINVAL && strstr(err.msg, "not 10"));
	CHECK(parse("tpm.pcrs = 7,24\n") == -EINVAL);
	CHECK(parse("tpm.pcrs = 7,\n") == -EINVAL);
	CHECK(parse("tpm.pcrs = 07\n") == -EINVAL);
	CHECK(parse("tpm.pcrs = 7 14\n") == -EINVAL);
	CHECK(config_pcr_mask("7", &mask) == 0 && mask == 0x80);
	CHECK(config_pcr_mask("0,7,23", &mask) == 0 && mask == 0x800081);
	mask = 1;
	CHECK(config_pcr_mask("", &mask) == -EINVAL && mask == 1);
	/* Not on the command line: a sealroot. key there is unknown. */
	CHECK(parse("") == 0);
	CHECK(cmdline("sealroot.state=PARTLABEL=x") == -EINVAL);
	CHECK(cmdline("state=PARTLABEL=x") == 0 && !cfg.state[0]);
}

#define HASH_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HASH_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* The command line may add what the file left unset, or tighten it; it
 * never clears or replaces what the file said (issue 13). */
static void test_cmdline_never_weakens(void)
{
	CHECK(parse("verity.roothash = " HASH_A "\ninit = /sbin/init\n"
		    "verity.corruption = panic\nroot.fstype = ext4\n"
		    "root.options = noatime\n") == 0);
	CHECK(cmdline("roothash= root=/dev/vda2") == -EINVAL);
	CHECK_STR(cfg.verity_roothash, HASH_A);
	CHECK_STR(cfg.root, "");
	CHECK(cmdline("roothash=" HASH_B) == -EINVAL);
	CHECK(strstr(err.msg, "verity.roothash") != NULL);
	CHECK_STR(cfg.verity_roothash, HASH_A);
	CHECK(cmdline("roothash=" HASH_A) == 0);
	CHECK(cmdline("init=/bin/sh") == -EINVAL);
	CHECK_STR(cfg.init, "/sbin/init");
	CHECK(cmdline("sealroot.verity_corruption=eio") == -EINVAL);
	CHECK(cfg.verity_corruption == VERITY_CORRUPTION_PANIC);
	CHECK(cmdline("rootfstype=erofs") == -EINVAL);
	CHECK(cmdline("rootflags=errors=continue") == -EINVAL);
	CHECK_STR(cfg.root_options, "noatime");
	/* Tightening is fine. */
	CHECK(parse("verity.corruption = eio\n") == 0);
	CHECK(cmdline("roothash=" HASH_A " sealroot.verity_corruption=restart "
		      "rootfstype=erofs init=/sbin/init") == 0);
	CHECK_STR(cfg.verity_roothash, HASH_A);
	CHECK(cfg.verity_corruption == VERITY_CORRUPTION_RESTART);
	CHECK_STR(cfg.root_fstype, "erofs");
	/* The unverified-root switch is the file's alone. */
	CHECK(cmdline("sealroot.root_verity=optional") == -EINVAL);
}

/* Last-wins would let a reviewer read one value and the device use
 * another: a repeated key is refused. */
static void test_cmdline_repeated_key(void)
{
	CHECK(parse("") == 0);
	CHECK(cmdline("roothash=" HASH_A " quiet roothash=" HASH_B) == -EINVAL);
	CHECK(strstr(err.msg, "roothash") && strstr(err.msg, "twice"));
	CHECK_STR(cfg.verity_roothash, "");
	CHECK(cmdline("sealroot.failure=halt sealroot.failure=reboot") == -EINVAL);
	CHECK(cfg.failure_action == FAILURE_REBOOT);
}

/* The root is always mounted read-only: ro/rw in the options would be
 * ignored or fight that. */
static void test_options_no_ro_rw(void)
{
	CHECK(parse("root.options = rw\n") == -EINVAL);
	CHECK(parse("root.options = noatime,ro\n") == -EINVAL);
	CHECK(parse("root.options = noatime,,nodev\n") == -EINVAL);
	CHECK(parse("root.options = errors=remount-ro,noatime\n") == 0);
	CHECK(parse("") == 0);
	CHECK(cmdline("rootflags=rw") == -EINVAL);
	CHECK_STR(cfg.root_options, "");
}

/* A command line that does not parse leaves the file's settings (its
 * failure policy above all) in place. */
static void test_cmdline_failure_keeps_file(void)
{
	CHECK(parse("failure.action = poweroff\nfailure.delay = 0\n") == 0);
	CHECK(cmdline("sealroot.failure=halt sealroot.timeout=5 sealroot.bogus=1") == -EINVAL);
	CHECK(cfg.failure_action == FAILURE_POWEROFF);
	CHECK(cfg.failure_delay == 0);
	CHECK(cfg.root_timeout == 30);
}

/* A file that fails leaves the caller's configuration as it was. */
static void test_file_failure_untouched(void)
{
	config_defaults(&cfg);
	memset(&err, 0, sizeof(err));
	CHECK(config_parse_text(&cfg, "failure.action = halt\nbogus = 1\n", 30, &err) == -EINVAL);
	CHECK(cfg.failure_action == FAILURE_REBOOT);
}

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void test_messages(void)
{
	static char big[CONFIG_FILE_MAX + 2];
	char text[4096];

	memset(big, '#', sizeof(big) - 1);
	config_defaults(&cfg);
	CHECK(config_parse_text(&cfg, big, sizeof(big) - 1, &err) == -EINVAL);
	CHECK(err.line == 0 && strstr(err.msg, "limit of 65536 bytes"));
	CHECK(parse("\xef\xbb\xbfroot = LABEL=a\n") == -EINVAL);
	CHECK(err.line == 1 && strstr(err.msg, "byte order mark"));
	CHECK(parse("root = LABEL=a\r\n") == -EINVAL);
	CHECK(err.line == 1 && strstr(err.msg, "CR"));
	CHECK(parse("root = LABEL=\xc3\xa9t\xc3\xa9\n") == -EINVAL);
	CHECK(strstr(err.msg, "\\xc3\\xa9") && printable_ascii(err.msg));
	CHECK(parse("r\xc3\xb6t = 1\n") == -EINVAL);
	CHECK(printable_ascii(err.msg));
	CHECK(parse("root = LABEL=a\x1b[2J\n") == -EINVAL);
	CHECK(printable_ascii(err.msg) && strstr(err.msg, "\\x1b"));
	CHECK(parse("") == 0);
	CHECK(cmdline("root=LABEL=\x1b[31mred") == -EINVAL);
	CHECK(printable_ascii(err.msg) && strstr(err.msg, "\\x1b"));
	/* A value too long to quote is cut with a marker; the reason stays. */
	memset(text, 0, sizeof(text));
	strcpy(text, "root.options = ");
	memset(text + strlen(text), 'a', 200);
	strcat(text, " b\n");
	CHECK(parse(text) == -EINVAL);
	CHECK(strstr(err.msg, "[...") != NULL);
	CHECK(strstr(err.msg, "without ro or rw") != NULL);
}

static void test_print_roundtrip(void)
{
	char buf[2048];
	FILE *f;
	struct config again;

	CHECK(parse("root = UUID=1234\nfailure.action = halt\nmode = development\n") == 0);
	f = fmemopen(buf, sizeof(buf), "w");
	config_print(&cfg, f);
	fclose(f);
	CHECK(strstr(buf, "root=UUID=1234\n") != NULL);
	CHECK(strstr(buf, "failure.action=halt\n") != NULL);
	CHECK(strstr(buf, "mode=development\n") != NULL);
	config_defaults(&again);
	CHECK(config_parse_text(&again, buf, strlen(buf), &err) == 0);
	CHECK(memcmp(&again, &cfg, sizeof(cfg)) == 0);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_full_file);
	RUN(test_unknown_key_has_line);
	RUN(test_numbers_range_checked);
	RUN(test_bad_values_named);
	RUN(test_malformed_lines);
	RUN(test_no_truncation);
	RUN(test_cmdline_overrides);
	RUN(test_cmdline_strict_for_ours);
	RUN(test_cmdline_quotes);
	RUN(test_cmdline_long_words);
	RUN(test_verity_tasklets);
	RUN(test_state_keys);
	RUN(test_cmdline_never_weakens);
	RUN(test_cmdline_repeated_key);
	RUN(test_options_no_ro_rw);
	RUN(test_cmdline_failure_keeps_file);
	RUN(test_file_failure_untouched);
	RUN(test_messages);
	RUN(test_print_roundtrip);
	return UNIT_EXIT();
}
