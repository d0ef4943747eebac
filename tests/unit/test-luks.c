/* luks.c on image files in a scratch directory next to this binary (in
 * the build tree), removed at the end. Everything libcryptsetup does
 * without device-mapper: format, keyslots, tokens, subsystem, header
 * reads, crypt_activate_by_passphrase with no name (checks the key only).
 * The host's cryptsetup(8) makes the volumes that are not ours. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libcryptsetup.h>
#include <openssl/evp.h>

#include "luks.h"
#include "tpm2token.h"
#include "unit.h"
#include "unit-files.h"

/* The swtpm-sealed token of test-tpm2token.c (systemd 252's layout). */
#define BLOB "AJ4AIKAhiyNTORioOwq+n3CYOn9hC+2kvOXsSbFa3RscOe00ABC4X1wmUjncnWm8" \
	"Eecmm05zd5QYYyDfcUR0Nz+dcuPxyV11+A1EuaSvqXLzNCq1399vb0DG7F+frTNE" \
	"BiOnvUkQwB9pH7vnYx4Vl+4TQb5G2g7UenMsfDt/qqSEHR3W2HmQbyN76GPISRsJ" \
	"mcYqoIPqLEeVnd56V3RG6wBOAAgACwAAABIAIItWgtgbKUNdCNeSeBUGEdx+WSOy" \
	"/vzOaEoJV3tAEwqLABAAIJtJwD4VARn93VmTBngb8iEfQ729sMKt5YNsNsoW+2kF"
#define HASH7 "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b"
#define TOKEN_KS(ks) "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"" ks "\"]," \
	"\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-pcr-bank\":\"sha256\"," \
	"\"tpm2-primary-alg\":\"ecc\",\"tpm2-policy-hash\":\"" HASH7 "\"," \
	"\"tpm2-pin\":false}"

#define IMG_SIZE (20u << 20)

/* Re-sealed tokens also carry sealroot's PCR values (PCR 7 = 0^32). */
#define TOKEN_VALS "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"9\"]," \
	"\"tpm2-blob\":\"" BLOB "\",\"tpm2-pcrs\":[7],\"tpm2-pcr-bank\":\"sha256\"," \
	"\"tpm2-policy-hash\":\"" HASH7 "\",\"sealroot_pcr_values\":[\"" \
	"0000000000000000000000000000000000000000000000000000000000000000\"]}"

static uint8_t secret[TPM2TOKEN_SECRET_SIZE], secret2[TPM2TOKEN_SECRET_SIZE];
static char pass[TPM2TOKEN_PASSPHRASE_LEN + 1], pass2[TPM2TOKEN_PASSPHRASE_LEN + 1];
static char recovery[TPM2TOKEN_RECOVERY_LEN + 1];
static struct tpm2token token, token2;

/* ---- helpers ---- */

static void mkimg(const char *p, off_t size)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || ftruncate(fd, size) < 0)
		perror(p);
	if (fd >= 0)
		close(fd);
}

static void put(const char *p, off_t off, const void *buf, size_t n)
{
	int fd = open(p, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || pwrite(fd, buf, n, off) != (ssize_t)n)
		perror(p);
	if (fd >= 0)
		close(fd);
}

static void get(const char *p, off_t off, void *buf, size_t n)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || pread(fd, buf, n, off) != (ssize_t)n)
		perror(p);
	if (fd >= 0)
		close(fd);
}

static void scribble(const char *p, off_t off, size_t n)
{
	uint8_t buf[4096];

	for (size_t i = 0; i < n; i += sizeof(buf)) {
		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)(rand() | 1);
		put(p, off + (off_t)i, buf, n - i < sizeof(buf) ? n - i : sizeof(buf));
	}
}

static bool same_hash(const uint8_t a[32], const char *p)
{
	uint8_t b[32];

	hash_file(p, b);
	return !memcmp(a, b, 32);
}

static bool poisoned(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != POISON)
			return false;
	return true;
}

static void copy(const char *from, const char *to)
{
	sh("cp --sparse=always '%s' '%s'", from, to);
}

static enum luks_state state_of(const char *p, struct luks_info *info)
{
	struct luks_info i;

	memset(&i, POISON, sizeof(i));
	if (luks_classify(p, &i) < 0)
		return (enum luks_state)-1;
	if (info)
		*info = i;
	return i.state;
}

static int count_tokens(const char *p, const char *type)
{
	struct crypt_device *cd = NULL;
	const char *t;
	int n = 0;

	if (crypt_init(&cd, p) < 0 || crypt_load(cd, CRYPT_LUKS2, NULL) < 0) {
		crypt_free(cd);
		return -1;
	}
	for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++) {
		crypt_token_info st = crypt_token_status(cd, id, &t);

		if (st != CRYPT_TOKEN_INACTIVE && st != CRYPT_TOKEN_INVALID &&
		    !strcmp(t, type))
			n++;
	}
	crypt_free(cd);
	return n;
}

static int active_keyslots(const char *p)
{
	struct crypt_device *cd = NULL;
	int n = 0;

	if (crypt_init(&cd, p) < 0 || crypt_load(cd, CRYPT_LUKS2, NULL) < 0) {
		crypt_free(cd);
		return -1;
	}
	for (int s = 0; s < crypt_keyslot_max(CRYPT_LUKS2); s++) {
		crypt_keyslot_info st = crypt_keyslot_status(cd, s);

		n += st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST;
	}
	crypt_free(cd);
	return n;
}

static int provision(const char *p, bool with_recovery, struct luks_slots *s)
{
	struct luks_slots tmp;

	return luks_provision(p, secret, &token, with_recovery ? recovery : NULL,
			      s ? s : &tmp);
}

/* A fully provisioned (PROVISIONING) and a ready image, made once. */
static void make_provisioned(const char *p)
{
	mkimg(p, IMG_SIZE);
	if (provision(p, true, NULL) < 0)
		printf("  setup: cannot provision %s\n", p);
}

static void make_ready(const char *p)
{
	make_provisioned(p);
	if (luks_mark_ready(p) < 0)
		printf("  setup: cannot mark %s ready\n", p);
}

/* A LUKS2 volume as systemd-cryptenroll leaves it: slot 0 the user's
 * passphrase (argon2id), slot 1 the TPM passphrase at PBKDF2-sha512/1000,
 * token 0 systemd's JSON for slot 1, imported by cryptsetup(8). */
static int make_cryptenrolled(const char *p)
{
	FILE *f;
	int r;

	mkimg(p, IMG_SIZE);
	f = fopen(path("user.key"), "w");
	fputs("user passphrase", f);
	fclose(f);
	f = fopen(path("tpm.key"), "w");
	fputs(pass, f);
	fclose(f);
	f = fopen(path("token.json"), "w");
	fputs(TOKEN_KS("1"), f);
	fclose(f);
	r = sh("cryptsetup luksFormat -q --type luks2 --pbkdf argon2id "
	       "--pbkdf-force-iterations 4 --pbkdf-memory 32768 --key-file '%s' '%s' "
	       "&& cryptsetup luksAddKey -q --key-file '%s' --new-key-slot 1 "
	       "--pbkdf pbkdf2 --hash sha512 --pbkdf-force-iterations 1000 '%s' '%s' "
	       "&& cryptsetup token import --token-id 0 --json-file '%s' '%s'",
	       path("user.key"), p, path("user.key"), p, path("tpm.key"),
	       path("token.json"), p);
	return r;
}

/* ---- classification ---- */

static void check_kind(const char *name, enum luks_state want, bool luks2)
{
	const char *p = path(name);
	struct luks_info info;
	uint8_t h[32];

	hash_file(p, h);
	CHECK(state_of(p, &info) == want);
	CHECK(info.luks2 == luks2);
	CHECK(same_hash(h, p));
	if (info.state != want)
		printf("  %s: state %d (%s), want %d\n", name, info.state,
		       info.what, want);
}

static void test_classify(void)
{
	struct luks_info info;
	uint8_t marker[LUKS_MARKER_SIZE] = { 0 };

	mkimg(path("blank.img"), IMG_SIZE);
	check_kind("blank.img", LUKS_BLANK, false);

	mkimg(path("ext4.img"), IMG_SIZE);
	CHECK(sh("mkfs.ext4 -q -F '%s' >/dev/null 2>&1", path("ext4.img")) == 0);
	check_kind("ext4.img", LUKS_FOREIGN, false);

	mkimg(path("random.img"), IMG_SIZE);
	scribble(path("random.img"), 0, 1u << 20);
	check_kind("random.img", LUKS_FOREIGN, false);

	/* Zero first MiB, data further on but no signature: blank by the
	 * definition (only the first MiB is looked at). */
	mkimg(path("late.img"), IMG_SIZE);
	scribble(path("late.img"), 2u << 20, 4096);
	check_kind("late.img", LUKS_BLANK, false);

	mkimg(path("luks1.img"), IMG_SIZE);
	CHECK(sh("printf x | cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 '%s' --key-file -",
		 path("luks1.img")) == 0);
	check_kind("luks1.img", LUKS_FOREIGN, false);

	mkimg(path("other.img"), IMG_SIZE);
	CHECK(sh("printf x | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --label ready --subsystem ready '%s' --key-file -",
		 path("other.img")) == 0);
	check_kind("other.img", LUKS_FOREIGN, true);

	/* A subsystem with a newline does not forge a log line. */
	CHECK(sh("cryptsetup config --subsystem \"$(printf 'x\\nsealroot: forged')\" '%s'",
		 path("other.img")) == 0);
	CHECK(state_of(path("other.img"), &info) == LUKS_FOREIGN);
	CHECK(strstr(info.what, "x?sealroot: forged") && !strchr(info.what, '\n'));

	make_provisioned(path("prov.img"));
	check_kind("prov.img", LUKS_PROVISIONING, true);
	make_ready(path("ready.img"));
	check_kind("ready.img", LUKS_READY, true);
	CHECK(state_of(path("ready.img"), &info) == LUKS_READY && info.consistent);

	mkimg(path("marker.img"), IMG_SIZE);
	memcpy(marker, LUKS_MARKER, sizeof(LUKS_MARKER) - 1);
	put(path("marker.img"), 0, marker, sizeof(marker));
	check_kind("marker.img", LUKS_PROVISIONING, false);
	CHECK(state_of(path("marker.img"), &info) == LUKS_PROVISIONING &&
	      info.interrupted);

	memset(&info, POISON, sizeof(info));
	CHECK(luks_classify(path("missing.img"), &info) == -ENOENT);
	CHECK(poisoned(&info, sizeof(info)));
}

/* ---- provisioning ---- */

static void refuse(const char *name, int want)
{
	const char *p = path(name);
	struct luks_slots s;
	uint8_t h[32];

	hash_file(p, h);
	memset(&s, POISON, sizeof(s));
	CHECK(provision(p, true, &s) == want);
	CHECK(poisoned(&s, sizeof(s)));
	CHECK(same_hash(h, p));
}

static void test_provision_refuses(void)
{
	refuse("ext4.img", -EMEDIUMTYPE);
	refuse("random.img", -EMEDIUMTYPE);
	refuse("luks1.img", -EMEDIUMTYPE);
	refuse("other.img", -EMEDIUMTYPE);
	refuse("ready.img", -EEXIST);
	mkimg(path("small.img"), 8u << 20);
	refuse("small.img", -ENOSPC);
}

static void check_pbkdf(struct crypt_device *cd, int slot)
{
	struct crypt_pbkdf_type p;

	CHECK(crypt_keyslot_get_pbkdf(cd, slot, &p) == 0);
	CHECK_STR(p.type, CRYPT_KDF_PBKDF2);
	CHECK_STR(p.hash, "sha512");
	CHECK(p.iterations == 1000);
}

/* What libcryptsetup itself reads back from the header we wrote. */
static void check_on_disk(const char *p, const struct luks_slots *s)
{
	struct crypt_device *cd = NULL;
	char msg[TPM2TOKEN_MSG_MAX];
	const char *json = NULL;
	struct tpm2token t, want = token;

	CHECK(crypt_init(&cd, p) == 0 && crypt_load(cd, CRYPT_LUKS2, NULL) == 0);
	CHECK_STR(crypt_get_subsystem(cd), LUKS_SUBSYSTEM_PROVISIONING);
	CHECK(crypt_get_data_offset(cd) * 512 == LUKS_HEADER_AREA);
	CHECK(crypt_get_volume_key_size(cd) == LUKS_VOLUME_KEY_SIZE);
	check_pbkdf(cd, s->tpm_keyslot);
	check_pbkdf(cd, s->recovery_keyslot);
	CHECK(crypt_activate_by_passphrase(cd, NULL, s->tpm_keyslot, pass,
					   strlen(pass), 0) == s->tpm_keyslot);
	CHECK(crypt_activate_by_passphrase(cd, NULL, s->recovery_keyslot,
					   recovery, strlen(recovery), 0) ==
	      s->recovery_keyslot);
	CHECK(crypt_token_json_get(cd, s->tpm_token, &json) == s->tpm_token);
	CHECK(json && tpm2token_parse(json, strlen(json), &t, msg) == 0);
	want.keyslot = (uint32_t)s->tpm_keyslot;
	CHECK(tpm2token_equal(&t, &want));
	CHECK(crypt_token_is_assigned(cd, s->tpm_token, s->tpm_keyslot) == 0);
	CHECK(crypt_token_json_get(cd, s->recovery_token, &json) ==
	      s->recovery_token);
	CHECK(json && strstr(json, "\"systemd-recovery\""));
	CHECK(crypt_token_is_assigned(cd, s->recovery_token,
				      s->recovery_keyslot) == 0);
	crypt_free(cd);
}

static void test_round_trip(void)
{
	const char *p = path("trip.img");
	uint8_t key[LUKS_VOLUME_KEY_MAX], key2[LUKS_VOLUME_KEY_MAX], h[32];
	char typed[128];
	struct luks_slots s;
	struct tpm2token t;
	size_t len = 0;
	int id = -1;

	mkimg(p, IMG_SIZE);
	memset(&s, POISON, sizeof(s));
	CHECK(provision(p, true, &s) == 0);
	CHECK(s.tpm_keyslot == 0 && s.tpm_token == 0);
	CHECK(s.recovery_keyslot == 1 && s.recovery_token == 1);
	check_on_disk(p, &s);
	CHECK(state_of(p, NULL) == LUKS_PROVISIONING);

	/* The caller's mkfs would run here, on the activated volume. */
	CHECK(luks_activate(p, NULL, s.tpm_keyslot, pass) == 0);
	CHECK(luks_mark_ready(p) == 0);
	CHECK(state_of(p, NULL) == LUKS_READY);
	hash_file(p, h);
	CHECK(luks_mark_ready(p) == 0);
	CHECK(same_hash(h, p));

	memset(&t, POISON, sizeof(t));
	CHECK(luks_tpm2_token(p, 0, &t, &id) == 0 && id == 0);
	CHECK(t.keyslot == 0 && t.pcr_mask == 1u << 7);
	memset(&t, POISON, sizeof(t));
	CHECK(luks_tpm2_token(p, 1, &t, &id) == -ENOENT);
	CHECK(poisoned(&t, sizeof(t)) && id == 0);

	CHECK(luks_activate(p, NULL, 0, pass) == 0);
	CHECK(luks_activate(p, NULL, 0, "not the passphrase") == -EKEYREJECTED);
	CHECK(luks_activate(p, NULL, 5, pass) == -ENOENT);
	/* As a user types it: upper case, spaces instead of dashes. */
	for (size_t i = 0, j = 0; i <= strlen(recovery); i++)
		typed[j++] = recovery[i] == '-' ? ' ' : (char)(recovery[i] & ~0x20);
	CHECK(luks_activate_recovery(p, NULL, typed) == 0);
	typed[3] = typed[3] == 'C' ? 'B' : 'C';
	CHECK(luks_activate_recovery(p, NULL, typed) == -EKEYREJECTED);
	CHECK(luks_activate_recovery(p, NULL, "not a key") == -EINVAL);
	{
		unsigned n = 99;

		CHECK(luks_recovery_slots(p, &n) == 0 && n == 1);
	}

	memset(key, POISON, sizeof(key));
	memset(key2, POISON, sizeof(key2));
	CHECK(luks_volume_key(p, 0, "wrong", key, &len) == -EKEYREJECTED);
	CHECK(poisoned(key, sizeof(key)) && len == 0);
	CHECK(luks_volume_key(p, 0, pass, key, &len) == 0);
	CHECK(len == LUKS_VOLUME_KEY_SIZE && !poisoned(key, len));
	CHECK(luks_volume_key(p, 1, recovery, key2, &len) == 0);
	CHECK(!memcmp(key, key2, LUKS_VOLUME_KEY_SIZE));
	explicit_bzero(key, sizeof(key));
	explicit_bzero(key2, sizeof(key2));

	/* Never formatted again, not even after a second try. */
	CHECK(same_hash(h, p));
	refuse("trip.img", -EEXIST);

	/* The host's cryptsetup opens our TPM slot too. */
	CHECK(sh("printf %%s '%s' | cryptsetup open --test-passphrase --key-slot 0 '%s' --key-file -",
		 pass, p) == 0);
}

/* ---- power cuts ---- */

static int stop_at = -1;
static bool tear;

/* Stop provisioning at one step, as a power cut would; with tear, part of
 * what the next step writes is already on the device (random bytes). */
static int cut(enum luks_step step, int fd)
{
	uint8_t junk[8192];

	if ((int)step != stop_at)
		return 0;
	if (tear && step != LUKS_STEP_BUILT) {
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)rand();
		if (pwrite(fd, junk, sizeof(junk), 0x4000) < 0 ||
		    pwrite(fd, junk, sizeof(junk), 3u << 20) < 0)
			return -EIO;
	}
	return -ECANCELED;
}

/* One provisioned volume in the end: state, one token of each kind, two
 * keyslots, the TPM passphrase opens. */
static bool provisioned_once(const char *p)
{
	struct luks_info info;

	return state_of(p, &info) == LUKS_PROVISIONING && info.consistent &&
	       count_tokens(p, "systemd-tpm2") == 1 &&
	       count_tokens(p, "systemd-recovery") == 1 &&
	       active_keyslots(p) == 2 && luks_activate(p, NULL, 0, pass) == 0;
}

static void power_cut(const char *from, enum luks_step step, bool torn)
{
	const char *p = path("cut.img");
	enum luks_state after;
	uint8_t h[32];

	copy(from, p);
	hash_file(p, h);
	stop_at = (int)step;
	tear = torn;
	luks_step_hook = cut;
	CHECK(provision(p, true, NULL) == -ECANCELED);
	luks_step_hook = NULL;
	after = state_of(p, NULL);
	if (step == LUKS_STEP_BUILT)
		CHECK(same_hash(h, p));
	CHECK(after == (step == LUKS_STEP_BUILT ? state_of(from, NULL) :
						  LUKS_PROVISIONING));
	if (step == LUKS_STEP_MARKER || step == LUKS_STEP_BODY)
		CHECK(luks_mark_ready(p) == -ESTALE);
	CHECK(provision(p, true, NULL) == 0);
	CHECK(provisioned_once(p));
}

static void test_power_cuts(void)
{
	for (int step = LUKS_STEP_BUILT; step <= LUKS_STEP_HEADER; step++) {
		power_cut(path("blank.img"), step, false);
		power_cut(path("prov.img"), step, false);
		power_cut(path("blank.img"), step, true);
		power_cut(path("prov.img"), step, true);
	}
}

/* Marking ready is one header update: primary, then secondary. A cut
 * tears one copy or leaves the secondary stale; the copy with the higher
 * valid seqid decides, as in libcryptsetup. The open path uses it and
 * writes nothing; luks_repair restores the other copy on request. */
static void test_ready_cuts(void)
{
	const char *p = path("rcut.img");
	static uint8_t old2[0x4000];
	struct luks_info info;
	struct tpm2token t;
	uint8_t h[32];
	int id;

	/* Torn primary, old secondary: still provisioning, re-provisioned. */
	copy(path("prov.img"), p);
	get(p, 0x4000, old2, sizeof(old2));
	CHECK(luks_mark_ready(p) == 0);
	put(p, 0x4000, old2, sizeof(old2));
	scribble(p, 4096 + 100, 512);
	CHECK(state_of(p, &info) == LUKS_PROVISIONING && !info.consistent);
	CHECK(provision(p, true, NULL) == 0);
	CHECK(provisioned_once(p));

	/* New primary, old secondary: ready, never formatted, opens. */
	copy(path("prov.img"), p);
	get(p, 0x4000, old2, sizeof(old2));
	CHECK(luks_mark_ready(p) == 0);
	put(p, 0x4000, old2, sizeof(old2));
	CHECK(state_of(p, &info) == LUKS_READY && !info.consistent);
	hash_file(p, h);
	refuse("rcut.img", -EEXIST);
	memset(&t, POISON, sizeof(t));
	CHECK(luks_tpm2_token(p, 0, &t, &id) == 0 && id == 0);
	CHECK(luks_activate(p, NULL, 0, pass) == 0);
	CHECK(same_hash(h, p));
	CHECK(luks_repair(p) == 0);
	CHECK(state_of(p, &info) == LUKS_READY && info.consistent);
	hash_file(p, h);
	CHECK(luks_repair(p) == 0);
	CHECK(same_hash(h, p));

	/* New primary, torn secondary: the same. */
	copy(path("prov.img"), p);
	CHECK(luks_mark_ready(p) == 0);
	scribble(p, 0x4000 + 4096 + 100, 512);
	CHECK(state_of(p, &info) == LUKS_READY && !info.consistent);
	refuse("rcut.img", -EEXIST);
	CHECK(luks_activate(p, NULL, 0, pass) == 0);
	CHECK(luks_repair(p) == 0);
	CHECK(state_of(p, &info) == LUKS_READY && info.consistent);
}

/* The primary copy's JSON edited (no "keyslots" object) and its
 * checksum recomputed: libcryptsetup refuses that copy and, on a plain
 * load, rewrites it from the secondary. Ours loads without a write. */
static void break_primary_json(const char *p)
{
	static uint8_t area[0x4000];
	unsigned int len = 0;
	uint8_t *k;

	get(p, 0, area, sizeof(area));
	k = memmem(area + 4096, sizeof(area) - 4096, "\"keyslots\"", 10);
	if (k)
		memcpy(k, "\"keyslotz\"", 10);
	memset(area + 448, 0, 64);
	EVP_Digest(area, sizeof(area), area + 448, &len, EVP_sha256(), NULL);
	put(p, 0, area, sizeof(area));
}

static void test_invalid_json_copy(void)
{
	const char *p = path("json.img"), *q = path("json2.img");
	struct luks_info info;
	struct tpm2token t;
	uint8_t h[32];
	int id;

	copy(path("ready.img"), p);
	break_primary_json(p);
	copy(p, q);
	hash_file(p, h);
	CHECK(state_of(p, &info) == LUKS_READY && info.consistent);
	CHECK(luks_tpm2_token(p, 0, &t, &id) == 0);
	CHECK(luks_activate(p, NULL, 0, pass) == 0);
	CHECK(same_hash(h, p));
	/* The stock path does write: the case is real. */
	CHECK(sh("cryptsetup luksDump '%s' >/dev/null 2>&1", q) == 0);
	CHECK(!same_hash(h, q));
}

/* ---- interop: a volume systemd-cryptenroll would have made ---- */

static void test_cryptenrolled(void)
{
	const char *p = path("enrolled.img");
	struct luks_info info;
	struct tpm2token t, want = token;
	uint8_t h[32], key[LUKS_VOLUME_KEY_MAX];
	size_t len;
	int id = -1;

	CHECK(make_cryptenrolled(p) == 0);
	hash_file(p, h);
	CHECK(state_of(p, &info) == LUKS_FOREIGN && info.luks2 && info.consistent);
	{
		unsigned n = 99;

		/* a passphrase slot, no systemd-recovery token */
		CHECK(luks_recovery_slots(p, &n) == 0 && n == 0);
	}
	memset(&t, POISON, sizeof(t));
	CHECK(luks_tpm2_token(p, 0, &t, &id) == 0 && id == 0);
	want.keyslot = 1;
	CHECK(tpm2token_equal(&t, &want));
	CHECK(luks_activate(p, NULL, (int)t.keyslot, pass) == 0);
	CHECK(luks_volume_key(p, (int)t.keyslot, pass, key, &len) == 0);
	explicit_bzero(key, sizeof(key));
	/* The user's argon2id slot is not one we unlock. */
	CHECK(luks_activate(p, NULL, 0, "user passphrase") == -EOPNOTSUPP);
	refuse("enrolled.img", -EMEDIUMTYPE);
	CHECK(same_hash(h, p));
}

/* ---- re-sealing ---- */

/* Whether pw opens any keyslot at all (host libcryptsetup, no limits). */
static bool opens_any(const char *p, const char *pw)
{
	struct crypt_device *cd = NULL;
	int r;

	if (crypt_init(&cd, p) < 0 || crypt_load(cd, CRYPT_LUKS2, NULL) < 0) {
		crypt_free(cd);
		return false;
	}
	r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, pw, strlen(pw), 0);
	crypt_free(cd);
	return r >= 0;
}

static int reseal(const char *p, const char *rk, const uint8_t *sec,
		  struct luks_slots *s)
{
	struct luks_slots tmp;

	return luks_reseal(p, rk, sec, &token2, s ? s : &tmp);
}

/* After a complete re-seal: one TPM token, the new one, for a keyslot
 * the new passphrase opens; the recovery key still opens. */
static void check_resealed(const char *p, const struct luks_slots *s,
			   const char *new_pass)
{
	struct crypt_device *cd = NULL;
	struct tpm2token t, want = token2;
	int id = -1;

	CHECK(count_tokens(p, "systemd-tpm2") == 1);
	CHECK(count_tokens(p, "systemd-recovery") == 1);
	memset(&t, POISON, sizeof(t));
	CHECK(luks_tpm2_token(p, 0, &t, &id) == 0 && id == s->tpm_token);
	want.keyslot = (uint32_t)s->tpm_keyslot;
	CHECK(tpm2token_equal(&t, &want) && t.has_pcr_values);
	CHECK(luks_activate(p, NULL, s->tpm_keyslot, new_pass) == 0);
	CHECK(luks_activate_recovery(p, NULL, recovery) == 0);
	CHECK(luks_activate(p, NULL, s->recovery_keyslot, recovery) == 0);
	CHECK(crypt_init(&cd, p) == 0 && crypt_load(cd, CRYPT_LUKS2, NULL) == 0);
	check_pbkdf(cd, s->tpm_keyslot);
	CHECK(crypt_token_is_assigned(cd, s->recovery_token,
				      s->recovery_keyslot) == 0);
	crypt_free(cd);
}

static void test_reseal(void)
{
	const char *p = path("reseal.img");
	uint8_t key[LUKS_VOLUME_KEY_MAX], key2[LUKS_VOLUME_KEY_MAX];
	struct luks_info info;
	struct luks_slots s;
	char typed[128];
	size_t len = 0, len2 = 0;

	copy(path("ready.img"), p);
	CHECK(luks_volume_key(p, 0, pass, key, &len) == 0);
	/* As typed: upper case, spaces for dashes. */
	for (size_t i = 0, j = 0; i <= strlen(recovery); i++)
		typed[j++] = recovery[i] == '-' ? ' ' : (char)(recovery[i] & ~0x20);
	memset(&s, POISON, sizeof(s));
	CHECK(reseal(p, typed, secret2, &s) == 0);
	CHECK(s.recovery_keyslot == 1 && s.recovery_token == 1);
	CHECK(s.tpm_keyslot == 2 && s.tpm_token == 2);
	check_resealed(p, &s, pass2);
	/* The old TPM keyslot is gone: the old passphrase opens nothing. */
	CHECK(luks_activate(p, NULL, 0, pass) == -ENOENT);
	CHECK(!opens_any(p, pass) && opens_any(p, pass2));
	CHECK(active_keyslots(p) == 2);
	/* Same volume key; still ours and ready, both copies current. */
	CHECK(luks_volume_key(p, s.tpm_keyslot, pass2, key2, &len2) == 0);
	CHECK(len == len2 && !memcmp(key, key2, len));
	explicit_bzero(key, sizeof(key));
	explicit_bzero(key2, sizeof(key2));
	CHECK(state_of(p, &info) == LUKS_READY && info.consistent);
	CHECK(sh("printf %%s '%s' | cryptsetup open --test-passphrase --key-slot %d '%s' --key-file -",
		 pass2, s.tpm_keyslot, p) == 0);

	/* Again, back to the first secret: keyslot 0 is free again. */
	memset(&s, POISON, sizeof(s));
	CHECK(luks_reseal(p, recovery, secret, &token2, &s) == 0);
	CHECK(s.tpm_keyslot == 0 && s.tpm_token == 0);
	check_resealed(p, &s, pass);
	CHECK(!opens_any(p, pass2) && active_keyslots(p) == 2);
}

/* Nothing written when the device, the key or the token is not right. */
static void reseal_refused(const char *name, const char *rk,
			   const struct tpm2token *t, int want)
{
	const char *p = path(name);
	struct luks_slots s;
	uint8_t h[32];
	int r;

	hash_file(p, h);
	memset(&s, POISON, sizeof(s));
	r = luks_reseal(p, rk, secret2, t, &s);
	if (r != want)
		printf("  %s: got %d, want %d\n", name, r, want);
	CHECK(r == want);
	CHECK(poisoned(&s, sizeof(s)));
	CHECK(same_hash(h, p));
}

static void test_reseal_refuses(void)
{
	static const char wrong[] = "cccccccc-cccccccc-cccccccc-cccccccc-"
				    "cccccccc-cccccccc-cccccccc-cccccccc";
	struct tpm2token bad = token2;

	copy(path("ready.img"), path("rsref.img"));
	reseal_refused("rsref.img", wrong, &token2, -EKEYREJECTED);
	reseal_refused("rsref.img", "not a recovery key", &token2, -EINVAL);
	bad.pcr_values[7][0] ^= 1;	/* would not parse back */
	reseal_refused("rsref.img", recovery, &bad, -EINVAL);
	/* The TPM passphrase is no recovery key, nor opens a recovery slot. */
	reseal_refused("rsref.img", pass, &token2, -EINVAL);
	reseal_refused("blank.img", recovery, &token2, -EMEDIUMTYPE);
	reseal_refused("ext4.img", recovery, &token2, -EMEDIUMTYPE);
	reseal_refused("luks1.img", recovery, &token2, -EMEDIUMTYPE);
	reseal_refused("marker.img", recovery, &token2, -EMEDIUMTYPE);
	/* LUKS2 without a systemd-recovery token: nothing to open. */
	reseal_refused("other.img", recovery, &token2, -ENOENT);
	CHECK(luks_activate(path("rsref.img"), NULL, 0, pass) == 0);
}

static int reseal_stop_at = -1;

static int reseal_cut(enum luks_step step, int fd)
{
	(void)fd;
	return (int)step == reseal_stop_at ? -ECANCELED : 0;
}

static int reseal_cut_at(const char *p, enum luks_step step)
{
	int r;

	reseal_stop_at = (int)step;
	luks_step_hook = reseal_cut;
	r = reseal(p, recovery, secret2, NULL);
	luks_step_hook = NULL;
	return r;
}

/* A power cut in a re-seal, then the re-seal done again. */
static void test_reseal_cuts(void)
{
	const char *p = path("rscut.img");
	struct luks_slots s;
	struct tpm2token t;
	int id = -1;

	/* After the new keyslot: the old ways in, a keyslot no token names. */
	copy(path("ready.img"), p);
	CHECK(reseal_cut_at(p, LUKS_STEP_RESEAL_KEYSLOT) == -ECANCELED);
	CHECK(count_tokens(p, "systemd-tpm2") == 1 && active_keyslots(p) == 3);
	CHECK(luks_tpm2_token(p, 0, &t, &id) == 0 && id == 0 && t.keyslot == 0);
	CHECK(luks_activate(p, NULL, 0, pass) == 0);
	CHECK(luks_activate_recovery(p, NULL, recovery) == 0);
	memset(&s, POISON, sizeof(s));
	CHECK(reseal(p, recovery, secret2, &s) == 0);
	check_resealed(p, &s, pass2);
	CHECK(active_keyslots(p) == 3);	/* the unnamed one stays: inert */

	/* After the new token: new and recovery keys open, the old token is
	 * still there (ahead, failing on its policy in real life). */
	copy(path("ready.img"), p);
	CHECK(reseal_cut_at(p, LUKS_STEP_RESEAL_TOKEN) == -ECANCELED);
	CHECK(count_tokens(p, "systemd-tpm2") == 2 && active_keyslots(p) == 3);
	CHECK(luks_tpm2_token(p, 0, &t, &id) == 0 && id == 0 && t.keyslot == 0);
	CHECK(luks_tpm2_token(p, 1, &t, &id) == 0 && id == 2 && t.keyslot == 2);
	CHECK(t.has_pcr_values);
	CHECK(luks_activate(p, NULL, 2, pass2) == 0);
	CHECK(luks_activate_recovery(p, NULL, recovery) == 0);
	CHECK(sh("printf %%s '%s' | cryptsetup open --test-passphrase "
		 "--key-slot 2 '%s' --key-file -", pass2, p) == 0);
	/* Done again: both earlier TPM tokens and their keyslots go. */
	memset(&s, POISON, sizeof(s));
	CHECK(luks_reseal(p, recovery, secret, &token2, &s) == 0);
	check_resealed(p, &s, pass);
	CHECK(active_keyslots(p) == 2 && !opens_any(p, pass2));
}

/* A header update cut earlier (new primary, stale secondary): the
 * re-seal's own updates write both copies from the current one. */
static void test_reseal_stale_copy(void)
{
	const char *p = path("rsstale.img");
	static uint8_t old2[0x4000];
	struct luks_info info;
	struct luks_slots s;

	copy(path("prov.img"), p);
	get(p, 0x4000, old2, sizeof(old2));
	CHECK(luks_mark_ready(p) == 0);
	put(p, 0x4000, old2, sizeof(old2));
	CHECK(state_of(p, &info) == LUKS_READY && !info.consistent);
	memset(&s, POISON, sizeof(s));
	CHECK(reseal(p, recovery, secret2, &s) == 0);
	check_resealed(p, &s, pass2);
	CHECK(state_of(p, &info) == LUKS_READY && info.consistent);
}

/* A volume systemd-cryptenroll enrolled (user passphrase in slot 0,
 * TPM in slot 1, recovery key in slot 2): re-sealed the same way, the
 * user's slot and the subsystem (none) untouched. */
static void test_reseal_cryptenrolled(void)
{
	const char *p = path("rsenrolled.img");
	struct luks_info info;
	struct luks_slots s;
	FILE *f;

	CHECK(make_cryptenrolled(p) == 0);
	f = fopen(path("rk.key"), "w");
	fputs(recovery, f);
	fclose(f);
	CHECK(sh("cryptsetup luksAddKey -q --key-file '%s' --new-key-slot 2 "
		 "--pbkdf pbkdf2 --hash sha512 --pbkdf-force-iterations 1000 '%s' '%s' "
		 "&& printf '%%s' '{\"type\":\"systemd-recovery\",\"keyslots\":[\"2\"]}' "
		 "| cryptsetup token import --token-id 1 '%s'",
		 path("user.key"), p, path("rk.key"), p) == 0);
	memset(&s, POISON, sizeof(s));
	CHECK(reseal(p, recovery, secret2, &s) == 0);
	CHECK(s.recovery_keyslot == 2 && s.recovery_token == 1);
	CHECK(s.tpm_keyslot == 3 && s.tpm_token == 2);
	check_resealed(p, &s, pass2);
	CHECK(active_keyslots(p) == 3 && !opens_any(p, pass));
	CHECK(sh("cryptsetup open --test-passphrase --key-slot 0 --key-file '%s' '%s'",
		 path("user.key"), p) == 0);
	CHECK(state_of(p, &info) == LUKS_FOREIGN && info.luks2 && info.consistent);
	CHECK(sh("cryptsetup luksDump '%s' | grep -q 'Subsystem:.*(no subsystem)'",
		 p) == 0);
}

/* ---- hostile tokens ---- */

static const char *const hostile[] = {
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[]}",
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"!!\","
	"\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH7 "\"}",
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"" BLOB "\","
	"\"tpm2-pcrs\":[99],\"tpm2-policy-hash\":\"" HASH7 "\"}",
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"" BLOB "\","
	"\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"8b56\"}",
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"" BLOB "\","
	"\"tpm2-pcrs\":[7,7],\"tpm2-policy-hash\":\"" HASH7 "\"}",
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"//8=\","
	"\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH7 "\"}",
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"" BLOB "\","
	"\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH7 "\",\"tpm2-pin\":\"no\"}",
	"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"" BLOB "\","
	"\"tpm2-pcrs\":[7],\"tpm2-policy-hash\":\"" HASH7 "\","
	"\"tpm2_pubkey\":\"AA==\",\"tpm2_pubkey_pcrs\":[11]}",
};

/* Replace token 0 of a copy of the ready image with json, as an offline
 * attacker would: past the validation of systemd's token plugin, which
 * the host's libcryptsetup would otherwise load. */
static int plant(const char *p, const char *json)
{
	struct crypt_device *cd = NULL;
	int r;

	copy(path("ready.img"), p);
	crypt_token_external_disable();
	r = crypt_init(&cd, p);
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == 0)
		r = crypt_token_json_set(cd, 0, NULL);
	if (r >= 0)
		r = crypt_token_json_set(cd, 0, json);
	crypt_free(cd);
	return r < 0 ? r : 0;
}

static void test_hostile_tokens(void)
{
	const char *p = path("hostile.img");
	struct tpm2token t;
	uint8_t h[32];
	int id, r;

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		r = plant(p, hostile[i]);
		CHECK(r == 0);
		if (r)
			printf("  plant %zu: %d\n", i, r);
		hash_file(p, h);
		memset(&t, POISON, sizeof(t));
		id = -7;
		CHECK(luks_tpm2_token(p, 0, &t, &id) == -EBADMSG);
		CHECK(poisoned(&t, sizeof(t)) && id == -7);
		CHECK(same_hash(h, p));
	}

	/* A well-formed token whose keyslot was converted offline to a
	 * memory-hard KDF: refused before libcryptsetup would run it. */
	copy(path("ready.img"), p);
	CHECK(sh("printf %%s '%s' | cryptsetup luksConvertKey -q --key-slot 0 --pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 32768 '%s' --key-file -",
		 pass, p) == 0);
	hash_file(p, h);
	CHECK(luks_tpm2_token(p, 0, &t, &id) == -EBADMSG);
	CHECK(luks_activate(p, NULL, 0, pass) == -EOPNOTSUPP);
	CHECK(same_hash(h, p));

	/* A hostile token ahead of a good one: skipped, the good one used. */
	CHECK(plant(p, hostile[2]) == 0);
	CHECK(sh("cryptsetup token import --token-id 5 '%s' <<'EOF'\n" TOKEN_KS("0") "\nEOF",
		 p) == 0);
	hash_file(p, h);
	CHECK(luks_tpm2_token(p, 0, &t, &id) == 0 && id == 5 && t.keyslot == 0);
	CHECK(luks_activate(p, NULL, (int)t.keyslot, pass) == 0);
	CHECK(same_hash(h, p));
}

/* ---- secrets stay out of the log ---- */

static bool file_has(const char *p, const char *s)
{
	static char buf[1 << 16];
	size_t n;
	FILE *f = fopen(p, "r");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return strstr(buf, s) != NULL;
}

static void test_log_no_secrets(void)
{
	const char *log = path("stderr.log"), *p = path("log.img");
	int saved = dup(STDERR_FILENO), fd;
	uint8_t key[LUKS_VOLUME_KEY_MAX];
	char hex[2 * LUKS_VOLUME_KEY_MAX + 1];
	size_t len = 0;

	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dup2(fd, STDERR_FILENO);
	mkimg(p, IMG_SIZE);
	provision(p, true, NULL);
	luks_activate(p, NULL, 0, "wrong");
	luks_activate_recovery(p, NULL, "cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc");
	luks_volume_key(p, 0, pass, key, &len);
	luks_reseal(p, "cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc-cccccccc",
		    secret2, &token2, &(struct luks_slots){ 0 });
	luks_reseal(p, recovery, secret2, &token2, &(struct luks_slots){ 0 });
	luks_reseal(p, "not a key", secret2, &token2, &(struct luks_slots){ 0 });
	provision(p, true, NULL);
	refuse("ext4.img", -EMEDIUMTYPE);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	explicit_bzero(key, sizeof(key));
	CHECK(len == LUKS_VOLUME_KEY_SIZE);
	CHECK(file_has(log, "sealroot: state: cannot activate"));
	CHECK(file_has(log, "sealroot: state: cannot provision"));
	CHECK(file_has(log, "sealroot: state: cannot re-seal"));
	CHECK(!file_has(log, pass) && !file_has(log, recovery) &&
	      !file_has(log, pass2) && !file_has(log, hex));
	explicit_bzero(hex, sizeof(hex));
}

static void setup(const char *self)
{
	char d[PATH_MAX];
	char msg[TPM2TOKEN_MSG_MAX];
	uint8_t rk[TPM2TOKEN_RECOVERY_SIZE];

	snprintf(d, sizeof(d), "%s", self);
	snprintf(dir, sizeof(dir), "%s/luks.XXXXXX", dirname(d));
	if (!mkdtemp(dir)) {
		perror(dir);
		exit(1);
	}
	srand(1);
	for (size_t i = 0; i < sizeof(secret); i++) {
		secret[i] = (uint8_t)(i * 7 + 1);
		secret2[i] = (uint8_t)(i * 11 + 3);
	}
	for (size_t i = 0; i < sizeof(rk); i++)
		rk[i] = (uint8_t)(0xff - i * 3);
	tpm2token_passphrase(secret, pass);
	tpm2token_passphrase(secret2, pass2);
	tpm2token_recovery_format(rk, recovery);
	if (tpm2token_parse(TOKEN_KS("9"), strlen(TOKEN_KS("9")), &token, msg) < 0 ||
	    tpm2token_parse(TOKEN_VALS, strlen(TOKEN_VALS), &token2, msg) < 0) {
		printf("setup: token: %s\n", msg);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	setup(argv[0]);
	RUN(test_classify);
	RUN(test_provision_refuses);
	RUN(test_round_trip);
	RUN(test_power_cuts);
	RUN(test_ready_cuts);
	RUN(test_invalid_json_copy);
	RUN(test_cryptenrolled);
	RUN(test_reseal);
	RUN(test_reseal_refuses);
	RUN(test_reseal_cuts);
	RUN(test_reseal_stale_copy);
	RUN(test_reseal_cryptenrolled);
	RUN(test_hostile_tokens);
	RUN(test_log_no_secrets);
	sh("rm -rf '%s'", dir);
	return UNIT_EXIT();
}
